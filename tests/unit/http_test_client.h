// A minimal HTTP/1.1 client over a unix socket, speaking like the engine's
// Go client: POST, Content-Length, no Content-Type. For tests only.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace logguard::testing {

class HttpTestClient {
 public:
  explicit HttpTestClient(const std::string& socket_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
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
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      throw std::runtime_error("send failed");
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
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) fill();
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
    while (buffer_.size() < length) fill();
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
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) throw std::runtime_error("recv failed");
    buffer_.append(chunk, static_cast<size_t>(n));
    return n > 0;
  }

  int fd_;
  std::string buffer_;
};

}  // namespace logguard::testing
