// Where to start reading a log file for Docker's tail and since, without
// reading what is skipped: pure functions over an open file's bytes.
//
// Cost: find_tail_start reads backwards only as far as the lines it counts;
// seek_since binary-searches record times, so it reads O(log size) small
// blocks whatever the size of the history it skips.
#pragma once

#include <cstdint>
#include <optional>

#include "logguard/format/compression.h"
#include "logguard/base/file_system.h"

namespace logguard {

struct TailStart {
  uint64_t offset;  // start of the first of the last lines
  uint64_t lines;   // complete lines from there to the end (at most the number asked for)
};

// The last `want` complete lines of bytes [begin, end) of a plain file,
// found by reading backwards; a trailing incomplete line is not counted.
// With want 0: the offset just past the last '\n' (begin if none).
// Throws std::runtime_error if the file is shorter than end.
TailStart find_tail_start(ReadableFile& file, uint64_t begin, uint64_t end, uint64_t want);

// The time of the last complete record in bytes [0, end); nullopt if none
// has a parsable time among the last few lines.
std::optional<int64_t> last_record_time(ReadableFile& file, uint64_t end);

struct SinceStart {
  // A line start in [begin, end): every record before it is older than since.
  uint64_t offset;
  // False if the probed times were not ascending (a clock stepped back): the
  // search cannot be trusted, offset is begin and the range must be scanned.
  bool ascending;
};

// Where reading bytes [begin, end) (begin a line start) of a plain file for
// the records at or after `since` can start.
SinceStart seek_since(ReadableFile& file, uint64_t begin, uint64_t end, int64_t since);

// The complete lines of a byte source, read to its end (decompresses a
// compressed file once).
uint64_t count_lines(ByteSource& source);

}  // namespace logguard
