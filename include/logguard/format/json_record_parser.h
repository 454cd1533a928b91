// Reading json-file records back (json_record.h writes them): a fast path
// for the exact shape logguard and json-file write, a full JSON parser for
// anything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/format/json_record.h"

namespace logguard {

// Decodes one line (with or without its trailing '\n'). Fast path for the
// exact shape we and json-file write; falls back to a full JSON parser for
// anything else (non-string attrs then read as their JSON text). nullopt if
// the line is not a valid record: no parsable time, or arrays and objects
// nested more than kMaxJsonNesting (json_nesting.h) levels deep.
std::optional<Record> parse_json_record(std::string_view line);

// Only the "time" of a record, cheaply (for binary search by time).
std::optional<int64_t> parse_json_record_time(std::string_view line);

}  // namespace logguard
