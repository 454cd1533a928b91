// The plugin protocol end to end inside the process: the engine's requests,
// byte for byte as the Go client sends them, over a real unix socket.
#include "logguard/server/plugin_api.h"

#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_test_client.h"
#include "logguard/base/file_system.h"
#include "logguard/format/frame.h"
#include "logguard/ingest/fifo_stream.h"
#include "host_file_system.h"
#include "logguard/storage/posix_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
using testing::HttpTestClient;
using json = nlohmann::json;

const std::string kId = "0f3a" + std::string(60, '1');

using testing::frame;

std::string info_json(const json& config) {
  return json{{"Config", config},
              {"ContainerID", kId},
              {"ContainerName", "/web-1"},
              {"ContainerEntrypoint", "sh"},
              {"ContainerArgs", nullptr},
              {"ContainerImageID", "sha256:abc"},
              {"ContainerImageName", "busybox"},
              {"ContainerCreated", "2025-03-04T10:11:12.123456789Z"},
              {"ContainerEnv", nullptr},
              {"ContainerLabels", nullptr},
              {"LogPath", ""},
              {"DaemonName", "docker"}}
      .dump();
}

class PluginApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lg-api-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    DriverConfig config;
    config.root = (dir_ / "logs").string();
    config.fifo_dir = dir_.string();
    driver_ = std::make_unique<Driver>(config, testing::host_file_system(), directories_, nullptr,
                                       nullptr, nullptr, testing::real_clock(), pipes_);
    api_ = std::make_unique<PluginApi>(*driver_);
    socket_ = (dir_ / "logguard.sock").string();
    server_ = std::make_unique<HttpServer>(io_, socket_, *api_);
    server_->start();
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    server_->stop();
    driver_->shutdown();
    io_.stop();
    io_thread_.join();
    server_.reset();
    api_.reset();
    driver_.reset();
    if (engine_fd_ >= 0) ::close(engine_fd_);
    fs::remove_all(dir_);
  }

  std::string make_fifo() {
    std::string path = (dir_ / "fifo").string();
    EXPECT_EQ(::mkfifo(path.c_str(), 0700), 0);
    engine_fd_ = ::open(path.c_str(), O_RDWR);
    return path;
  }

  boost::asio::io_context io_;
  fs::path dir_;
  std::string socket_;
  LogDirectories directories_{testing::host_file_system()};
  FifoPipes pipes_;
  std::unique_ptr<Driver> driver_;
  std::unique_ptr<PluginApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::thread io_thread_;
  int engine_fd_ = -1;
};

TEST_F(PluginApiTest, ActivateAndCapabilitiesWithEmptyBodies) {
  HttpTestClient client(socket_);
  auto activate = client.post("/Plugin.Activate", "");
  EXPECT_EQ(activate.status, 200);
  EXPECT_EQ(json::parse(activate.body), json::parse(R"({"Implements":["LogDriver"]})"));
  auto caps = client.post("/LogDriver.Capabilities", "");
  EXPECT_EQ(caps.status, 200);
  EXPECT_EQ(json::parse(caps.body), json::parse(R"({"Cap":{"ReadLogs":true}})"));
}

