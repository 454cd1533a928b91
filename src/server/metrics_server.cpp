#include "logguard/server/metrics_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "logguard/config/options.h"
#include "logguard/metrics/metrics.h"
#include "logguard/server/http_listener.h"

namespace logguard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
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

namespace {

// GET /metrics, answered on the I/O thread: a scrape only reads counters.
class MetricsService : public HttpService {
 public:
  explicit MetricsService(MetricsServer::ScrapeFn scrape) : scrape_(std::move(scrape)) {}

  void serve(HttpRequest request, std::shared_ptr<HttpConnection> connection) override {
    connection->reply(answer(request));
  }
  HttpResponse body_too_large(uint64_t) override {
    return text(http::status::payload_too_large, "a scrape has no body\n");
  }

 private:
  HttpResponse answer(const HttpRequest& request) const {
    const std::string_view target(request.target().data(), request.target().size());
    if (target.substr(0, target.find('?')) != "/metrics") {
      return text(http::status::not_found, "logguard serves /metrics only\n");
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      HttpResponse refused = text(http::status::method_not_allowed, "use GET\n");
      refused.set(http::field::allow, "GET, HEAD");
      return refused;
    }
    HttpResponse ok = reply(http::status::ok, Metrics::kContentType, scrape_());
    if (request.method() == http::verb::head) ok.body().clear();  // its length stays
    return ok;
  }

  static HttpResponse text(http::status status, std::string body) {
    return reply(status, "text/plain", std::move(body));
  }
  static HttpResponse reply(http::status status, const char* type, std::string body) {
    HttpResponse response(status, 11);
    response.set(http::field::content_type, type);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  const MetricsServer::ScrapeFn scrape_;
};

}  // namespace

// Binding and rebinding, on the I/O thread once io.run() runs.
struct MetricsServer::Context {
  Context(asio::io_context& io, MetricsAddress address, ScrapeFn scrape, Options options)
      : io(io),
        rebind_timer(io),
        address(std::move(address)),
        service(std::make_shared<MetricsService>(std::move(scrape))),
        options(options) {}

  asio::io_context& io;
  asio::steady_timer rebind_timer;
  const MetricsAddress address;
  const std::shared_ptr<MetricsService> service;
  const Options options;
  std::shared_ptr<HttpListener<tcp>> listener;  // while bound
  bool stopped = false;
  bool warned = false;  // about the current bind failure
  std::atomic<uint16_t> port{0};
};

namespace {

using Context = MetricsServer::Context;

bool listen(std::shared_ptr<Context> context);

void rebind_later(std::shared_ptr<Context> context) {
  context->rebind_timer.expires_after(context->options.rebind_interval);
  context->rebind_timer.async_wait([context](boost::system::error_code ec) {
    if (!ec && !context->stopped) listen(context);
  });
}

void warn_once(Context& context, const boost::system::error_code& error) {
  if (context.warned) return;
  spdlog::error("metrics: cannot listen on {}: {}; logging goes on, /metrics stays on the "
                "plugin socket; trying again every {} s",
                context.address.describe(), error.message(),
                context.options.rebind_interval.count() / 1000);
  context.warned = true;
}

HttpListenerOptions listener_options(const Context& context, std::string name) {
  HttpListenerOptions options;
  options.name = std::move(name);
  options.limits = {kMaxRequestBody, context.options.read_timeout};
  return options;
}

bool listen(std::shared_ptr<Context> context) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(context->address.host, ec),
                               context->address.port);
  tcp::acceptor acceptor(context->io);
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    warn_once(*context, ec);
    rebind_later(std::move(context));
    return false;
  }
  MetricsAddress bound = context->address;
  bound.port = acceptor.local_endpoint(ec).port();
  context->port = bound.port;
  spdlog::info("metrics: serving http://{}/metrics", bound.describe());
  context->warned = false;
  context->listener = std::make_shared<HttpListener<tcp>>(
      std::move(acceptor), context->service, listener_options(*context, bound.describe()));
  context->listener->start();
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
    context->rebind_timer.cancel();
    if (context->listener) context->listener->stop();
    context->port = 0;
  });
}

uint16_t MetricsServer::port() const { return context_->port.load(); }

}  // namespace logguard
