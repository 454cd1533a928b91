#include "logguard/server/metrics_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "logguard/metrics/metrics.h"
#include "logguard/config/options.h"

namespace logguard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr uint64_t kMaxRequestBody = 64 * 1024;  // a scrape has none

[[noreturn]] void bad_addr(std::string_view text) {
  throw OptionError("logguard: invalid plugin setting METRICS_ADDR \"" + std::string(text) +
                    "\": want host:port with an IP address such as 127.0.0.1:9464 or "
                    "[::1]:9464, or off");
}

}  // namespace

std::string MetricsAddress::describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<MetricsAddress> parse_metrics_addr(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.empty() || lower == "off") return std::nullopt;
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) bad_addr(text);
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) bad_addr(text);
  } else if (host.find(':') != std::string_view::npos) {
    bad_addr(text);  // an IPv6 address needs brackets
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    bad_addr(text);
  }
  MetricsAddress address{host.empty() ? "0.0.0.0" : std::string(host),
                         static_cast<uint16_t>(port)};
  boost::system::error_code parse_error;
  asio::ip::make_address(address.host, parse_error);
  if (parse_error) bad_addr(text);
  return address;
}

struct MetricsServer::Context {
  Context(asio::io_context& io, MetricsAddress address, ScrapeFn scrape, Options options)
      : io(io),
        acceptor(io),
        timer(io),
        address(std::move(address)),
        scrape(std::move(scrape)),
        options(options) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer timer;  // rebinding, and pauses after failed accepts
  const MetricsAddress address;
  const ScrapeFn scrape;
  const Options options;
  bool stopped = false;
  bool warned = false;  // about the current bind failure
  std::atomic<uint16_t> port{0};
};

namespace {

using Context = MetricsServer::Context;

// One connection: requests in, scrapes out, keep-alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Context> context)
      : stream_(std::move(socket)), context_(std::move(context)) {}

  void read_request() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    stream_.expires_after(context_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec && !self->context_->stopped) self->answer();
                     });
  }

 private:
  void answer() {
    const auto& request = parser_->get();
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    response_.emplace();
    response_->version(request.version());
    response_->keep_alive(request.keep_alive());
    if (path != "/metrics") {
      reply(http::status::not_found, "text/plain", "logguard serves /metrics only\n");
    } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response_->set(http::field::allow, "GET, HEAD");
      reply(http::status::method_not_allowed, "text/plain", "use GET\n");
    } else {
      reply(http::status::ok, Metrics::kContentType, context_->scrape());
      if (request.method() == http::verb::head) response_->body().clear();
    }
    stream_.expires_after(context_->options.read_timeout);  // a peer that never reads
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->response_->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                          return;
                        }
                        self->read_request();
                      });
  }

  void reply(http::status status, const char* type, std::string body) {
    response_->result(status);
    response_->set(http::field::content_type, type);
    response_->body() = std::move(body);
    response_->prepare_payload();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Context> context_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

void accept(std::shared_ptr<Context> context);

void retry_later(std::shared_ptr<Context> context, std::chrono::milliseconds after,
                 void (*what)(std::shared_ptr<Context>)) {
  context->timer.expires_after(after);
  context->timer.async_wait([context, what](boost::system::error_code ec) {
    if (!ec && !context->stopped) what(context);
  });
}

void accept(std::shared_ptr<Context> context) {
  auto& acceptor = context->acceptor;
  acceptor.async_accept([context = std::move(context)](boost::system::error_code ec,
                                                       tcp::socket socket) {
    if (ec == asio::error::operation_aborted || context->stopped) return;
    if (ec) {
      // Out of descriptors: the connection waits in the backlog; pause.
      spdlog::debug("metrics: accept failed: {}", ec.message());
      retry_later(context, std::chrono::milliseconds(1000), accept);
      return;
    }
    std::make_shared<Connection>(std::move(socket), context)->read_request();
    accept(context);
  });
}

bool listen(std::shared_ptr<Context> context) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(context->address.host, ec),
                               context->address.port);
  auto& acceptor = context->acceptor;
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    if (!context->warned) {
      spdlog::error("metrics: cannot listen on {}: {}; logging goes on, /metrics stays on the "
                    "plugin socket; trying again every {} s",
                    context->address.describe(), ec.message(),
                    context->options.rebind_interval.count() / 1000);
      context->warned = true;
    }
    retry_later(context, context->options.rebind_interval,
                [](std::shared_ptr<Context> c) { listen(std::move(c)); });
    return false;
  }
  MetricsAddress bound = context->address;
  bound.port = acceptor.local_endpoint(ec).port();
  context->port = bound.port;
  spdlog::info("metrics: serving http://{}/metrics", bound.describe());
  context->warned = false;
  accept(context);
  return true;
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, MetricsAddress address, ScrapeFn scrape,
                             Options options)
    : context_(std::make_shared<Context>(io, std::move(address), std::move(scrape), options)) {}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::start() { return listen(context_); }

void MetricsServer::stop() {
  asio::dispatch(context_->io, [context = context_] {
    context->stopped = true;
    context->timer.cancel();
    boost::system::error_code ignored;
    context->acceptor.close(ignored);
    context->port = 0;
  });
}

uint16_t MetricsServer::port() const { return context_->port.load(); }

}  // namespace logguard
