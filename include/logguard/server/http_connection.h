// One HTTP/1.1 connection (Boost.Beast), the same for the plugin's unix
// socket and the metrics TCP port: it reads requests, hands each to an
// HttpService, and writes what the service answers. It knows no paths and no
// threads but the I/O thread's; the service decides where a request is served.
//
// Per connection, whatever the socket:
//  - A request must arrive completely within read_timeout of the connection
//    starting to wait for it, or the connection closes without a reply (idle
//    keep-alive connections too: clients reconnect). A reply the peer does
//    not read within read_timeout closes it as well. While the service works
//    on a request there is no deadline.
//  - Headers over 8 KiB (Beast's default, stated here) close it unanswered.
//  - A body over max_request_body is answered with the service's
//    body_too_large reply, then the connection closes.
//  - Keep-alive as the request says (HTTP/1.1: kept unless "Connection:
//    close"); the reply has the request's version.
//  - A connection that closes after a reply first stops sending and drops
//    what the peer still sends until it closes (or the deadline): a peer
//    still sending a refused body would see its write fail and might never
//    read the reply.
//  - Once its listener stopped, a request read is left unanswered and the
//    connection closes; replies to requests already taken are still sent.
//
// Ownership: a connection is held by its pending operation (a read, a write)
// or by whoever holds it to reply (shared_ptr); it ends when none does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace logguard {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A connection, as its service sees it while answering one request.
class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  // Sends the reply (callable from any thread: the write runs on the I/O
  // thread), then reads the next request, or closes if close or
  // the request did not keep alive. The response's status, headers and body
  // are sent as given (prepare_payload is the service's: a reply to HEAD
  // keeps its length); its version and keep-alive are set here.
  virtual void reply(HttpResponse response, bool close = false) = 0;
  // Gives the connection away instead of replying: start gets the socket's
  // descriptor, in blocking mode, and owns it from then on. If start throws,
  // the connection takes the descriptor back (reply() then works) and the
  // exception propagates. Only from within HttpService::serve.
  virtual void hand_over(const std::function<void(int fd)>& start) = 0;
};

// What a listener's connections do with requests. Called on the I/O
// thread; must not block.
class HttpService {
 public:
  virtual ~HttpService() = default;
  // Answers the request exactly once, through connection->reply (at once or
  // later, from any thread) or by connection->hand_over.
  virtual void serve(HttpRequest request, std::shared_ptr<HttpConnection> connection) = 0;
  // The reply to a request whose body is over limit bytes (the connection
  // closes after it).
  virtual HttpResponse body_too_large(uint64_t limit) = 0;
};

struct HttpLimits {
  uint64_t max_request_body = 64 * 1024;
  std::chrono::milliseconds read_timeout{30'000};
};

// What the connections of one listener share; it lives until the last of
// them ends.
struct HttpConnectionContext {
  HttpConnectionContext(std::shared_ptr<HttpService> service, HttpLimits limits)
      : service(std::move(service)), limits(limits) {}

  const std::shared_ptr<HttpService> service;
  const HttpLimits limits;
  std::atomic<bool> stopped{false};  // the listener stopped: take no new requests
};

// Starts serving an accepted socket; the connection owns itself from here.
// Instantiated for boost::asio::local::stream_protocol and ip::tcp.
template <class Protocol>
void start_http_connection(typename Protocol::socket socket,
                           std::shared_ptr<HttpConnectionContext> context);

}  // namespace logguard
