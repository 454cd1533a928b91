#include "logguard/storage/compression_yield.h"

namespace logguard {

bool CompressionYield::look(const std::optional<CpuSample>& before,
                            const std::optional<CpuSample>& after, int64_t now_nanos,
                            int64_t job_age_nanos) {
  bool go = job_age_nanos >= config_.max_defer_nanos;
  if (!before || !after || after->at_nanos <= before->at_nanos) {
    go = true;
  } else {
    idle_cpus_ = static_cast<double>(after->spare_nanos - before->spare_nanos) /
                 static_cast<double>(after->at_nanos - before->at_nanos);
    go = go || idle_cpus_ >= config_.min_idle_cpus;
  }
  if (go) stint_began_ = now_nanos;
  return go;
}

}  // namespace logguard
