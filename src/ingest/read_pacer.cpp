#include "logguard/ingest/read_pacer.h"

#include <algorithm>
#include <cmath>

namespace logguard {
namespace {

constexpr double kRateHalfLifeNanos = 100e6;
// Intervals shorter than this are taken as this long: a turn that starts
// right after the last one measures no meaningful rate.
constexpr int64_t kMinIntervalNanos = 100'000;

// How much of the pipe a gather may let fill: a quarter, room for the rate
// to quadruple before the writer blocks; half of a large pipe (a busy
// stream's), whose other half still holds ~20 ms of the fastest flood
// measured here, for half as many turns (the write path's CPU per GiB went
// from 3.7 to 2.9-3.3 s in the runs here).
size_t gather_share(size_t capacity) {
  return capacity >= ReadPacer::kLargePipeBytes ? capacity / 2 : capacity / 4;
}

}  // namespace

int64_t ReadPacer::after_turn(int64_t start, int64_t end, size_t bytes, size_t capacity,
                              int64_t max_gather) {
  busy_ = false;
  if (bytes == 0) return 0;  // nothing came: the poll waits for the next byte
  const bool quiet = last_end_ == 0 || start - last_end_ > 2 * max_gather;
  const int64_t interval = std::max(start - last_end_, kMinIntervalNanos);
  last_end_ = end;
  if (quiet) {
    // What a quiet stream says first tells nothing of its rate.
    recent_bytes_ = recent_nanos_ = 0;
  } else {
    const double weight = std::exp2(-static_cast<double>(interval) / kRateHalfLifeNanos);
    recent_bytes_ = recent_bytes_ * weight + static_cast<double>(bytes);
    recent_nanos_ = recent_nanos_ * weight + static_cast<double>(interval);
  }
  // Behind (a quarter of the pipe beyond what a gather aims at): read on.
  const size_t share = gather_share(capacity);
  if (capacity == 0 || bytes >= share + capacity / 4) {
    busy_ = true;
    return 0;
  }
  if (quiet) return std::min(kWakeGatherNanos, max_gather);
  const double fill = static_cast<double>(share) * recent_nanos_ / recent_bytes_;
  busy_ = fill < static_cast<double>(kBusyNanos);
  return static_cast<int64_t>(std::min(fill, static_cast<double>(max_gather)));
}

}  // namespace logguard