TEST_F(PluginApiTest, StartWriteStopThenReadLogsStreamsFrames) {
  std::string fifo = make_fifo();
  HttpTestClient client(socket_);
  auto start = client.post("/LogDriver.StartLogging",
                           json{{"File", fifo}, {"Info", json::parse(info_json({{"mode", "blocking"}}))}}.dump() + "\n");
  ASSERT_EQ(start.status, 200);
  EXPECT_EQ(start.body, "{}");
  std::string frames = frame("stdout", "hello", 1'700'000'000'000'000'001) +
                       frame("stderr", "world", 1'700'000'000'000'000'002);
  ASSERT_EQ(::write(engine_fd_, frames.data(), frames.size()), static_cast<ssize_t>(frames.size()));
  auto stop = client.post("/LogDriver.StopLogging", json{{"File", fifo}}.dump() + "\n");
  EXPECT_EQ(stop.status, 200);
  EXPECT_EQ(stop.body, "{}");

  HttpTestClient reader(socket_);
  reader.send_request("/LogDriver.ReadLogs",
                      R"({"Info":)" + info_json({}) +
                          R"(,"Config":{"Since":"0001-01-01T00:00:00Z","Until":"0001-01-01T00:00:00Z","Tail":-1,"Follow":false}})");
  std::string response = reader.read_to_close();
  std::string body = response.substr(response.find("\r\n\r\n") + 4);
  FrameDecoder decoder;
  decoder.feed(body.data(), body.size());
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source(), "stdout");
  EXPECT_EQ(entry.line(), "hello\n");
  EXPECT_EQ(entry.time_nano(), 1'700'000'000'000'000'001);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source(), "stderr");
  EXPECT_EQ(entry.line(), "world\n");
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.pending(), 0u);
}

// Reads from fd until `bytes` arrived or 5 s passed.
std::string read_at_least(int fd, size_t bytes) {
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (data.size() < bytes && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

TEST_F(PluginApiTest, FollowDeliversNewRecordsAtOnceAndEndsWithTheSession) {
  std::string fifo = make_fifo();
  HttpTestClient client(socket_);
  ASSERT_EQ(client.post("/LogDriver.StartLogging",
                        json{{"File", fifo}, {"Info", json::parse(info_json({}))}}.dump()).body, "{}");
  HttpTestClient follower(socket_);
  follower.send_request("/LogDriver.ReadLogs", R"({"Info":)" + info_json({}) +
                                                   R"(,"Config":{"Tail":-1,"Follow":true}})");
  std::string head = read_at_least(follower.fd(), 1);
  std::string frames = frame("stdout", "live", 1'700'000'000'000'000'001);
  ASSERT_EQ(::write(engine_fd_, frames.data(), frames.size()), static_cast<ssize_t>(frames.size()));
  // One small record must arrive while the stream stays open (not held in a buffer).
  std::string got = head + read_at_least(follower.fd(), 1);
  while (got.find("live\n") == std::string::npos) {
    std::string more = read_at_least(follower.fd(), 1);
    if (more.empty()) break;
    got += more;
  }
  EXPECT_NE(got.find("live\n"), std::string::npos);
  client.post("/LogDriver.StopLogging", json{{"File", fifo}}.dump());
  ::close(engine_fd_);
  engine_fd_ = -1;
  follower.read_to_close();  // returns only because the stream ends with the session
}

// The user's mistake: the engine shows it to the user and logs it as an
// error itself; the plugin notes it at info (stdout: level=info).
TEST_F(PluginApiTest, InvalidOptionIsAnErrNamingIt) {
  testing::CapturedLogs logs;
  std::string fifo = make_fifo();
  HttpTestClient client(socket_);
  auto start = client.post("/LogDriver.StartLogging",
                           json{{"File", fifo}, {"Info", json::parse(info_json({{"rate", "fast"}}))}}.dump());
  EXPECT_EQ(start.status, 200);
  std::string err = json::parse(start.body).at("Err");
  EXPECT_NE(err.find("invalid rate \"fast\""), std::string::npos) << err;
  EXPECT_EQ(logs.out_lines_with("invalid rate"),
            std::vector<std::string>{"/LogDriver.StartLogging: " + err});
  EXPECT_EQ(logs.err_lines(), std::vector<std::string>{});
}

// A fault of the node (here the log root is a file): an Err for the engine,
// and a warning on stderr, which the engine logs as level=error.
TEST_F(PluginApiTest, UnwritableLogDirectoryIsAnErrAndAWarning) {
  testing::CapturedLogs logs;
  std::ofstream(dir_ / "logs") << "not a directory";
  std::string fifo = make_fifo();
  HttpTestClient client(socket_);
  auto start = client.post("/LogDriver.StartLogging",
                           json{{"File", fifo}, {"Info", json::parse(info_json({}))}}.dump());
  EXPECT_EQ(start.status, 200);
  std::string err = json::parse(start.body).at("Err");
  EXPECT_NE(err.find("logguard: cannot write logs in " + (dir_ / "logs").string()),
            std::string::npos) << err;
  const std::vector<std::string> errors = logs.err_lines();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(" warning /LogDriver.StartLogging: " + err), std::string::npos)
      << errors[0];
}

TEST_F(PluginApiTest, EmptyStartLoggingBodyIsAnError) {
  HttpTestClient client(socket_);
  auto start = client.post("/LogDriver.StartLogging", "");
  EXPECT_NE(json::parse(start.body).value("Err", ""), "");
}

TEST_F(PluginApiTest, UnknownEndpointIs404WithErr) {
  HttpTestClient client(socket_);
  auto response = client.post("/LogDriver.Nope", "{}");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(json::parse(response.body).value("Err", ""), "");
}

// A StopLogging the engine retries after losing the first reply arrives
// without its body: it must succeed, or the engine abandons the FIFO.
TEST_F(PluginApiTest, StopLoggingRetriedWithoutItsBodyIsFine) {
  HttpTestClient client(socket_);
  auto stop = client.post("/LogDriver.StopLogging", "");
  EXPECT_EQ(stop.status, 200);
  EXPECT_EQ(stop.body, "{}");
}

TEST_F(PluginApiTest, StopLoggingOfUnknownFifoIsFine) {
  HttpTestClient client(socket_);
  auto stop = client.post("/LogDriver.StopLogging", R"({"File":"/run/docker/logging/nope"})");
  EXPECT_EQ(stop.status, 200);
  EXPECT_EQ(stop.body, "{}");
}

TEST_F(PluginApiTest, ReadLogsOfUnknownContainerIsEmptyStream) {
  HttpTestClient reader(socket_);
  reader.send_request("/LogDriver.ReadLogs", R"({"Info":)" + info_json({}) + R"(,"Config":{"Tail":-1}})");
  std::string response = reader.read_to_close();
  EXPECT_NE(response.find("200 OK"), std::string::npos);
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), "");
}

