// A minimal HTTP/1.1 client over a unix socket, speaking like the engine's
// Go client: POST, Content-Length, no Content-Type. For tests only. Every
// send and receive gives up after a timeout (10 s by default) by throwing,
// so a server that never answers fails a test instead of hanging it.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace logguard::testing {

class HttpTestClient {
 public:
  explicit HttpTestClient(const std::string& socket_path,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : HttpTestClient(timeout) {
    connect(socket_path);
  }
  // A socket not yet connected (connect() later), e.g. to have it before
  // the process runs out of descriptors.
  explicit HttpTestClient(std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  void connect(const std::string& socket_path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect " + socket_path + ": " + std::strerror(errno));
    }
  }
  ~HttpTestClient() { ::close(fd_); }
  int fd() const { return fd_; }

  void send_request(const std::string& path, const std::string& body) {
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: plugin.moby.localhost\r\n" +
                          "User-Agent: Go-http-client/1.1\r\n" +
                          "Accept: application/vnd.docker.plugins.v1.2+json\r\n" +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string_view rest = request;
    while (!rest.empty()) {
      const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }

  struct Response {
    int status = 0;
    std::string headers;
    std::string body;
  };

  // Reads one response with a Content-Length body (keep-alive friendly).
  Response read_response() {
    Response response;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) throw std::runtime_error("connection closed before a response");
    }
    response.headers = buffer_.substr(0, header_end);
    response.status = std::stoi(response.headers.substr(9, 3));
    buffer_.erase(0, header_end + 4);
    auto pos = lower(response.headers).find("content-length: ");
    if (pos == std::string::npos) {  // close-delimited
      while (fill()) {
      }
      response.body = std::move(buffer_);
      buffer_.clear();
      return response;
    }
    size_t length = std::stoul(response.headers.substr(pos + 16));
    while (buffer_.size() < length) {
      if (!fill()) throw std::runtime_error("connection closed inside a response");
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  Response post(const std::string& path, const std::string& body) {
    send_request(path, body);
    return read_response();
  }

  // Reads until the server closes; returns everything after the headers.
  std::string read_to_close() {
    while (fill()) {
    }
    return std::move(buffer_);
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool fill() {
    char chunk[65536];
    ssize_t n;
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      throw std::runtime_error("no answer from the server within the timeout");
    }
    if (n < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
    return n > 0;
  }

  int fd_;
  std::string buffer_;
};

}  // namespace logguard::testing
