// The json-file record: one JSON object per line, byte-compatible with
// Docker's json-file driver (moby daemon/logger/jsonfilelog/jsonlog), so tools
// that read json-file logs read ours unchanged:
//   {"log":"hello\n","stream":"stdout","attrs":{"k":"v"},"time":"2025-03-04T10:11:12.1234567Z"}\n
// Keys in that order; "log" omitted if empty, "stream" omitted if empty,
// "attrs" omitted if none (keys sorted); "time" always.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logguard {

// Sorted by key (the caller keeps them sorted, as Go's map encoding does).
using Attrs = std::vector<std::pair<std::string, std::string>>;

struct RecordView {
  std::string_view log;     // the bytes as the container wrote them, '\n' included if complete
  std::string_view stream;  // "stdout" / "stderr"
  int64_t time_nanos = 0;   // Unix nanoseconds, UTC
  const Attrs* attrs = nullptr;
  // The record's "log" is log plus a '\n': a complete line straight from a
  // frame (which carries no newline), without copying it to add one.
  bool log_newline = false;
};

// A record read back (json_record_parser.h).
struct Record {
  std::string log;
  std::string stream;
  int64_t time_nanos = 0;
  Attrs attrs;
};

// Appends the encoded record including its trailing '\n'. Escaping as
// json-file: '"' and '\\' backslashed; \n \r as such; other bytes < 0x20 and
// '<' '>' '&' as \u00XX; invalid UTF-8 bytes as \ufffd; U+2028/9 as \u2028/9.
// Returns false and appends nothing if the time cannot be rendered.
bool append_json_record(std::string& out, const RecordView& record);

// Appends s as a JSON string, quotes included, escaped as Go's encoding/json
// escapes it (and as attrs are): HTML-safe, invalid UTF-8 bytes as \ufffd,
// so the result is always valid JSON. Throws nothing but std::bad_alloc.
void append_json_string(std::string& out, std::string_view s);

// The exact number of bytes append_json_record would append, computed without
// building the record (the limiter charges this for lines it may drop).
size_t json_record_size(const RecordView& record);

}  // namespace logguard