TEST_F(PluginApiTest, ReadLogsErrorsAreNotOkReplies) {
  // A 200 would be read as frames; the engine shows a non-200's Err.
  HttpTestClient reader(socket_);
  reader.send_request("/LogDriver.ReadLogs",
                      R"({"Info":{"ContainerID":"../etc"},"Config":{"Tail":-1}})");
  auto response = reader.read_response();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body).value("Err", ""),
            "logguard: invalid container ID \"../etc\"");
}

// Issue 10.3, through the socket: Tail 2^32 used to read as 0, no history.
TEST_F(PluginApiTest, ReadLogsTailBeyond32Bits) {
  std::string fifo = make_fifo();
  HttpTestClient client(socket_);
  const std::string start = json{{"File", fifo}, {"Info", json::parse(info_json({}))}}.dump();
  ASSERT_EQ(client.post("/LogDriver.StartLogging", start).body, "{}");
  std::string frames = frame("stdout", "one", 1'700'000'000'000'000'001) +
                       frame("stdout", "two", 1'700'000'000'000'000'002);
  ASSERT_EQ(::write(engine_fd_, frames.data(), frames.size()), static_cast<ssize_t>(frames.size()));
  client.post("/LogDriver.StopLogging", json{{"File", fifo}}.dump());
  HttpTestClient reader(socket_);
  reader.send_request("/LogDriver.ReadLogs",
                      R"({"Info":)" + info_json({}) +
                          R"(,"Config":{"Tail":4294967296,"Follow":false}})");
  const std::string response = reader.read_to_close();
  EXPECT_NE(response.find("one\n"), std::string::npos);
  EXPECT_NE(response.find("two\n"), std::string::npos);
}

