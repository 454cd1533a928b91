#include "logguard/server/plugin_requests.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace logguard {
namespace {

using json = nlohmann::json;

// The engine's StartLogging body (docs/PROTOCOL.md §3.2), one line as Go writes it.
const std::string kInfo =
    R"({"Config":{"acme-url":"https://logs.example","max-buffer-size":"4m","mode":"non-blocking"},)"
    R"("ContainerID":"0f3a1111111111111111111111111111111111111111111111111111111111aa",)"
    R"("ContainerName":"/web-1","ContainerEntrypoint":"/docker-entrypoint.sh",)"
    R"("ContainerArgs":["nginx","-g","daemon off;"],"ContainerImageID":"sha256:a830",)"
    R"("ContainerImageName":"nginx:1.27","ContainerCreated":"2025-03-04T10:11:12.123456789Z",)"
    R"("ContainerEnv":["PATH=/usr/bin","TOKEN=x\u0026y"],"ContainerLabels":{"team":"core"},)"
    R"("LogPath":"","DaemonName":"docker"})";
const std::string kStart = R"({"File":"/run/docker/logging/4be1c09a","Info":)" + kInfo + "}\n";

std::string read_logs_body(const std::string& config) {
  return R"({"Info":)" + kInfo + R"(,"Config":)" + config + "}\n";
}

// The message of the RequestError that decoding body throws.
template <typename Decode>
std::string error_of(Decode decode, const std::string& body) {
  try {
    decode(body);
  } catch (const RequestError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PluginRequestsTest, DecodesStartLoggingAsTheEngineSendsIt) {
  const StartLoggingRequest request = decode_start_logging(kStart);
  EXPECT_EQ(request.file, "/run/docker/logging/4be1c09a");
  const ContainerInfo& info = request.info;
  EXPECT_EQ(info.id, "0f3a1111111111111111111111111111111111111111111111111111111111aa");
  EXPECT_EQ(info.name, "/web-1");
  EXPECT_EQ(info.entrypoint, "/docker-entrypoint.sh");
  EXPECT_EQ(info.args, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(info.image_id, "sha256:a830");
  EXPECT_EQ(info.image_name, "nginx:1.27");
  EXPECT_EQ(info.created, "2025-03-04T10:11:12.123456789Z");
  EXPECT_EQ(info.env, (std::vector<std::string>{"PATH=/usr/bin", "TOKEN=x&y"}));
  EXPECT_EQ(info.labels, (std::map<std::string, std::string>{{"team", "core"}}));
  EXPECT_EQ(info.daemon_name, "docker");
  EXPECT_EQ(info.log_opts.at("mode"), "non-blocking");
  EXPECT_EQ(info.log_opts.size(), 3u);
}

TEST(PluginRequestsTest, NullsAndOddTypesReadAsEmpty) {
  const auto request = decode_start_logging(
      R"({"File":"/f","Info":{"Config":null,"ContainerID":"ab","ContainerArgs":null,)"
      R"("ContainerEnv":[1,"A=b",null],"ContainerLabels":{"n":1,"s":"v"},"ContainerName":7}})");
  EXPECT_TRUE(request.info.log_opts.empty());
  EXPECT_TRUE(request.info.args.empty());
  EXPECT_EQ(request.info.env, std::vector<std::string>{"A=b"});
  EXPECT_EQ(request.info.labels, (std::map<std::string, std::string>{{"s", "v"}}));
  EXPECT_EQ(request.info.name, "");
}

TEST(PluginRequestsTest, RefusesBodiesItCannotUse) {
  EXPECT_EQ(error_of(decode_start_logging, ""), "logguard: empty request body");
  EXPECT_EQ(error_of(decode_stop_logging, ""), "logguard: empty request body");
  EXPECT_EQ(error_of(decode_start_logging, "[]"), "logguard: malformed request: not a JSON object");
  EXPECT_EQ(error_of(decode_start_logging, R"({"Info":{}})"),
            "logguard: StartLogging without File");
  EXPECT_EQ(error_of(decode_start_logging, R"({"File":"/f"})"), "logguard: request has no Info");
  EXPECT_EQ(error_of(decode_read_logs, R"({"Info":[]})"), "logguard: request has no Info");
  EXPECT_EQ(error_of(decode_read_logs, "{" + std::string(100, '[')),
            "logguard: malformed request: nested too deeply");
  EXPECT_EQ(error_of(decode_start_logging, "{\"File\":").rfind("logguard: malformed request: ", 0),
            0u);
}

TEST(PluginRequestsTest, QuotesLittleOfAHugeMalformedBody) {
  const std::string message =
      error_of(decode_stop_logging, "{\"File\":\"" + std::string(1 << 20, 'a'));
  EXPECT_EQ(message.rfind("logguard: malformed request: ", 0), 0u);
  EXPECT_LT(message.size(), 300u);
}

TEST(PluginRequestsTest, StopLoggingNamesItsFile) {
  EXPECT_EQ(decode_stop_logging(R"({"File":"/run/docker/logging/x"})").file,
            "/run/docker/logging/x");
  EXPECT_EQ(decode_stop_logging("{}").file, "");
}

TEST(PluginRequestsTest, DecodesReadLogsConfig) {
  const auto request = decode_read_logs(read_logs_body(
      R"({"Since":"2025-03-04T11:11:12.5+01:00","Until":"2025-03-04T10:11:13Z","Tail":10,"Follow":true})"));
  EXPECT_EQ(request.info.name, "/web-1");
  EXPECT_EQ(request.read.since_nanos, 1741083072500000000);
  EXPECT_EQ(request.read.until_nanos, 1741083073000000000);
  EXPECT_EQ(request.read.tail, 10);
  EXPECT_TRUE(request.read.follow);
  const auto unset = decode_read_logs(read_logs_body(
      R"({"Since":"0001-01-01T00:00:00Z","Until":"0001-01-01T00:00:00Z","Tail":-1,"Follow":false})"));
  EXPECT_EQ(unset.read.since_nanos, 0);
  EXPECT_EQ(unset.read.until_nanos, 0);
  EXPECT_EQ(unset.read.tail, -1);
  EXPECT_FALSE(unset.read.follow);
  EXPECT_EQ(error_of(decode_read_logs, read_logs_body(R"({"Since":"yesterday"})")),
            "logguard: invalid Since time \"yesterday\"");
}

// Issue 10.3: `docker logs --tail 4294967296` read as 0 (a 32-bit parse).
TEST(PluginRequestsTest, TailIsAnyInt64AndAnyNegativeMeansAll) {
  const auto tail = [](const std::string& value) {
    return decode_read_logs(read_logs_body(R"({"Tail":)" + value + "}")).read.tail;
  };
  EXPECT_EQ(tail("4294967296"), 4294967296);
  EXPECT_EQ(tail("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(tail("18446744073709551615"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(tail("0"), 0);
  EXPECT_EQ(tail("-5"), -1);
  EXPECT_EQ(tail("-4294967296"), -1);
  EXPECT_EQ(tail("-9223372036854775808"), -1);
  EXPECT_EQ(tail("1.5"), -1);  // not an integer: the default
}

TEST(PluginRequestsTest, EncodesErrorsAsValidJsonWhateverTheBytes) {
  EXPECT_EQ(encode_error("logguard: boom"), R"({"Err":"logguard: boom"})");
  const std::string odd = "bad \"\xff\" <x>\n";
  const std::string body = encode_error(odd);
  EXPECT_EQ(body, R"({"Err":"bad \"\ufffd\" \u003cx\u003e\n"})");
  EXPECT_EQ(json::parse(body).at("Err"), "bad \"\xef\xbf\xbd\" <x>\n");
}

}  // namespace
}  // namespace logguard
