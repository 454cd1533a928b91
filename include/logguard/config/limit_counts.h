// What a container's limiter counts and carries over a restart, as plain
// data: the limiter (limiter.h) fills it, the session store (session_store.h)
// saves it and the metrics (metrics.h) publish it, none of them knowing the
// others.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace logguard {

// What dropped a line, as logguard.limit and the metrics name it. A line
// refused by several limits at once is counted under the first of these.
enum DropCause : size_t {
  kCauseRate,
  kCauseLineRate,
  kCauseNodeRate,
  kCauseNodeDisk,
  kCauseNodeFree,
  kCauseRestart,
  kCauseWriteError,
  kDropCauses
};
// "rate", "line-rate", ...; "unknown" past the last.
const char* drop_cause_name(size_t cause);

// Drops of one stream not yet announced by a notice.
struct PendingDrops {
  std::string stream;
  uint64_t lines = 0, bytes = 0;
  unsigned limits = 0;  // the limits that dropped them (bit per DropCause)
  int64_t first_wall = 0, last_wall = 0;
};

// What a restart carries over: tokens and unannounced drops.
struct LimiterSnapshot {
  double byte_tokens = 0, line_tokens = 0;
  std::vector<PendingDrops> pending;
};

// What a limiter has seen, since its session started.
struct LimitTotals {
  uint64_t lines_received = 0, lines_admitted = 0, lines_dropped = 0;
  uint64_t bytes_received = 0, bytes_admitted = 0, bytes_dropped = 0;  // raw bytes
  // lines_dropped and bytes_dropped by DropCause.
  std::array<uint64_t, kDropCauses> lines_dropped_by{}, bytes_dropped_by{};
};

}  // namespace logguard
