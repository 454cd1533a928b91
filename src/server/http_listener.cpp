#include "logguard/server/http_listener.h"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace logguard {

namespace asio = boost::asio;

template <class Protocol>
HttpListener<Protocol>::HttpListener(typename Protocol::acceptor acceptor,
                                     std::shared_ptr<HttpService> service,
                                     HttpListenerOptions options)
    : acceptor_(std::move(acceptor)),
      pause_(acceptor_.get_executor()),
      options_(std::move(options)),
      connections_(std::make_shared<HttpConnectionContext>(std::move(service), options_.limits)) {}

template <class Protocol>
void HttpListener<Protocol>::start() {
  accept();
}

template <class Protocol>
void HttpListener<Protocol>::stop(std::function<void()> closed) {
  connections_->stopped = true;
  asio::dispatch(acceptor_.get_executor(), [self = this->shared_from_this(), closed] {
    self->pause_.cancel();
    if (!self->acceptor_.is_open()) return;
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    if (closed) closed();
  });
}

// Connections use the I/O thread's own executor: one thread runs the
// io_context, so a connection's handlers never run at once without a strand.
// A strand would cost more than its lock: asio gives each new strand one of
// 193 mutexes, made when first needed and kept for the process's life, and
// made while containers come they stayed scattered over the heap after the
// containers had gone, one pinned page each (42 pages after 150 containers).
template <class Protocol>
void HttpListener<Protocol>::accept() {
  acceptor_.async_accept(
      acceptor_.get_executor(),
      [self = this->shared_from_this()](boost::system::error_code ec,
                                        typename Protocol::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

template <class Protocol>
void HttpListener<Protocol>::on_accept(const boost::system::error_code& error,
                                       typename Protocol::socket socket) {
  if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (error) {
    back_off(error);
    return;
  }
  if (failures_ > 0) {
    spdlog::info("accepting connections on {} again after {} failed attempts", options_.name,
                 failures_);
    failures_ = 0;
  }
  start_http_connection<Protocol>(std::move(socket), connections_);
  accept();
}

template <class Protocol>
void HttpListener<Protocol>::back_off(const boost::system::error_code& error) {
  backoff_ = failures_ == 0 ? options_.accept_backoff_min
                            : std::min(backoff_ * 2, options_.accept_backoff_max);
  if (failures_++ == 0) {
    spdlog::warn("accept on {} failed: {}; retrying every {} ms at most until it works",
                 options_.name, error.message(), options_.accept_backoff_max.count());
  }
  if (options_.on_accept_error) options_.on_accept_error(error, backoff_);
  pause_.expires_after(backoff_);
  pause_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->acceptor_.is_open()) self->accept();
  });
}

template class HttpListener<asio::local::stream_protocol>;
template class HttpListener<asio::ip::tcp>;

}  // namespace logguard
