#include "logguard/plugin_api.h"

#include <poll.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "logguard/frame.h"
#include "logguard/time_format.h"

namespace logguard {
namespace {

using json = nlohmann::json;

constexpr std::string_view kReadLogs = "/LogDriver.ReadLogs";

RequestHandler::Reply ok() { return {200, "{}"}; }
RequestHandler::Reply error(unsigned status, std::string_view message) {
  return {status, json{{"Err", message}}.dump(-1, ' ', false, json::error_handler_t::replace)};
}

json parse_body(const std::string& body) {
  if (body.empty()) throw DriverError("logguard: empty request body");
  // A body that is not JSON (or not UTF-8) is the engine's bug or a stranger's.
  return json::parse(body);
}

std::string string_field(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> string_list(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> string_map(const json& object, const char* key) {
  std::map<std::string, std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return out;
  for (const auto& [k, value] : it->items()) {
    if (value.is_string()) out[k] = value.get<std::string>();
  }
  return out;
}

// Null arrays and maps (old containers) read as empty; other odd types are ignored.
ContainerInfo parse_info(const json& request) {
  auto it = request.find("Info");
  if (it == request.end() || !it->is_object()) throw DriverError("logguard: request has no Info");
  const json& info = *it;
  ContainerInfo result;
  result.id = string_field(info, "ContainerID");
  result.name = string_field(info, "ContainerName");
  result.entrypoint = string_field(info, "ContainerEntrypoint");
  result.args = string_list(info, "ContainerArgs");
  result.image_id = string_field(info, "ContainerImageID");
  result.image_name = string_field(info, "ContainerImageName");
  result.created = string_field(info, "ContainerCreated");
  result.env = string_list(info, "ContainerEnv");
  result.labels = string_map(info, "ContainerLabels");
  result.daemon_name = string_field(info, "DaemonName");
  result.log_opts = string_map(info, "Config");
  return result;
}

// Zero Go times and missing fields mean "unset" (0).
int64_t parse_time_field(const json& config, const char* key) {
  std::string text = string_field(config, key);
  if (text.empty() || is_zero_go_time(text)) return 0;
  auto nanos = parse_rfc3339(text);
  if (!nanos) throw DriverError(std::string("logguard: invalid ") + key + " time \"" + text + "\"");
  return *nanos;
}

ReadRequest parse_read_request(const json& request) {
  ReadRequest read;
  auto it = request.find("Config");
  if (it == request.end() || !it->is_object()) return read;
  read.since_nanos = parse_time_field(*it, "Since");
  read.until_nanos = parse_time_field(*it, "Until");
  if (auto tail = it->find("Tail"); tail != it->end() && tail->is_number_integer()) {
    read.tail = tail->get<int>();
    if (read.tail < 0) read.tail = -1;
  }
  if (auto follow = it->find("Follow"); follow != it->end() && follow->is_boolean()) {
    read.follow = follow->get<bool>();
  }
  return read;
}

// Writes records as the frames the engine decodes: its adapter writes
// `line` verbatim, so the stored "log" (newline included for complete lines)
// is exactly what goes out.
class FrameSink : public RecordSink {
 public:
  explicit FrameSink(ResponseStream& out) : out_(out) {}
  ~FrameSink() override { flush(); }

  bool write(const Record& record) override {
    entry_.set_source(record.stream);
    entry_.set_time_nano(record.time_nanos);
    entry_.set_line(record.log);
    append_frame(buffer_, entry_);
    return buffer_.size() < kFlushSize || flush();
  }
  bool flush() override {
    if (buffer_.empty()) return alive_;
    alive_ = alive_ && out_.write(buffer_);
    buffer_.clear();
    return alive_;
  }
  int hangup_fd() const override { return out_.fd(); }

 private:
  static constexpr size_t kFlushSize = 64 * 1024;
  ResponseStream& out_;
  LogEntry entry_;
  std::string buffer_;
  bool alive_ = true;
};

}  // namespace

bool PluginApi::is_streaming(std::string_view path) const { return path == kReadLogs; }

RequestHandler::Reply PluginApi::handle(std::string_view path, const std::string& body) {
  try {
    if (path == "/Plugin.Activate") return {200, R"({"Implements":["LogDriver"]})"};
    if (path == "/LogDriver.Capabilities") return {200, R"({"Cap":{"ReadLogs":true}})"};
    if (path == "/LogDriver.StartLogging") return start_logging(body);
    if (path == "/LogDriver.StopLogging") return stop_logging(body);
    return error(404, "logguard: unknown endpoint " + std::string(path));
  } catch (const DriverError& e) {
    spdlog::warn("{}: {}", path, e.what());
    return error(200, e.what());
  } catch (const json::exception& e) {
    spdlog::warn("{}: malformed request: {}", path, e.what());
    return error(400, std::string("logguard: malformed request: ") + e.what());
  }
}

RequestHandler::Reply PluginApi::start_logging(const std::string& body) {
  json request = parse_body(body);
  std::string fifo = string_field(request, "File");
  if (fifo.empty()) throw DriverError("logguard: StartLogging without File");
  driver_.start_logging(fifo, parse_info(request));
  return ok();
}

RequestHandler::Reply PluginApi::stop_logging(const std::string& body) {
  json request = parse_body(body);
  driver_.stop_logging(string_field(request, "File"));
  return ok();
}

void PluginApi::stream(std::string_view path, const std::string& body, ResponseStream& out) {
  ContainerInfo info;
  ReadRequest request;
  try {
    json parsed = parse_body(body);
    info = parse_info(parsed);
    request = parse_read_request(parsed);
    validate_container_id(info.id);
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}", path, e.what());
    out.reply(400, error(400, e.what()).json_body);
    return;
  }
  if (!out.begin("application/x-json-stream")) return;
  FrameSink sink(out);
  try {
    driver_.read_logs(info, request, sink);
  } catch (const std::exception& e) {
    // The protocol has no in-band errors: a stream cut inside a frame makes
    // `docker logs` report "unexpected EOF" instead of a silently short log.
    spdlog::error("reading logs of {} failed: {}", info.id.substr(0, 12), e.what());
    if (sink.flush()) out.write(std::string_view("\0\0", 2));
  }
}

}  // namespace logguard
