#include "logguard/server/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "logguard/base/unique_fd.h"

namespace logguard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using unix_socket = asio::local::stream_protocol;
using Stream = beast::basic_stream<unix_socket, asio::any_io_executor>;

struct HttpServer::Context {
  Context(asio::io_context& io, std::string socket_path, RequestHandler& handler,
          HttpServerOptions options)
      : io(io),
        acceptor(io),
        accept_timer(io),
        socket_path(std::move(socket_path)),
        handler(handler),
        options(std::move(options)),
        workers(this->options.worker_threads),
        waiters(this->options.waiting_threads),
        streams(this->options.start_thread) {}

  asio::io_context& io;
  // Used on the I/O thread only.
  unix_socket::acceptor acceptor;
  asio::steady_timer accept_timer;
  const std::string socket_path;
  std::chrono::milliseconds accept_backoff{0};
  uint64_t accept_failures = 0;  // in the current episode

  RequestHandler& handler;
  const HttpServerOptions options;
  asio::thread_pool workers;
  asio::thread_pool waiters;
  ThreadRegistry streams;
  std::atomic<size_t> active_streams{0};
  std::atomic<bool> stopped{false};
};

namespace {

// The engine decodes any JSON; this is the type plugins customarily answer.
constexpr const char* kJsonType = "application/vnd.docker.plugins.v1+json";

// Sends all of data; false once the client is gone (no exception: a client
// leaving is a normal end of a stream).
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One connection: reads requests, serves each where its mode says, writes
// the replies; keep-alive as the engine's Go client expects.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(unix_socket::socket socket, std::shared_ptr<HttpServer::Context> context)
      : stream_(std::move(socket)), context_(std::move(context)), handler_(context_->handler) {}

  void start() { read_request(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(context_->options.max_request_body);
    stream_.expires_after(context_->options.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_request(ec); });
  }

  void on_request(beast::error_code ec) {
    stream_.expires_never();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      write_reply({413, handler_.refusal(RequestHandler::Refusal::kBodyTooLarge,
                                         context_->options.max_request_body)});
      return;
    }
    if (ec || context_->stopped) return;  // closed, timed out, not HTTP, or shutting down
    auto request = parser_->release();
    keep_alive_ = request.keep_alive();
    std::string path(request.target());
    switch (handler_.mode(path)) {
      case RequestHandler::Mode::kInstant:
        write_reply(handler_.handle(path, request.body()));
        return;
      case RequestHandler::Mode::kWorker:
        serve_on(context_->workers, std::move(path), std::move(request.body()));
        return;
      case RequestHandler::Mode::kWaiting:
        serve_on(context_->waiters, std::move(path), std::move(request.body()));
        return;
      case RequestHandler::Mode::kStream:
        start_stream(std::move(path), std::move(request.body()));
        return;
    }
  }

  void serve_on(asio::thread_pool& pool, std::string path, std::string body) {
    asio::post(pool, [self = shared_from_this(), path = std::move(path), body = std::move(body)] {
      RequestHandler::Reply reply = self->handler_.handle(path, body);
      asio::dispatch(self->stream_.get_executor(), [self, reply = std::move(reply)]() mutable {
        self->write_reply(std::move(reply));
      });
    });
  }

  void write_reply(RequestHandler::Reply reply) {
    response_.emplace(static_cast<http::status>(reply.status), 11);
    response_->set(http::field::content_type,
                   reply.content_type.empty() ? kJsonType : reply.content_type.c_str());
    response_->body() = std::move(reply.json_body);
    response_->keep_alive(keep_alive_);
    response_->prepare_payload();
    stream_.expires_after(context_->options.read_timeout);  // a peer that never reads
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (self->keep_alive_) {
                          self->read_request();
                        } else {
                          self->close_after_peer();
                        }
                      });
  }

  // A peer still sending a body we refused would see its write fail and
  // might never read our reply. Stop sending, drop what arrives until it
  // closes (or the deadline), then close.
  void close_after_peer() {
    beast::error_code ignored;
    stream_.socket().shutdown(unix_socket::socket::shutdown_send, ignored);
    stream_.expires_after(context_->options.read_timeout);
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->close_after_peer();
                            });
  }

  // The stream's thread owns the descriptor from here on, with blocking I/O.
  void start_stream(std::string path, std::string body) {
    const size_t limit = context_->options.max_streams;
    if (context_->active_streams.fetch_add(1) >= limit) {
      context_->active_streams.fetch_sub(1);
      write_reply({503, handler_.refusal(RequestHandler::Refusal::kTooManyStreams, limit)});
      return;
    }
    const int fd = stream_.release_socket().release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    try {
      context_->streams.spawn([context = context_, fd, path, body = std::move(body)] {
        {
          ResponseStream out(fd);
          context->handler.stream(path, body, out);
        }
        context->active_streams.fetch_sub(1);
      });
    } catch (const std::system_error& e) {
      context_->active_streams.fetch_sub(1);
      spdlog::error("cannot start a thread for {}: {}", path, e.what());
      stream_.socket().assign(unix_socket(), fd);
      keep_alive_ = false;
      write_reply({503, handler_.refusal(RequestHandler::Refusal::kNoThread, 0)});
    }
  }

  Stream stream_;
  std::shared_ptr<HttpServer::Context> context_;
  RequestHandler& handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  bool keep_alive_ = true;
  char discard_[4096];
};

