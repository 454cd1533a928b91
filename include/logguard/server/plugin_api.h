// PluginApi: Docker's logging-plugin protocol on top of the Driver. Says how
// each endpoint is served (http_server.h), decodes the engine's requests
// (plugin_requests.h), answers {"Err": ...} on failure and never an empty
// 200 body, and streams ReadLogs as length-prefixed LogEntry frames.
//
// It also serves GET /metrics (metrics.h) on the same socket, answered on
// the I/O thread like Capabilities: a scrape only reads counters.
//
// Nothing thrown below it escapes: every failure becomes a reply, so an
// exception can never reach a thread pool and end the process.
#pragma once

#include "logguard/driver/driver.h"
#include "logguard/server/http_server.h"
#include "logguard/metrics/metrics.h"

namespace logguard {

class PluginApi : public RequestHandler {
 public:
  // metrics may be null: /metrics is then unknown.
  explicit PluginApi(Driver& driver, Metrics* metrics = nullptr)
      : driver_(driver), metrics_(metrics) {}

  // Activate, Capabilities and unknown paths are instant; StartLogging runs
  // on a worker; StopLogging, which waits for the session to drain, on the
  // waiting pool; ReadLogs streams.
  Mode mode(std::string_view path) const noexcept override;
  Reply handle(std::string_view path, const std::string& body) noexcept override;
  void stream(std::string_view path, const std::string& body,
              ResponseStream& out) noexcept override;
  std::string refusal(Refusal why, uint64_t limit) const noexcept override;

 private:
  Reply serve(std::string_view path, const std::string& body);

  Driver& driver_;
  Metrics* metrics_;
};

}  // namespace logguard
