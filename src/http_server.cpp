#include "logguard/http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace logguard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

namespace {

// The engine decodes any JSON; this is the type plugins customarily answer.
constexpr const char* kJsonType = "application/vnd.docker.plugins.v1+json";
// StartLogging carries the container's whole environment; be generous.
constexpr uint64_t kMaxRequestBody = 16 << 20;

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One connection: reads requests, runs the handler off the I/O thread,
// writes the replies; keep-alive as the engine's Go client expects.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(unix_socket::socket socket, RequestHandler& handler, asio::thread_pool& workers,
             ThreadRegistry& streams)
      : socket_(std::move(socket)), handler_(handler), workers_(workers), streams_(streams) {}

  void start() { read_request(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](boost::beast::error_code ec, size_t) {
                       self->on_request(ec);
                     });
  }

  void on_request(boost::beast::error_code ec) {
    if (ec) return;  // peer closed or sent garbage: drop the connection
    auto request = parser_->release();
    std::string path(request.target());
    if (handler_.is_streaming(path)) {
      hand_over_to_stream(std::move(path), std::move(request.body()));
      return;
    }
    keep_alive_ = request.keep_alive();
    asio::post(workers_, [self = shared_from_this(), path = std::move(path),
                          body = std::move(request.body())] {
      RequestHandler::Reply reply;
      try {
        reply = self->handler_.handle(path, body);
      } catch (const std::exception& e) {
        reply = {500, nlohmann::json{{"Err", e.what()}}.dump()};
      }
      asio::dispatch(self->socket_.get_executor(),
                     [self, reply = std::move(reply)]() mutable { self->write_reply(std::move(reply)); });
    });
  }

  void write_reply(RequestHandler::Reply reply) {
    response_.emplace(static_cast<http::status>(reply.status), 11);
    response_->set(http::field::content_type, kJsonType);
    response_->body() = std::move(reply.json_body);
    response_->keep_alive(keep_alive_);
    response_->prepare_payload();
    http::async_write(socket_, *response_,
                      [self = shared_from_this()](boost::beast::error_code ec, size_t) {
                        if (!ec && self->keep_alive_) self->read_request();
                      });
  }

  // The stream's thread owns the descriptor from here on, with blocking I/O.
  void hand_over_to_stream(std::string path, std::string body) {
    int fd = socket_.release();
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    RequestHandler& handler = handler_;
    streams_.spawn([&handler, fd, path = std::move(path), body = std::move(body)] {
      ResponseStream out(fd);
      handler.stream(path, body, out);
    });
  }

  unix_socket::socket socket_;
  RequestHandler& handler_;
  asio::thread_pool& workers_;
  ThreadRegistry& streams_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  bool keep_alive_ = true;
};

}  // namespace

ResponseStream::~ResponseStream() { ::close(fd_); }

bool ResponseStream::begin(std::string_view content_type) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: ";
  head.append(content_type);
  head += "\r\nConnection: close\r\n\r\n";
  return write_all(fd_, head);
}

void ResponseStream::reply(unsigned status, std::string_view json_body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(status))) +
                     "\r\nContent-Type: " + std::string(kJsonType) +
                     "\r\nContent-Length: " + std::to_string(json_body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  if (write_all(fd_, head)) write_all(fd_, json_body);
}

bool ResponseStream::write(std::string_view data) { return write_all(fd_, data); }

HttpServer::HttpServer(asio::io_context& io, const std::string& socket_path, RequestHandler& handler,
                       size_t worker_threads)
    : io_(io), acceptor_(io), socket_path_(socket_path), handler_(handler), workers_(worker_threads) {
  std::filesystem::create_directories(std::filesystem::path(socket_path).parent_path());
  ::unlink(socket_path.c_str());
  unix_socket::endpoint endpoint(socket_path);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

HttpServer::~HttpServer() {
  stop();
  join();
}

void HttpServer::start() { accept(); }

void HttpServer::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::beast::error_code ec,
                                                         unix_socket::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      std::make_shared<Connection>(std::move(socket), handler_, workers_, streams_)->start();
    } else {
      spdlog::warn("accept on {} failed: {}", socket_path_, ec.message());
    }
    accept();
  });
}

void HttpServer::stop() {
  asio::dispatch(io_, [this] {
    boost::system::error_code ignored;
    if (acceptor_.is_open()) {
      acceptor_.close(ignored);
      ::unlink(socket_path_.c_str());
    }
  });
}

void HttpServer::join() {
  workers_.join();
  streams_.join_all();
}

}  // namespace logguard