// Whether a server is listening on path now (a socket file left by a dead
// process refuses connections).
bool someone_listens(const std::string& path) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) throw_errno("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;  // bind() will say why
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return ::connect(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

ResponseStream::~ResponseStream() { ::close(fd_); }

bool ResponseStream::begin(std::string_view content_type) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: ";
  head.append(content_type);
  head += "\r\nConnection: close\r\n\r\n";
  return send_all(fd_, head);
}

void ResponseStream::reply(unsigned status, std::string_view json_body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(status))) +
                     "\r\nContent-Type: " + std::string(kJsonType) +
                     "\r\nContent-Length: " + std::to_string(json_body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  if (send_all(fd_, head)) send_all(fd_, json_body);
}

bool ResponseStream::write(std::string_view data) { return send_all(fd_, data); }

namespace {

// Accepts connections until the acceptor closes; after a failure, pauses first.
void accept(std::shared_ptr<HttpServer::Context> context);

// Out of descriptors (EMFILE, ENFILE) or memory, the pending connection
// stays in the queue and an immediate retry fails again at once: that loop
// would spin the I/O thread. Pause, longer each time, and say so once.
void back_off(std::shared_ptr<HttpServer::Context> context,
              const boost::system::error_code& error) {
  const auto& options = context->options;
  context->accept_backoff = context->accept_failures == 0
                                ? options.accept_backoff_min
                                : std::min(context->accept_backoff * 2, options.accept_backoff_max);
  if (context->accept_failures++ == 0) {
    spdlog::warn("accept on {} failed: {}; retrying every {} ms at most until it works",
                 context->socket_path, error.message(), options.accept_backoff_max.count());
  }
  if (options.on_accept_error) options.on_accept_error(error, context->accept_backoff);
  context->accept_timer.expires_after(context->accept_backoff);
  context->accept_timer.async_wait([context](boost::system::error_code ec) {
    if (!ec && context->acceptor.is_open()) accept(context);
  });
}

void accept(std::shared_ptr<HttpServer::Context> context) {
  auto& acceptor = context->acceptor;
  auto strand = asio::make_strand(context->io);
  acceptor.async_accept(strand, [context = std::move(context)](boost::system::error_code ec,
                                                               unix_socket::socket socket) {
    if (ec == asio::error::operation_aborted || !context->acceptor.is_open()) return;
    if (ec) {
      back_off(context, ec);
      return;
    }
    if (context->accept_failures > 0) {
      spdlog::info("accepting connections on {} again after {} failed attempts",
                   context->socket_path, context->accept_failures);
      context->accept_failures = 0;
    }
    std::make_shared<Connection>(std::move(socket), context)->start();
    accept(context);
  });
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const std::string& socket_path,
                       RequestHandler& handler, HttpServerOptions options)
    : context_(std::make_shared<Context>(io, socket_path, handler, std::move(options))) {
  std::filesystem::create_directories(std::filesystem::path(socket_path).parent_path());
  if (someone_listens(socket_path)) {
    throw std::system_error(EADDRINUSE, std::generic_category(),
                            "another server is listening on " + socket_path);
  }
  ::unlink(socket_path.c_str());
  unix_socket::endpoint endpoint(socket_path);
  auto& acceptor = context_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

HttpServer::~HttpServer() {
  stop();
  join();
}

void HttpServer::start() { accept(context_); }

size_t HttpServer::active_streams() const { return context_->active_streams.load(); }

void HttpServer::stop() {
  context_->stopped = true;
  asio::dispatch(context_->io, [context = context_] {
    boost::system::error_code ignored;
    context->accept_timer.cancel();
    if (context->acceptor.is_open()) {
      context->acceptor.close(ignored);
      ::unlink(context->socket_path.c_str());
    }
  });
}

void HttpServer::join() {
  context_->workers.join();
  context_->waiters.join();
  context_->streams.join_all();
}

}  // namespace logguard
