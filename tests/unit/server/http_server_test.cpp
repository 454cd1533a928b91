#include "logguard/server/http_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "http_test_client.h"
#include "test_util.h"

namespace logguard {
namespace {

using namespace std::chrono_literals;
using testing::HttpTestClient;

// A gate handlers wait at until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits (up to 10 s) until n handlers wait at the gate.
  bool await_waiting(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// Echoes the path and body. Paths say how they are served: "/instant...",
// "/wait..." (waiting pool, held at the gate), "/stream..." (streams;
// "/stream-hold" first waits at the gate); anything else runs on a worker
// ("/slow" held at the gate).
class EchoHandler : public RequestHandler {
 public:
  Mode mode(std::string_view path) const noexcept override {
    if (path.starts_with("/instant")) return Mode::kInstant;
    if (path.starts_with("/wait")) return Mode::kWaiting;
    if (path.starts_with("/stream")) return Mode::kStream;
    return Mode::kWorker;
  }
  Reply handle(std::string_view path, const std::string& body) noexcept override {
    if (path == "/slow" || path.starts_with("/wait")) gate.wait();
    if (path == "/missing") return {404, R"({"Err":"no such endpoint"})"};
    return {200, "{\"path\":\"" + std::string(path) + "\",\"body\":\"" + body + "\"}"};
  }
  void stream(std::string_view path, const std::string& body,
              ResponseStream& out) noexcept override {
    if (path == "/stream-hold") gate.wait();
    if (body == "refuse") {
      out.reply(400, R"({"Err":"refused"})");
      return;
    }
    out.begin("application/x-json-stream");
    for (int i = 0; i < 3; ++i) out.write("chunk" + std::to_string(i) + ";");
  }
  std::string refusal(Refusal why, uint64_t limit) const noexcept override {
    return "{\"refused\":" + std::to_string(static_cast<int>(why)) +
           ",\"limit\":" + std::to_string(limit) + "}";
  }

  Gate gate;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lg-http-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "test.sock").string();
  }
  void TearDown() override {
    handler_.gate.open();
    if (server_) server_->stop();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(io_, socket_, handler_, std::move(options));
    server_->start();
    io_thread_ = std::thread([this] { io_.run(); });
  }

  boost::asio::io_context io_;
  EchoHandler handler_;
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<HttpServer> server_;
  std::thread io_thread_;
};

TEST_F(HttpServerTest, AnswersPostWithJsonBodyAndKeepsConnectionAlive) {
  start();
  HttpTestClient client(socket_);
  auto first = client.post("/instant/caps", "");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, R"({"path":"/instant/caps","body":""})");
  auto second = client.post("/worker", "x");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, R"({"path":"/worker","body":"x"})");
}

TEST_F(HttpServerTest, PassesHandlerStatusThrough) {
  start();
  HttpTestClient client(socket_);
  auto response = client.post("/missing", "");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"Err":"no such endpoint"})");
}

TEST_F(HttpServerTest, SlowHandlerDoesNotBlockOtherConnections) {
  start();
  HttpTestClient slow(socket_);
  slow.send_request("/slow", "");
  HttpTestClient fast(socket_);
  auto response = fast.post("/quick", "1");  // would time out if served in turn
  EXPECT_EQ(response.status, 200);
  handler_.gate.open();
  EXPECT_EQ(slow.read_response().status, 200);
}

// Issue 10.5: eight StopLoggings waiting held all four workers, and the
// engine's Capabilities call waited for them.
TEST_F(HttpServerTest, InstantAndWorkerPathsAreAnsweredWhileWaitingHandlersHoldTheirPool) {
  HttpServerOptions options;
  options.worker_threads = 4;
  options.waiting_threads = 4;
  start(options);
  std::vector<std::unique_ptr<HttpTestClient>> stops;
  for (int i = 0; i < 8; ++i) {
    stops.push_back(std::make_unique<HttpTestClient>(socket_));
    stops.back()->send_request("/wait", std::to_string(i));
  }
  ASSERT_TRUE(handler_.gate.await_waiting(4));  // the waiting pool is full, four more queue
  HttpTestClient engine(socket_);
  EXPECT_EQ(engine.post("/instant/caps", "").status, 200);
  EXPECT_EQ(engine.post("/start", "").status, 200);
  handler_.gate.open();
  for (auto& stop : stops) EXPECT_EQ(stop->read_response().status, 200);
}

