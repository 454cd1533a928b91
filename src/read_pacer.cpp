#include "logguard/read_pacer.h"

#include <algorithm>
#include <cmath>

namespace logguard {
namespace {

constexpr double kRateHalfLifeNanos = 1e9;
// Intervals shorter than this are taken as this long: a turn that starts
// right after the last one measures no meaningful rate.
constexpr int64_t kMinIntervalNanos = 100'000;

}  // namespace

int64_t ReadPacer::after_turn(int64_t start, int64_t end, size_t bytes, size_t capacity,
                              int64_t max_gather) {
  if (bytes == 0) return 0;  // nothing came: the poll waits for the next byte
  const bool quiet = last_end_ == 0 || start - last_end_ > 2 * max_gather;
  const int64_t interval = quiet ? 2 * max_gather : std::max(start - last_end_, kMinIntervalNanos);
  last_end_ = end;
  if (rate_at_ != 0) {
    rate_ *= std::exp2(-static_cast<double>(start - rate_at_) / kRateHalfLifeNanos);
  }
  rate_ = std::max(rate_, static_cast<double>(bytes) / static_cast<double>(interval));
  rate_at_ = start;
  if (capacity == 0 || bytes >= capacity / 2) return 0;  // behind: read on
  if (quiet) return std::min(kWakeGatherNanos, max_gather);
  const double fill_quarter = static_cast<double>(capacity) / 4 / rate_;
  return static_cast<int64_t>(std::min(fill_quarter, static_cast<double>(max_gather)));
}

}  // namespace logguard
