// null_reader: a logging plugin that does nothing with what it reads — the
// ceiling any log driver plugin can reach through the engine. It answers the
// protocol (Plugin.Activate, LogDriver.Capabilities/StartLogging/StopLogging)
// on a unix socket, and per StartLogging reads the FIFO on a thread of its
// own: the FIFO made 1 MiB large, each read up to 1 MiB, discarded, then a
// 1 ms sleep, so it takes the stream in large batches as a paced reader does.
// bench/throughput.py packages it as the managed plugin `nullreader`.
//
// usage: null_reader --socket PATH
//
// Deliberately small: no Beast, no JSON library; the engine's requests are
// Go's json.Encoder output (docs/PROTOCOL.md §1.4), and only "File" is read.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr size_t kPipeBytes = 1 << 20;

void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Reads one FIFO until the engine closes it, discarding everything.
void drain_fifo(const std::string& path, int fd) {
  ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kPipeBytes));  // best effort, as logguard's
  std::vector<char> buf(kPipeBytes);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) break;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) break;  // no writer left, nothing unread: the stream ended
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      std::fprintf(stderr, "null_reader: reading %s: %s\n", path.c_str(), std::strerror(errno));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::close(fd);
}

// The value of "File" in a StartLogging or StopLogging body; paths need no
// JSON unescaping.
std::string file_of(const std::string& body) {
  const std::string key = "\"File\":\"";
  size_t at = body.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  size_t end = body.find('"', at);
  return end == std::string::npos ? std::string() : body.substr(at, end - at);
}

std::string start_logging(const std::string& body) {
  const std::string path = file_of(body);
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::string("{\"Err\":\"open ") + path + ": " + std::strerror(errno) + "\"}";
  std::thread(drain_fifo, path, fd).detach();
  return "{\"Err\":\"\"}";
}

// The reply's status line and JSON body. A StartLogging that fails is a 200
// with Err set, as the engine expects of a log driver.
std::pair<const char*, std::string> answer(const std::string& target, const std::string& body) {
  const char* ok = "200 OK";
  if (target == "/Plugin.Activate") return {ok, "{\"Implements\":[\"LogDriver\"]}"};
  if (target == "/LogDriver.Capabilities") return {ok, "{\"Cap\":{\"ReadLogs\":false}}"};
  if (target == "/LogDriver.StartLogging") return {ok, start_logging(body)};
  if (target == "/LogDriver.StopLogging") return {ok, "{\"Err\":\"\"}"};
  return {"404 Not Found", "{\"Err\":\"null_reader: " + target + " is not supported\"}"};
}

bool write_all(int fd, const std::string& data) {
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

size_t content_length(const std::string& head) {
  for (const char* name : {"\r\nContent-Length:", "\r\ncontent-length:"}) {
    size_t at = head.find(name);
    if (at != std::string::npos) return std::strtoul(head.c_str() + at + std::strlen(name), 0, 10);
  }
  return 0;
}

// One keep-alive connection: requests answered in turn until the peer closes.
void serve(int fd) {
  std::string in;
  char buf[16 * 1024];
  for (;;) {
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    const std::string head = in.substr(0, head_end);
    const size_t length = content_length(head);
    while (in.size() < head_end + 4 + length) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    const std::string body = in.substr(head_end + 4, length);
    in.erase(0, head_end + 4 + length);
    const size_t sp1 = head.find(' ');
    const size_t sp2 = head.find(' ', sp1 + 1);
    const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto [status, reply] = answer(target, body);
    const std::string response =
        std::string("HTTP/1.1 ") + status +
        "\r\nContent-Type: application/vnd.docker.plugins.v1+json\r\nContent-Length: " +
        std::to_string(reply.size()) + "\r\n\r\n" + reply;
    if (!write_all(fd, response)) {
      ::close(fd);
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--socket") == 0) socket_path = argv[i + 1];
  }
  if (socket_path.empty()) {
    std::fprintf(stderr, "usage: null_reader --socket PATH\n");
    return 2;
  }
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "null_reader: socket path too long\n");
    return 2;
  }
  std::strcpy(addr.sun_path, socket_path.c_str());
  ::unlink(socket_path.c_str());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (::listen(listener, 64) != 0) die("listen");
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    std::thread(serve, fd).detach();
  }
}
