#include "logguard/format/json_record_parser.h"

#include <nlohmann/json.hpp>

#include "logguard/base/json_nesting.h"
#include "logguard/base/time_format.h"
#include "logguard/format/utf8.h"

namespace logguard {
namespace {

// A cursor over one JSON text, for the flat objects json-file writes.
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool consume(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }

  // A JSON string into out (raw bytes kept; escapes decoded).
  bool string(std::string& out) {
    if (!consume('"')) return false;
    out.clear();
    size_t start = i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        out.append(s_.substr(start, i_ - start));
        ++i_;
        return true;
      }
      if (static_cast<uint8_t>(c) < 0x20) return false;
      if (c != '\\') {
        ++i_;
        continue;
      }
      out.append(s_.substr(start, i_ - start));
      if (!escape(out)) return false;
      start = i_;
    }
    return false;
  }

 private:
  bool escape(std::string& out) {
    if (++i_ >= s_.size()) return false;
    const char c = s_[i_++];
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': return unicode_escape(out);
      default: return false;
    }
  }

  bool hex4(uint32_t& value) {
    if (i_ + 4 > s_.size()) return false;
    value = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool unicode_escape(std::string& out) {
    uint32_t code;
    if (!hex4(code)) return false;
    if (code >= 0xD800 && code <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
      const size_t save = i_;
      i_ += 2;
      uint32_t low;
      if (hex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      } else {
        i_ = save;
      }
    }
    utf8::append(out, code);  // a lone surrogate as U+FFFD, as Go decodes it
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Objects whose values are all strings, or "attrs" objects of strings: the
// shape json-file writes. nullopt means "not that shape", not "invalid".
std::optional<Record> parse_flat(std::string_view line, bool& has_time) {
  Parser p(line);
  Record record;
  std::string key, value;
  has_time = false;
  if (!p.consume('{')) return std::nullopt;
  if (p.consume('}')) return record;
  do {
    if (!p.string(key) || !p.consume(':')) return std::nullopt;
    if (key == "attrs" && p.peek('{')) {
      p.consume('{');
      if (!p.consume('}')) {
        do {
          std::string attr_key, attr_value;
          if (!p.string(attr_key) || !p.consume(':') || !p.string(attr_value)) return std::nullopt;
          record.attrs.emplace_back(std::move(attr_key), std::move(attr_value));
        } while (p.consume(','));
        if (!p.consume('}')) return std::nullopt;
      }
      continue;
    }
    if (!p.string(value)) return std::nullopt;
    if (key == "log") {
      record.log = std::move(value);
    } else if (key == "stream") {
      record.stream = std::move(value);
    } else if (key == "time") {
      auto time = parse_rfc3339(value);
      if (!time) return std::nullopt;
      record.time_nanos = *time;
      has_time = true;
    }
  } while (p.consume(','));
  if (!p.consume('}') || !p.at_end()) return std::nullopt;
  std::sort(record.attrs.begin(), record.attrs.end());
  return record;
}

// Records nested deeper than kMaxJsonNesting are rejected as not records:
// nothing json-file or logguard writes comes close, and dump() below
// recurses once per level.
std::optional<Record> parse_with_nlohmann(std::string_view line) {
  if (!json_nesting_within(line)) return std::nullopt;
  auto object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return std::nullopt;
  auto time = object.find("time");
  if (time == object.end() || !time->is_string()) return std::nullopt;
  auto nanos = parse_rfc3339(time->get<std::string>());
  if (!nanos) return std::nullopt;
  Record record;
  record.time_nanos = *nanos;
  if (auto log = object.find("log"); log != object.end() && log->is_string()) record.log = *log;
  if (auto stream = object.find("stream"); stream != object.end() && stream->is_string()) {
    record.stream = *stream;
  }
  if (auto attrs = object.find("attrs"); attrs != object.end() && attrs->is_object()) {
    for (const auto& [key, value] : attrs->items()) {
      record.attrs.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return record;
}

std::string_view strip_newline(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

}  // namespace

std::optional<Record> parse_json_record(std::string_view line) {
  line = strip_newline(line);
  bool has_time = false;
  if (auto record = parse_flat(line, has_time)) {
    if (!has_time) return std::nullopt;
    return record;
  }
  return parse_with_nlohmann(line);
}

std::optional<int64_t> parse_json_record_time(std::string_view line) {
  line = strip_newline(line);
  // Raw quotes inside JSON strings are escaped, so a raw `"time":"T"}` ending
  // the line can only be a key of the outermost object: the shape json-file
  // writes. Anything else (time first, or an attr named "time") goes the
  // long way.
  constexpr std::string_view kKey = "\"time\":\"";
  if (line.size() >= kKey.size() + 2 && line.substr(line.size() - 2) == "\"}") {
    const size_t end = line.size() - 2;
    const size_t key = line.rfind(kKey, end);
    if (key != std::string_view::npos && line.find('"', key + kKey.size()) == end) {
      // Escapes in the time text (no writer makes them) need the parser.
      if (auto time = parse_rfc3339(line.substr(key + kKey.size(), end - key - kKey.size()))) {
        return time;
      }
    }
  }
  auto record = parse_json_record(line);
  if (!record) return std::nullopt;
  return record->time_nanos;
}

}  // namespace logguard
