// HttpListener: accepts connections on a listening acceptor, the plugin's
// unix socket or the metrics TCP port, and serves each with an
// HttpConnection (http_connection.h), answered by one HttpService. Used on
// the thread that runs the io_context, which must be the only one: the
// connections use the io_context's executor, not strands, so that one thread
// is what keeps a connection's handlers from running at once.
//
// Out of file descriptors (or memory), accept() fails at once while the
// connection waits in the backlog, and an immediate retry would spin the I/O
// thread. So the listener pauses, from accept_backoff_min doubling up to
// accept_backoff_max, logs once per such episode (and once when accepting
// works again), and recovers when descriptors are free again.
//
// Ownership (as in Boost.Beast's examples): made with make_shared; its owner
// and its pending accept or back-off pause hold it. stop() ends both, after
// which only the owner does. Dropping the owner's pointer does not stop it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "logguard/server/http_connection.h"

namespace logguard {

struct HttpListenerOptions {
  std::string name;  // in log lines: the socket's path, the metrics address
  HttpLimits limits;
  std::chrono::milliseconds accept_backoff_min{10};
  std::chrono::milliseconds accept_backoff_max{1000};
  // Seam for tests: called on the I/O thread after each failed accept, with
  // the pause before the next.
  std::function<void(const boost::system::error_code&, std::chrono::milliseconds)> on_accept_error;
};

// Instantiated for boost::asio::local::stream_protocol and ip::tcp.
template <class Protocol>
class HttpListener : public std::enable_shared_from_this<HttpListener<Protocol>> {
 public:
  // acceptor: bound and listening.
  HttpListener(typename Protocol::acceptor acceptor, std::shared_ptr<HttpService> service,
               HttpListenerOptions options);

  // Starts accepting.
  void start();
  // From any thread. Open connections take no new requests from now on;
  // then, on the I/O thread, the acceptor closes and, if it was still open,
  // closed() runs (e.g. to remove the socket file).
  void stop(std::function<void()> closed = {});

 private:
  void accept();
  void on_accept(const boost::system::error_code& error, typename Protocol::socket socket);
  void back_off(const boost::system::error_code& error);

  typename Protocol::acceptor acceptor_;
  boost::asio::steady_timer pause_;
  const HttpListenerOptions options_;
  const std::shared_ptr<HttpConnectionContext> connections_;
  std::chrono::milliseconds backoff_{0};
  uint64_t failures_ = 0;  // in the current episode
};

extern template class HttpListener<boost::asio::local::stream_protocol>;
extern template class HttpListener<boost::asio::ip::tcp>;

}  // namespace logguard
