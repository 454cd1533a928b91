#include "logguard/server/plugin_requests.h"

#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "logguard/base/json_nesting.h"
#include "logguard/format/json_record.h"
#include "logguard/base/time_format.h"

namespace logguard {
namespace {

using json = nlohmann::json;

// A parser's complaint may quote a whole (huge) token of the body.
constexpr size_t kMaxQuoted = 200;

std::string quoted_prefix(std::string_view text) {
  if (text.size() <= kMaxQuoted) return std::string(text);
  return std::string(text.substr(0, kMaxQuoted)) + "...";
}

json parse_object(std::string_view body) {
  if (body.empty()) throw RequestError("logguard: empty request body");
  if (!json_nesting_within(body))
    throw RequestError("logguard: malformed request: nested too deeply");
  json request;
  try {
    request = json::parse(body);
  } catch (const json::exception& e) {
    // A body that is not JSON (or not UTF-8) is the engine's bug or a stranger's.
    throw RequestError("logguard: malformed request: " + quoted_prefix(e.what()));
  }
  if (!request.is_object()) throw RequestError("logguard: malformed request: not a JSON object");
  return request;
}

// A field that is missing, null or of another type reads as empty (the
// engine sends null for unset arrays and maps).
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

// Null arrays and maps (old containers) read as empty.
ContainerInfo decode_info(const json& request) {
  auto it = request.find("Info");
  if (it == request.end() || !it->is_object()) throw RequestError("logguard: request has no Info");
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
int64_t decode_time(const json& config, const char* key) {
  const std::string text = string_field(config, key);
  if (text.empty() || is_zero_go_time(text)) return 0;
  auto nanos = parse_rfc3339(text);
  if (!nanos) {
    throw RequestError(std::string("logguard: invalid ") + key + " time \"" + quoted_prefix(text) +
                       "\"");
  }
  return *nanos;
}

// The engine sends strconv.Atoi of `--tail`: any int64. Negative means all.
int64_t decode_tail(const json& tail) {
  if (tail.is_number_unsigned()) {
    const auto n = tail.get<uint64_t>();
    return n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(n);
  }
  const auto n = tail.get<int64_t>();
  return n < 0 ? -1 : n;
}

ReadRequest decode_read_config(const json& request) {
  ReadRequest read;
  auto it = request.find("Config");
  if (it == request.end() || !it->is_object()) return read;
  read.since_nanos = decode_time(*it, "Since");
  read.until_nanos = decode_time(*it, "Until");
  if (auto tail = it->find("Tail"); tail != it->end() && tail->is_number_integer()) {
    read.tail = decode_tail(*tail);
  }
  if (auto follow = it->find("Follow"); follow != it->end() && follow->is_boolean()) {
    read.follow = follow->get<bool>();
  }
  return read;
}

}  // namespace

StartLoggingRequest decode_start_logging(std::string_view body) {
  const json request = parse_object(body);
  StartLoggingRequest start;
  start.file = string_field(request, "File");
  if (start.file.empty()) throw RequestError("logguard: StartLogging without File");
  start.info = decode_info(request);
  return start;
}

StopLoggingRequest decode_stop_logging(std::string_view body) {
  return StopLoggingRequest{string_field(parse_object(body), "File")};
}

ReadLogsRequest decode_read_logs(std::string_view body) {
  const json request = parse_object(body);
  ReadLogsRequest read;
  read.info = decode_info(request);
  read.read = decode_read_config(request);
  return read;
}

std::string encode_error(std::string_view message) {
  std::string body = "{\"Err\":";
  append_json_string(body, message);
  body += '}';
  return body;
}

}  // namespace logguard
