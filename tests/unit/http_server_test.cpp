#include "logguard/http_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "http_test_client.h"

namespace logguard {
namespace {

using testing::HttpTestClient;

// Echoes the path and body; "/slow" blocks until released; "/stream" streams.
class EchoHandler : public RequestHandler {
 public:
  bool is_streaming(std::string_view path) const override { return path == "/stream"; }
  Reply handle(std::string_view path, const std::string& body) override {
    if (path == "/slow") release_.get_future().wait();
    if (path == "/missing") return {404, R"({"Err":"no such endpoint"})"};
    return {200, "{\"path\":\"" + std::string(path) + "\",\"body\":\"" + body + "\"}"};
  }
  void stream(std::string_view, const std::string& body, ResponseStream& out) override {
    if (body == "refuse") {
      out.reply(400, R"({"Err":"refused"})");
      return;
    }
    out.begin("application/x-json-stream");
    for (int i = 0; i < 3; ++i) out.write("chunk" + std::to_string(i) + ";");
  }
  void release() { release_.set_value(); }

 private:
  std::promise<void> release_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lg-http-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "test.sock").string();
    server_ = std::make_unique<HttpServer>(io_, socket_, handler_);
    server_->start();
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    server_->stop();
    io_.stop();
    io_thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  boost::asio::io_context io_;
  EchoHandler handler_;
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<HttpServer> server_;
  std::thread io_thread_;
};

TEST_F(HttpServerTest, AnswersPostWithJsonBodyAndKeepsConnectionAlive) {
  HttpTestClient client(socket_);
  auto first = client.post("/LogDriver.Capabilities", "");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, R"({"path":"/LogDriver.Capabilities","body":""})");
  auto second = client.post("/Plugin.Activate", "x");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, R"({"path":"/Plugin.Activate","body":"x"})");
}

TEST_F(HttpServerTest, PassesHandlerStatusThrough) {
  HttpTestClient client(socket_);
  auto response = client.post("/missing", "");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"Err":"no such endpoint"})");
}

TEST_F(HttpServerTest, SlowHandlerDoesNotBlockOtherConnections) {
  HttpTestClient slow(socket_);
  slow.send_request("/slow", "");
  HttpTestClient fast(socket_);
  auto response = fast.post("/quick", "1");  // would hang if served in turn
  EXPECT_EQ(response.status, 200);
  handler_.release();
  EXPECT_EQ(slow.read_response().status, 200);
}

TEST_F(HttpServerTest, StreamingEndpointWritesUntilClose) {
  HttpTestClient client(socket_);
  client.send_request("/stream", "go");
  std::string all = client.read_to_close();
  EXPECT_NE(all.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(all.find("Content-Type: application/x-json-stream"), std::string::npos);
  EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), "chunk0;chunk1;chunk2;");
}

TEST_F(HttpServerTest, StreamingEndpointCanRefuseWithJsonError) {
  HttpTestClient client(socket_);
  client.send_request("/stream", "refuse");
  auto response = client.read_response();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, R"({"Err":"refused"})");
}

TEST_F(HttpServerTest, ReplacesStaleSocketFile) {
  // SetUp already bound once; a second server on the same path must succeed.
  boost::asio::io_context io;
  EchoHandler handler;
  EXPECT_NO_THROW(HttpServer(io, socket_, handler));
}

}  // namespace
}  // namespace logguard
