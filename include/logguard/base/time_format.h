// Go-compatible time text: RFC 3339 with nanoseconds, as Docker writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

// Appends Go's RFC3339Nano rendering of a UTC time: "2006-01-02T15:04:05.999999999Z"
// with trailing zeros of the fraction (and a bare ".") trimmed. Returns false
// (appending nothing) for years outside 0..9999, which json-file refuses too.
// Each thread keeps the date-time text of the last whole second it formatted
// (the records of a flood share theirs), so a call within that second costs
// little more than its fraction; the text is the same either way.
bool append_rfc3339nano(std::string& out, int64_t unix_nanos);
std::string format_rfc3339nano(int64_t unix_nanos);

// The longest text of append_rfc3339nano: "2006-01-02T15:04:05.999999999Z".
inline constexpr size_t kMaxRfc3339NanoSize = 30;
// append_rfc3339nano's text written at out, which has room for
// kMaxRfc3339NanoSize bytes; returns the end of the text, or nullptr (and
// writes nothing) where append_rfc3339nano returns false.
char* write_rfc3339nano(char* out, int64_t unix_nanos);
// The length of that text (also for years it refuses), computed without
// making it.
size_t rfc3339nano_size(int64_t unix_nanos);

// Parses RFC 3339 with optional fraction (up to 9 digits) and a "Z" or
// "+hh:mm"/"-hh:mm" offset, as the daemon sends Since/Until. nullopt if malformed.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Times outside int64 nanoseconds (before 1677, after 2262) saturate to
// INT64_MIN/INT64_MAX; Go's zero time.Time ("0001-01-01T00:00:00Z") is such a time:
// is_zero_go_time says whether text is one (the daemon's "unset").
bool is_zero_go_time(std::string_view text);

}  // namespace logguard