TEST_F(HttpServerTest, StreamingEndpointWritesUntilClose) {
  start();
  HttpTestClient client(socket_);
  client.send_request("/stream", "go");
  std::string all = client.read_to_close();
  EXPECT_NE(all.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(all.find("Content-Type: application/x-json-stream"), std::string::npos);
  EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), "chunk0;chunk1;chunk2;");
}

TEST_F(HttpServerTest, StreamingEndpointCanRefuseWithJsonError) {
  start();
  HttpTestClient client(socket_);
  client.send_request("/stream", "refuse");
  auto response = client.read_response();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, R"({"Err":"refused"})");
}

// Issue 10.4: a body over the limit got no reply at all.
TEST_F(HttpServerTest, BodyOverTheLimitIsAnswered413AndClosed) {
  HttpServerOptions options;
  options.max_request_body = 1000;
  start(options);
  HttpTestClient client(socket_);
  EXPECT_EQ(client.post("/ok", std::string(1000, 'a')).status, 200);
  client.send_request("/big", std::string(300'000, 'a'));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, R"({"refused":0,"limit":1000})");
  EXPECT_EQ(client.read_to_close(), "");
}

// Issue 10.7: streams had no bound.
TEST_F(HttpServerTest, StreamsBeyondTheLimitAreRefused) {
  HttpServerOptions options;
  options.max_streams = 2;
  start(options);
  HttpTestClient first(socket_), second(socket_), third(socket_);
  first.send_request("/stream-hold", "");
  second.send_request("/stream-hold", "");
  ASSERT_TRUE(handler_.gate.await_waiting(2));
  EXPECT_EQ(server_->active_streams(), 2u);
  third.send_request("/stream", "");
  auto refused = third.read_response();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, R"({"refused":1,"limit":2})");
  handler_.gate.open();
  EXPECT_NE(first.read_to_close().find("chunk2;"), std::string::npos);
  EXPECT_NE(second.read_to_close().find("chunk2;"), std::string::npos);
  EXPECT_TRUE(testing::eventually([&] { return server_->active_streams() == 0; }));
  HttpTestClient fourth(socket_);
  fourth.send_request("/stream", "");
  EXPECT_NE(fourth.read_to_close().find("chunk2;"), std::string::npos);
}

// Issue 10.7: a failed thread start escaped io.run() and left the process without an API.
TEST_F(HttpServerTest, StreamWhoseThreadCannotStartIsRefusedAndServingGoesOn) {
  HttpServerOptions options;
  options.start_thread = [](std::function<void()>) -> std::thread {
    throw std::system_error(EAGAIN, std::generic_category(), "thread creation");
  };
  start(options);
  HttpTestClient client(socket_);
  client.send_request("/stream", "");
  auto refused = client.read_response();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, R"({"refused":2,"limit":0})");
  EXPECT_EQ(server_->active_streams(), 0u);
  HttpTestClient next(socket_);
  EXPECT_EQ(next.post("/instant/caps", "").status, 200);
  EXPECT_EQ(next.post("/worker", "").status, 200);
}

// Issue 10.8: connections had no read deadline.
TEST_F(HttpServerTest, ClosesAConnectionWhoseRequestDoesNotArriveInTime) {
  HttpServerOptions options;
  options.read_timeout = 100ms;
  start(options);
  HttpTestClient idle(socket_);
  EXPECT_EQ(idle.read_to_close(), "");
  HttpTestClient partial(socket_);
  const std::string head = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
  ASSERT_EQ(::send(partial.fd(), head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));
  EXPECT_EQ(partial.read_to_close(), "");
  HttpTestClient kept_alive(socket_);
  EXPECT_EQ(kept_alive.post("/instant", "").status, 200);
  EXPECT_EQ(kept_alive.read_to_close(), "");  // idle after its request: closed too
}

