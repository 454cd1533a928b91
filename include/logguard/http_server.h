// HttpServer: HTTP/1.1 on a unix socket (Boost.Beast), the transport of
// Docker's plugin protocol. It knows no logging policy: it parses requests,
// hands them to a RequestHandler and writes what the handler answers.
//
// Threads: one io_context thread runs all socket I/O, one strand per
// connection. Handlers run on a small worker pool so a slow one (a stalled
// disk) never blocks the I/O thread or other connections. A streaming
// endpoint (ReadLogs) takes its connection over on a thread of its own,
// because a `docker logs -f` may last for days.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/thread_pool.hpp>

#include "logguard/thread_registry.h"

namespace logguard {

// The body of a streaming response, written with blocking writes on the
// handler's own thread. The body ends when the connection closes.
class ResponseStream {
 public:
  explicit ResponseStream(int fd) : fd_(fd) {}
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;
  ~ResponseStream();

  // Sends "200 OK" and headers; call once before write().
  bool begin(std::string_view content_type);
  // Sends a complete non-streaming reply instead of a stream (errors).
  void reply(unsigned status, std::string_view json_body);
  // False once the peer is gone.
  bool write(std::string_view data);
  // The connection, for poll(POLLRDHUP) while the stream is idle.
  int fd() const { return fd_; }

 private:
  int fd_;
};

class RequestHandler {
 public:
  struct Reply {
    unsigned status = 200;
    std::string json_body;  // never empty: the engine rejects empty 200 bodies
  };
  virtual ~RequestHandler() = default;
  // Whether `path` streams its response (then stream() is called, not handle()).
  virtual bool is_streaming(std::string_view path) const = 0;
  // Called on a worker thread.
  virtual Reply handle(std::string_view path, const std::string& body) = 0;
  // Called on a thread of its own; returns when the stream is over.
  virtual void stream(std::string_view path, const std::string& body, ResponseStream& out) = 0;
};

class HttpServer {
 public:
  // Binds and listens on socket_path (a stale socket file is replaced).
  // Throws std::system_error if it cannot.
  HttpServer(boost::asio::io_context& io, const std::string& socket_path, RequestHandler& handler,
             size_t worker_threads = 4);
  ~HttpServer();

  // Starts accepting; the caller runs io.run().
  void start();
  // Stops accepting and closes the listener; handlers in flight finish.
  void stop();
  // Waits for the worker pool and stream threads (after the streams ended).
  void join();

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string socket_path_;
  RequestHandler& handler_;
  boost::asio::thread_pool workers_;
  ThreadRegistry streams_;
};

}  // namespace logguard
