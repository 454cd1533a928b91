#include "logguard/server/http_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <system_error>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/status.hpp>
#include <spdlog/spdlog.h>

#include "logguard/base/unique_fd.h"

namespace logguard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

namespace {

// Has each of the pool's threads malloc once now, while the heap is small:
// glibc gives a thread a 656-byte cache header at its first malloc and keeps
// it as long as the thread. Made later, among the memory of hundreds of
// sessions (StopLogging's pool first works when containers stop), each one
// pinned a heap page after the containers had gone (15 pages after 150).
void make_thread_state_now(asio::thread_pool& pool, size_t threads) {
  std::latch all_began(static_cast<std::ptrdiff_t>(threads));
  std::latch all_done(static_cast<std::ptrdiff_t>(threads));
  for (size_t i = 0; i < threads; ++i) {
    asio::post(pool, [&all_began, &all_done] {
      all_began.arrive_and_wait();  // so that each thread takes one
      void* volatile block = std::malloc(1);
      std::free(block);
      all_done.count_down();
    });
  }
  all_done.wait();
}

}  // namespace

struct HttpServer::Context : HttpService, std::enable_shared_from_this<HttpServer::Context> {
  Context(RequestHandler& handler, HttpServerOptions options)
      : handler(handler),
        options(std::move(options)),
        workers(this->options.worker_threads),
        waiters(this->options.waiting_threads),
        streams(this->options.start_thread) {
    make_thread_state_now(workers, this->options.worker_threads);
    make_thread_state_now(waiters, this->options.waiting_threads);
  }

  // On the I/O thread: serve where the handler's mode says.
  void serve(HttpRequest request, std::shared_ptr<HttpConnection> connection) override;
  HttpResponse body_too_large(uint64_t limit) override {
    return response({413, handler.refusal(RequestHandler::Refusal::kBodyTooLarge, limit)});
  }

  static HttpResponse response(RequestHandler::Reply reply);
  void serve_on(asio::thread_pool& pool, std::shared_ptr<HttpConnection> connection,
                std::string path, std::string body);
  void start_stream(std::shared_ptr<HttpConnection> connection, std::string path,
                    std::string body);

  RequestHandler& handler;
  const HttpServerOptions options;
  asio::thread_pool workers;
  asio::thread_pool waiters;
  ThreadRegistry streams;
  std::atomic<size_t> active_streams{0};
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

void HttpServer::Context::serve(HttpRequest request, std::shared_ptr<HttpConnection> connection) {
  std::string path(request.target());
  switch (handler.mode(path)) {
    case RequestHandler::Mode::kInstant:
      connection->reply(response(handler.handle(path, request.body())));
      return;
    case RequestHandler::Mode::kWorker:
      serve_on(workers, std::move(connection), std::move(path), std::move(request.body()));
      return;
    case RequestHandler::Mode::kWaiting:
      serve_on(waiters, std::move(connection), std::move(path), std::move(request.body()));
      return;
    case RequestHandler::Mode::kStream:
      start_stream(std::move(connection), std::move(path), std::move(request.body()));
      return;
  }
}

HttpResponse HttpServer::Context::response(RequestHandler::Reply reply) {
  HttpResponse response(static_cast<http::status>(reply.status), 11);
  response.set(http::field::content_type,
               reply.content_type.empty() ? kJsonType : reply.content_type.c_str());
  response.body() = std::move(reply.json_body);
  response.prepare_payload();
  return response;
}

void HttpServer::Context::serve_on(asio::thread_pool& pool,
                                   std::shared_ptr<HttpConnection> connection, std::string path,
                                   std::string body) {
  asio::post(pool, [self = shared_from_this(), connection = std::move(connection),
                    path = std::move(path), body = std::move(body)] {
    connection->reply(response(self->handler.handle(path, body)));
  });
}

// The stream's thread owns the descriptor from here on, with blocking I/O.
void HttpServer::Context::start_stream(std::shared_ptr<HttpConnection> connection,
                                       std::string path, std::string body) {
  const size_t limit = options.max_streams;
  if (active_streams.fetch_add(1) >= limit) {
    active_streams.fetch_sub(1);
    connection->reply(
        response({503, handler.refusal(RequestHandler::Refusal::kTooManyStreams, limit)}));
    return;
  }
  try {
    connection->hand_over([&](int fd) {
      streams.spawn([self = shared_from_this(), fd, path, body = std::move(body)] {
        {
          ResponseStream out(fd);
          self->handler.stream(path, body, out);
        }
        self->active_streams.fetch_sub(1);
      });
    });
  } catch (const std::system_error& e) {
    active_streams.fetch_sub(1);
    spdlog::error("cannot start a thread for {}: {}", path, e.what());
    connection->reply(response({503, handler.refusal(RequestHandler::Refusal::kNoThread, 0)}),
                      true);
  }
}

namespace {

// Binds a fresh socket file at path (see the constructor's contract).
unix_socket::acceptor listen_on(asio::io_context& io, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  if (someone_listens(path)) {
    throw std::system_error(EADDRINUSE, std::generic_category(),
                            "another server is listening on " + path);
  }
  ::unlink(path.c_str());
  unix_socket::endpoint endpoint(path);
  unix_socket::acceptor acceptor(io);
  acceptor.open(endpoint.protocol());
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

HttpListenerOptions listener_options(const HttpServerOptions& options, const std::string& path) {
  return {.name = path,
          .limits = {options.max_request_body, options.read_timeout},
          .accept_backoff_min = options.accept_backoff_min,
          .accept_backoff_max = options.accept_backoff_max,
          .on_accept_error = options.on_accept_error};
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const std::string& socket_path,
                       RequestHandler& handler, HttpServerOptions options)
    : context_(std::make_shared<Context>(handler, std::move(options))),
      listener_(std::make_shared<HttpListener<unix_socket>>(
          listen_on(io, socket_path), context_, listener_options(context_->options, socket_path))),
      socket_path_(socket_path) {}

HttpServer::~HttpServer() {
  stop();
  join();
}

void HttpServer::start() { listener_->start(); }

size_t HttpServer::active_streams() const { return context_->active_streams.load(); }

void HttpServer::stop() {
  listener_->stop([path = socket_path_] { ::unlink(path.c_str()); });
}

void HttpServer::join() {
  context_->workers.join();
  context_->waiters.join();
  context_->streams.join_all();
}

}  // namespace logguard
