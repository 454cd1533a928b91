// MetricsServer: GET /metrics over TCP, at the plugin setting METRICS_ADDR,
// for a Prometheus that cannot reach the plugin's unix socket (a managed
// plugin needs host networking for this: config.json's "network"). Beast on
// the plugin's io_context; a scrape is answered on the I/O thread, as it only
// reads counters. Other paths are 404, other methods 405 (HEAD is a GET
// without the body). Accepting and connections are the plugin socket's
// (http_listener.h, http_connection.h): read deadline, keep-alive, accept
// back-off when out of descriptors; a body over 64 KiB is answered 413.
//
// The metrics must never cost the node its logs: a port that is taken (an
// old plugin process still holds it) is logged and tried again every
// rebind_interval, while logging goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace logguard {

// The built-in METRICS_ADDR (config.json carries the same).
inline constexpr const char* kDefaultMetricsAddr = "127.0.0.1:9464";

struct MetricsAddress {
  std::string host;  // an IP address literal: 127.0.0.1, 0.0.0.0, ::1, ::
  uint16_t port = 0;
  std::string describe() const;  // "127.0.0.1:9464", "[::1]:9464"
};

// "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464", ":9464" (every IPv4
// interface); "off" (any case) or empty: nullopt. Throws OptionError naming
// the setting, e.g. `logguard: invalid plugin setting METRICS_ADDR "x":
// want host:port such as 127.0.0.1:9464, or off`.
std::optional<MetricsAddress> parse_metrics_addr(std::string_view text);

class MetricsServer {
 public:
  using ScrapeFn = std::function<std::string()>;
  struct Options {
    std::chrono::milliseconds read_timeout{30'000};  // per request, and per reply
    std::chrono::milliseconds rebind_interval{10'000};
  };

  // Nothing happens before start(). address.port 0: any free port (tests).
  MetricsServer(boost::asio::io_context& io, MetricsAddress address, ScrapeFn scrape,
                Options options);
  MetricsServer(boost::asio::io_context& io, MetricsAddress address, ScrapeFn scrape)
      : MetricsServer(io, std::move(address), std::move(scrape), Options()) {}
  ~MetricsServer();

  // Binds and starts accepting, or logs why it cannot and tries again later.
  // Returns whether it listens now.
  bool start();
  // Stops accepting and retrying; open connections end after their reply.
  void stop();
  // The port it listens on; 0 while not listening.
  uint16_t port() const;

  struct Context;

 private:
  std::shared_ptr<Context> context_;
};

}  // namespace logguard
