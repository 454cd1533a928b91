// The hand-written LogEntry parser side by side with libprotobuf's: both
// accept or both reject, they read the same fields, and the view re-encodes
// to exactly what libprotobuf makes of the message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logguard/format/frame.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  LogEntry reference;
  const bool reference_ok = reference.ParseFromArray(data, static_cast<int>(size));
  logguard::LogEntryView entry;
  const bool ok = logguard::decode_log_entry(message, &entry);
  check(ok == reference_ok);
  if (!ok) return 0;
  check(entry.source == reference.source());
  check(entry.time_nano == reference.time_nano());
  check(entry.line == reference.line());
  check(entry.partial == reference.partial());
  check(entry.has_partial_metadata == reference.has_partial_log_metadata());
  check(entry.last == reference.partial_log_metadata().last());
  check(entry.partial_id == reference.partial_log_metadata().id());
  check(entry.ordinal == reference.partial_log_metadata().ordinal());
  reference.DiscardUnknownFields();
  std::string ours, theirs;
  logguard::append_frame(ours, entry);
  logguard::append_frame(theirs, reference);
  check(ours == theirs);
  return 0;
}
