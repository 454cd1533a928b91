// json-file records: the parser and the time probe on arbitrary lines (they
// must agree when both find a time), and encode -> parse -> encode reaching
// a fixed point for arbitrary field values.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "logguard/format/json_record.h"
#include "logguard/format/json_record_parser.h"

namespace {

using logguard::Attrs;
using logguard::RecordView;

void check(bool ok) {
  if (!ok) std::abort();
}

void parse_line(std::string_view line) {
  const auto record = logguard::parse_json_record(line);
  const auto time = logguard::parse_json_record_time(line);
  if (record && time) check(record->time_nanos == *time);
}

std::string encode(const RecordView& view) {
  std::string line;
  check(logguard::append_json_record(line, view));
  check(line.size() == logguard::json_record_size(view));
  return line;
}

void round_trip(FuzzedDataProvider& in) {
  const std::string log = in.ConsumeRandomLengthString(300);
  const std::string stream = in.ConsumeRandomLengthString(10);
  const int64_t time = in.ConsumeIntegral<int64_t>();
  const bool newline = in.ConsumeBool();
  Attrs attrs;
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) {
    std::string key = in.ConsumeRandomLengthString(10);
    attrs.emplace_back(std::move(key), in.ConsumeRandomLengthString(20));
  }
  std::sort(attrs.begin(), attrs.end());
  const RecordView view{log, stream, time, &attrs, newline};
  std::string first;
  if (!logguard::append_json_record(first, view)) return;
  check(first.size() == logguard::json_record_size(view));
  const auto parsed = logguard::parse_json_record(first);
  check(parsed.has_value());
  check(parsed->time_nanos == time);
  check(!newline || (!parsed->log.empty() && parsed->log.back() == '\n'));
  check(logguard::parse_json_record_time(first) == time);
  const std::string second = encode(RecordView{parsed->log, parsed->stream, time, &parsed->attrs});
  const auto again = logguard::parse_json_record(second);
  check(again.has_value());
  check(again->log == parsed->log && again->stream == parsed->stream &&
        again->attrs == parsed->attrs);
  check(encode(RecordView{again->log, again->stream, time, &again->attrs}) == second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse_line(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  round_trip(in);
  return 0;
}
