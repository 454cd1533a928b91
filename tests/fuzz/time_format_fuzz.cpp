// RFC 3339 text as the engine and json-file write it: parsing never fails
// badly, and whatever parses (in range) formats back to the same instant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "logguard/base/time_format.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void round_trip(int64_t nanos) {
  std::string text;
  if (!logguard::append_rfc3339nano(text, nanos)) return;
  check(logguard::parse_rfc3339(text) == nanos);
  check(logguard::format_rfc3339nano(nanos) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nanos = logguard::parse_rfc3339(text);
  logguard::is_zero_go_time(text);
  if (nanos && *nanos != INT64_MIN && *nanos != INT64_MAX) round_trip(*nanos);
  if (size >= 8) {
    int64_t raw;
    std::memcpy(&raw, data, 8);
    round_trip(raw);
  }
  return 0;
}
