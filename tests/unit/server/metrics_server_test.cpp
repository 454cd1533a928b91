// GET /metrics over TCP (METRICS_ADDR): the setting's syntax, what is
// served, and that a taken port leaves the plugin running.
#include "logguard/server/metrics_server.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "logguard/config/options.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

TEST(MetricsAddr, Parses) {
  auto a = parse_metrics_addr("127.0.0.1:9464");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  EXPECT_EQ(a->describe(), "127.0.0.1:9464");
  a = parse_metrics_addr("[::1]:9100");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->describe(), "[::1]:9100");
  a = parse_metrics_addr(":9464");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_FALSE(parse_metrics_addr("off"));
  EXPECT_FALSE(parse_metrics_addr("OFF"));
  EXPECT_FALSE(parse_metrics_addr(""));
}

TEST(MetricsAddr, RefusesWhatCannotBeListenedOn) {
  for (const char* bad : {"9464", "localhost:9464", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:http", "::1:9464", "[127.0.0.1]:9464", "1.2.3:9464"}) {
    try {
      parse_metrics_addr(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const OptionError& e) {
      EXPECT_EQ(std::string(e.what()),
                "logguard: invalid plugin setting METRICS_ADDR \"" + std::string(bad) +
                    "\": want host:port with an IP address such as 127.0.0.1:9464 or "
                    "[::1]:9464, or off");
    }
  }
}

// config.json (what `docker plugin inspect` shows) carries the built-in
// default, and host networking, without which the port is inside the
// plugin's own network namespace.
TEST(MetricsAddr, ConfigJsonHasTheDefaultAndHostNetworking) {
  std::ifstream in(std::string(LOGGUARD_SOURCE_DIR) + "/config.json");
  ASSERT_TRUE(in);
  auto manifest = nlohmann::json::parse(in);
  std::string value;
  for (const auto& e : manifest.at("env")) {
    if (e.at("name") == "METRICS_ADDR") value = e.at("value");
  }
  EXPECT_EQ(value, kDefaultMetricsAddr);
  EXPECT_EQ(manifest.at("network").at("type"), "host");
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  void run_io() { thread_ = std::thread([this] { io_.run(); }); }

  http::response<http::string_body> get(uint16_t port, const std::string& target,
                                        http::verb verb = http::verb::get) {
    asio::io_context client_io;
    boost::beast::tcp_stream stream(client_io);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return response;
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::thread thread_;
};

TEST_F(MetricsServerTest, ServesTheScrapeAtSlashMetricsOnly) {
  int scrapes = 0;
  MetricsServer server(io_, {"127.0.0.1", 0}, [&] {
    ++scrapes;
    return std::string("logguard_sessions 2\n");
  });
  ASSERT_TRUE(server.start());
  ASSERT_NE(server.port(), 0);
  run_io();
  auto ok = get(server.port(), "/metrics");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(ok.body(), "logguard_sessions 2\n");
  EXPECT_EQ(ok[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(get(server.port(), "/").result_int(), 404);
  EXPECT_EQ(get(server.port(), "/metrics", http::verb::post).result_int(), 405);
  EXPECT_EQ(scrapes, 1);
  server.stop();
}

TEST_F(MetricsServerTest, ATakenPortIsRetriedNotFatal) {
  testing::QuietLogs quiet;
  asio::ip::tcp::acceptor holder(io_, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t taken = holder.local_endpoint().port();
  MetricsServer server(io_, {"127.0.0.1", taken}, [] { return std::string("x 1\n"); },
                       {std::chrono::milliseconds(5000), std::chrono::milliseconds(20)});
  EXPECT_FALSE(server.start());
  EXPECT_EQ(server.port(), 0);
  run_io();
  // The old holder goes away (a previous plugin process ending): the retry binds.
  asio::post(io_, [&] { holder.close(); });
  ASSERT_TRUE(testing::eventually([&] { return server.port() != 0; }));
  ASSERT_EQ(server.port(), taken);
  EXPECT_EQ(get(taken, "/metrics").body(), "x 1\n");
  server.stop();
}

// The port's connections are the plugin socket's (http_connection.h): kept
// alive, a request that does not come in time closes the connection, and a
// body over the limit is answered 413 (before, it was dropped unanswered).
TEST_F(MetricsServerTest, ConnectionsKeepAliveTimeOutAndRefuseLargeBodies) {
  MetricsServer server(io_, {"127.0.0.1", 0}, [] { return std::string("x 1\n"); },
                       {std::chrono::milliseconds(200), std::chrono::milliseconds(20)});
  ASSERT_TRUE(server.start());
  run_io();
  asio::io_context client_io;
  boost::beast::tcp_stream stream(client_io);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < 2; ++i) {
    http::request<http::string_body> request(http::verb::get, "/metrics", 11);
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    EXPECT_EQ(response.body(), "x 1\n");
    EXPECT_TRUE(response.keep_alive());
  }
  boost::beast::error_code ec;
  http::response<http::string_body> none;
  http::read(stream, buffer, none, ec);  // idle past read_timeout
  EXPECT_EQ(ec, http::error::end_of_stream);

  boost::beast::tcp_stream big(client_io);
  big.expires_after(std::chrono::seconds(10));
  big.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  http::request<http::string_body> request(http::verb::get, "/metrics", 11);
  request.body() = std::string(100'000, 'a');
  request.prepare_payload();
  http::write(big, request, ec);
  boost::beast::flat_buffer big_buffer;
  http::response<http::string_body> refused;
  http::read(big, big_buffer, refused);
  EXPECT_EQ(refused.result_int(), 413);
  EXPECT_FALSE(refused.keep_alive());
  server.stop();
}

}  // namespace
}  // namespace logguard
