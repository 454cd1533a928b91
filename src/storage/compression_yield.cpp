#include "logguard/storage/compression_yield.h"

namespace logguard {

bool CompressionYield::may_go(const std::optional<CpuSample>& now, int64_t job_age_nanos) {
  if (!now) return true;  // nothing to measure: do not wait on it
  const int64_t window = window_start_ ? now->at_nanos - window_start_->at_nanos : 0;
  if (!window_start_ || window > config_.stale_nanos) {
    window_start_ = now;
    idle_enough_ = false;
  } else if (window >= config_.look_nanos) {
    // The compressor's own CPU time counts as idle: it gives it back by waiting.
    const int64_t idle = (now->idle_nanos - window_start_->idle_nanos) +
                         (now->self_nanos - window_start_->self_nanos);
    idle_cpus_ = static_cast<double>(idle) / static_cast<double>(window);
    idle_enough_ = idle_cpus_ >= config_.min_idle_cpus;
    window_start_ = now;
  }
  return idle_enough_ || job_age_nanos >= config_.max_defer_nanos;
}

}  // namespace logguard