TEST_F(PluginApiTest, EndpointsAreServedWhereTheyCannotStarveEachOther) {
  using Mode = RequestHandler::Mode;
  EXPECT_EQ(api_->mode("/Plugin.Activate"), Mode::kInstant);
  EXPECT_EQ(api_->mode("/LogDriver.Capabilities"), Mode::kInstant);
  EXPECT_EQ(api_->mode("/LogDriver.Nope"), Mode::kInstant);
  EXPECT_EQ(api_->mode("/LogDriver.StartLogging"), Mode::kWorker);
  EXPECT_EQ(api_->mode("/LogDriver.StopLogging"), Mode::kWaiting);
  EXPECT_EQ(api_->mode("/LogDriver.ReadLogs"), Mode::kStream);
}

// The PluginApi, except that StopLogging waits until released, as it does
// for a session that cannot drain (block mode, stalled disk) for up to 5 s.
class SlowStops : public RequestHandler {
 public:
  explicit SlowStops(PluginApi& api) : api_(api) {}
  Mode mode(std::string_view path) const noexcept override { return api_.mode(path); }
  Reply handle(std::string_view path, const std::string& body) noexcept override {
    if (path == "/LogDriver.StopLogging") {
      std::unique_lock lock(mu_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    return api_.handle(path, body);
  }
  void stream(std::string_view path, const std::string& body,
              ResponseStream& out) noexcept override {
    api_.stream(path, body, out);
  }
  std::string refusal(Refusal why, uint64_t limit) const noexcept override {
    return api_.refusal(why, limit);
  }
  bool await_waiting(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= n; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  PluginApi& api_;
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool released_ = false;
};

// Issue 10.5: a mass `docker stop` of containers in block mode held every
// worker, and Capabilities (asked before each container start) waited.
TEST_F(PluginApiTest, CapabilitiesAnswersWhileEightStopLoggingsWait) {
  SlowStops handler(*api_);
  HttpServerOptions options;
  options.worker_threads = 4;
  options.waiting_threads = 8;
  const std::string socket = (dir_ / "slow.sock").string();
  HttpServer server(io_, socket, handler, options);
  server.start();
  std::vector<std::unique_ptr<HttpTestClient>> stops;
  for (int i = 0; i < 8; ++i) {
    stops.push_back(std::make_unique<HttpTestClient>(socket));
    stops.back()->send_request("/LogDriver.StopLogging", R"({"File":"/run/docker/logging/x)" +
                                                             std::to_string(i) + R"("})");
  }
  ASSERT_TRUE(handler.await_waiting(8));
  HttpTestClient engine(socket, std::chrono::milliseconds(2000));
  auto caps = engine.post("/LogDriver.Capabilities", "");
  EXPECT_EQ(caps.body, R"({"Cap":{"ReadLogs":true}})");
  EXPECT_EQ(engine.post("/Plugin.Activate", "").status, 200);
  EXPECT_EQ(engine.post("/LogDriver.StartLogging", "").status, 400);  // answered by a worker
  handler.release();
  for (auto& stop : stops) EXPECT_EQ(stop->read_response().body, "{}");
  server.stop();
}

// Issue 10.4: a body over the limit got no reply; the engine then reported
// "empty request body".
TEST_F(PluginApiTest, BodyOverTheLimitIsRefusedWithAnErrNamingIt) {
  HttpTestClient client(socket_);
  client.send_request("/LogDriver.StartLogging", std::string((16 << 20) + 1, ' '));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, R"({"Err":"logguard: request body over 16777216 bytes"})");
}

TEST_F(PluginApiTest, RefusalsAreErrReplies) {
  using Refusal = RequestHandler::Refusal;
  EXPECT_EQ(api_->refusal(Refusal::kTooManyStreams, 256),
            R"x({"Err":"logguard: too many docker logs streams (256)"})x");
  EXPECT_EQ(api_->refusal(Refusal::kBodyTooLarge, 1000),
            R"({"Err":"logguard: request body over 1000 bytes"})");
  EXPECT_NE(json::parse(api_->refusal(Refusal::kNoThread, 0)).value("Err", ""), "");
}

}  // namespace
}  // namespace logguard
