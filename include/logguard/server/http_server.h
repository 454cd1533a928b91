// HttpServer: HTTP/1.1 on a unix socket (Boost.Beast), the transport of
// Docker's plugin protocol. It knows no logging policy and no error format:
// it parses requests, asks the RequestHandler how each path is served, runs
// it there and writes what the handler answers. When the transport itself
// refuses a request (body too large, too many streams), the handler words
// the reply.
//
// Threads, chosen so that the engine's calls cannot starve one another:
//  - One io_context thread runs all socket I/O (and must be the only one).
//  - kInstant paths (Capabilities, Activate) are answered right there, on
//    the I/O thread: they wait for no thread, however many handlers
//    are blocked. Their handlers must return at once.
//  - kWorker paths (StartLogging: opens files, may meet a stalled disk) run
//    on the worker pool, so a slow one blocks neither I/O nor other calls.
//  - kWaiting paths (StopLogging: may wait seconds for a session to drain,
//    doing nothing meanwhile) run on a pool of their own, so a mass
//    `docker stop` never holds the workers that StartLogging needs.
//  - kStream paths (ReadLogs) take their connection over on a thread of
//    their own, because a `docker logs -f` may last for days. At most
//    max_streams run at once; beyond that, and when no thread can be
//    started, the request is answered 503 and the server goes on.
//
// The connections and the listener are the shared ones (http_connection.h,
// http_listener.h): a request must arrive within read_timeout, a body over
// max_request_body is answered 413 (worded by the handler) and the
// connection closes, and out of file descriptors accept() backs off from
// accept_backoff_min to accept_backoff_max.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include "logguard/base/thread_registry.h"
#include "logguard/server/http_listener.h"

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
    std::string content_type = {};  // empty: the protocol's JSON type
  };
  // Where a request is served (see the top of this file).
  enum class Mode { kInstant, kWorker, kWaiting, kStream };
  // Requests the transport refuses before any handler runs.
  enum class Refusal {
    kBodyTooLarge,    // 413; limit: max_request_body
    kTooManyStreams,  // 503; limit: max_streams
    kNoThread,        // 503; no thread could be started for a stream
  };

  virtual ~RequestHandler() = default;
  virtual Mode mode(std::string_view path) const noexcept = 0;
  // For kInstant, kWorker and kWaiting paths, on the thread the mode says.
  virtual Reply handle(std::string_view path, const std::string& body) noexcept = 0;
  // For kStream paths, on a thread of its own; returns when the stream is over.
  virtual void stream(std::string_view path, const std::string& body,
                      ResponseStream& out) noexcept = 0;
  // The JSON body of the reply to a refused request.
  virtual std::string refusal(Refusal why, uint64_t limit) const noexcept = 0;
};

struct HttpServerOptions {
  size_t worker_threads = 4;
  size_t waiting_threads = 16;
  size_t max_streams = 256;
  uint64_t max_request_body = 16 << 20;  // StartLogging carries the whole environment
  std::chrono::milliseconds read_timeout{60'000};
  std::chrono::milliseconds accept_backoff_min{10};
  std::chrono::milliseconds accept_backoff_max{1000};

  // Seams for tests. How stream threads start (default: std::thread).
  ThreadRegistry::Starter start_thread;
  // Called on the I/O thread after each failed accept, with the pause before the next.
  std::function<void(const boost::system::error_code&, std::chrono::milliseconds)> on_accept_error;
};

class HttpServer {
 public:
  // Binds and listens on socket_path. A socket file nobody listens on (left
  // by a dead process) is replaced; one a live server listens on is not.
  // Throws std::system_error if it cannot listen.
  HttpServer(boost::asio::io_context& io, const std::string& socket_path, RequestHandler& handler,
             HttpServerOptions options = {});
  // Stops and joins. Connections still open then are closed by the
  // io_context after their current request; they take no new ones.
  ~HttpServer();

  // Starts accepting; the caller runs io.run().
  void start();
  // Stops accepting, closes the listener, and open connections take no new
  // requests; handlers in flight finish.
  void stop();
  // Waits for the worker pools and stream threads (after the streams ended).
  void join();

  // Streams running now.
  size_t active_streams() const;

  // The HttpService behind the listener: the handler, its thread pools and
  // streams (http_server.cpp). Its connections and their pending handlers
  // hold it; it lives until the last of them is done.
  struct Context;

 private:
  std::shared_ptr<Context> context_;
  std::shared_ptr<HttpListener<boost::asio::local::stream_protocol>> listener_;
  const std::string socket_path_;
};

}  // namespace logguard
