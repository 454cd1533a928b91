#include "logguard/server/http_connection.h"

#include <fcntl.h>

#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace logguard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr uint32_t kMaxHeader = 8 * 1024;  // Beast's default, which both servers always had

template <class Protocol>
class Connection final : public HttpConnection,
                         public std::enable_shared_from_this<Connection<Protocol>> {
 public:
  Connection(typename Protocol::socket socket, std::shared_ptr<HttpConnectionContext> context)
      : stream_(std::move(socket)), context_(std::move(context)) {}

  void read_request() {
    parser_.emplace();
    parser_->header_limit(kMaxHeader);
    parser_->body_limit(limits().max_request_body);
    stream_.expires_after(limits().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->on_request(ec);
                     });
  }

  void reply(HttpResponse response, bool close) override {
    // Inline when the service answers on the I/O thread, posted from a pool.
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this(),
                                            response = std::move(response), close]() mutable {
      self->write(std::move(response), close);
    });
  }

  void hand_over(const std::function<void(int fd)>& start) override {
    beast::error_code ignored;
    const auto protocol = stream_.socket().local_endpoint(ignored).protocol();
    const int fd = stream_.release_socket().release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    try {
      start(fd);
    } catch (...) {
      stream_.socket().assign(protocol, fd);
      throw;
    }
  }

 private:
  const HttpLimits& limits() const { return context_->limits; }

  void on_request(beast::error_code ec) {
    stream_.expires_never();  // the service may take its time
    version_ = parser_->get().version();
    if (ec == http::error::body_limit) {
      write(context_->service->body_too_large(limits().max_request_body), true);
      return;
    }
    if (ec || context_->stopped) return;  // closed, timed out, not HTTP, or stopping
    HttpRequest request = parser_->release();
    keep_alive_ = request.keep_alive();
    context_->service->serve(std::move(request), this->shared_from_this());
  }

  void write(HttpResponse response, bool close) {
    keep_alive_ = keep_alive_ && !close;
    response_.emplace(std::move(response));
    response_->version(version_);
    response_->keep_alive(keep_alive_);
    stream_.expires_after(limits().read_timeout);  // a peer that never reads
    http::async_write(stream_, *response_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (self->keep_alive_) {
                          self->read_request();
                        } else {
                          self->close_after_peer();
                        }
                      });
  }

  void close_after_peer() {
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_send, ignored);
    stream_.expires_after(limits().read_timeout);
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->close_after_peer();
                            });
  }

  beast::basic_stream<Protocol, asio::any_io_executor> stream_;
  const std::shared_ptr<HttpConnectionContext> context_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;  // alive while it is written
  unsigned version_ = 11;
  bool keep_alive_ = true;
  char discard_[4096];
};

}  // namespace

template <class Protocol>
void start_http_connection(typename Protocol::socket socket,
                           std::shared_ptr<HttpConnectionContext> context) {
  std::make_shared<Connection<Protocol>>(std::move(socket), std::move(context))->read_request();
}

template void start_http_connection<asio::local::stream_protocol>(
    asio::local::stream_protocol::socket, std::shared_ptr<HttpConnectionContext>);
template void start_http_connection<asio::ip::tcp>(asio::ip::tcp::socket,
                                                   std::shared_ptr<HttpConnectionContext>);

}  // namespace logguard