TEST_F(HttpServerTest, ReplacesAStaleSocketFile) {
  // What a killed server leaves: a socket file nobody listens on.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, socket_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(socket_));
  EXPECT_THROW(HttpTestClient{socket_}, std::runtime_error);  // refused: stale
  start();
  HttpTestClient client(socket_);
  EXPECT_EQ(client.post("/instant", "").status, 200);
}

TEST_F(HttpServerTest, DoesNotTakeOverALiveServersSocket) {
  start();
  boost::asio::io_context other_io;
  EchoHandler other_handler;
  try {
    HttpServer other(other_io, socket_, other_handler);
    ADD_FAILURE() << "a second server took over a live socket";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
  HttpTestClient client(socket_);
  EXPECT_EQ(client.post("/instant", "").status, 200);
}

// ---- out of file descriptors ----

int highest_open_fd() {
  int highest = 2;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) highest = std::max(highest, std::atoi(entry->d_name));
  ::closedir(dir);
  return highest;
}

// Takes every descriptor the process may still open, under a lowered limit.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    const int any = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    taken_.push_back(any);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest_open_fd() + 8);
    ::setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = ::fcntl(any, F_DUPFD_CLOEXEC, 0)) >= 0;) taken_.push_back(fd);
  }
  ~DescriptorExhaustion() { release(); }
  void release() {
    for (int fd : taken_) ::close(fd);
    taken_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> taken_;
};

// Issue 10.6: out of descriptors, accept() failed at once forever and the
// I/O thread retried at 100 % CPU.
TEST_F(HttpServerTest, AcceptBacksOffWhileOutOfDescriptorsAndRecovers) {
  std::mutex mu;
  std::condition_variable failed;
  std::vector<std::chrono::milliseconds> pauses;
  HttpServerOptions options;
  options.accept_backoff_min = 5ms;
  options.accept_backoff_max = 40ms;
  options.on_accept_error = [&](const boost::system::error_code& error,
                                std::chrono::milliseconds pause) {
    EXPECT_EQ(error, boost::system::errc::too_many_files_open);
    std::lock_guard lock(mu);
    pauses.push_back(pause);
    failed.notify_all();
  };
  start(options);
  // Serving before descriptors run out, as in life. (It also fills UBSan's
  // cache of type checks, whose slow path needs a pipe: out of descriptors,
  // it would report the accept handler's objects as having bad vptrs.)
  HttpTestClient before(socket_);
  EXPECT_EQ(before.post("/instant", "").status, 200);
  HttpTestClient client(10s);  // its socket exists before descriptors run out
  {
    DescriptorExhaustion exhaustion;
    client.connect(socket_);
    std::unique_lock lock(mu);
    ASSERT_TRUE(failed.wait_for(lock, 10s, [&] { return pauses.size() >= 6; }));
    // Each failure is followed by a pause, doubling up to the maximum: one
    // accept per pause, not a spin.
    const std::vector<std::chrono::milliseconds> expected = {5ms, 10ms, 20ms, 40ms, 40ms, 40ms};
    EXPECT_EQ(std::vector(pauses.begin(), pauses.begin() + 6), expected);
  }
  auto response = client.post("/instant", "");  // accepted once descriptors are free again
  EXPECT_EQ(response.status, 200);
  const size_t failures = [&] {
    std::lock_guard lock(mu);
    return pauses.size();
  }();
  HttpTestClient another(socket_);
  EXPECT_EQ(another.post("/instant", "").status, 200);
  std::lock_guard lock(mu);
  EXPECT_EQ(pauses.size(), failures);
}

}  // namespace
}  // namespace logguard
