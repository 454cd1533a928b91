// CompressionYield: whether the compressor may go on or should leave the CPUs
// to others. Compression is work that can wait: during a flood the engine
// (dockerd copies every line) needs every CPU cycle, and the plugin's own
// cgroup puts the compressor on a par with the engine's threads whatever its
// nice value says (the kernel weighs the plugin's cgroup as a whole, and the
// compressor is most of what runs in it). So it works in stints of at most
// stint_nanos, each begun after a look: a pause of look_nanos in which it does
// nothing and the node's idle CPU is measured. Only a look in which nearly a
// whole CPU sat idle begins a stint (a single thread then takes what nobody
// wanted); otherwise it looks again.
//
// The backlog is bounded: a job submitted longer than max_defer ago goes on
// whatever the CPUs do (a node that is always busy still gets its files
// compressed), and while files wait plain they are still counted by their
// container's max-file, so a container's disk use is at most what
// compress=false would use. Pure: the caller samples and pauses.
#pragma once

#include <cstdint>
#include <optional>

#include "logguard/base/cpu_meter.h"

namespace logguard {

struct CompressionYieldConfig {
  // How long a look pauses to measure the idle CPU. Long enough to see past
  // the moment a job comes in: a rotation, when the writer and so the engine
  // stall briefly on the directory's fsync (100 ms looks saw idle CPU there
  // and compressed beside a flood).
  int64_t look_nanos = 500'000'000;
  // How long a stint may run before the next look.
  int64_t stint_nanos = 2'000'000'000;
  // Idle CPUs a look must find to begin a stint.
  double min_idle_cpus = 0.9;
  // A job waiting longer than this since it was submitted goes on regardless.
  int64_t max_defer_nanos = 30'000'000'000;
};

class CompressionYield {
 public:
  explicit CompressionYield(CompressionYieldConfig config = {}) : config_(config) {}

  // True while no look is needed: a stint runs, or the job has waited long enough.
  bool may_go_on(int64_t now_nanos, int64_t job_age_nanos) const {
    return job_age_nanos >= config_.max_defer_nanos ||
           (stint_began_ && now_nanos - *stint_began_ < config_.stint_nanos);
  }
  // A look's verdict from the samples taken before and after its pause (a
  // missing one: the node's figures cannot be read, so nothing waits for
  // them). True begins a stint at now_nanos.
  bool look(const std::optional<CpuSample>& before, const std::optional<CpuSample>& after,
            int64_t now_nanos, int64_t job_age_nanos);
  // The idle CPUs the last look measured (0 before one).
  double idle_cpus() const { return idle_cpus_; }
  const CompressionYieldConfig& config() const { return config_; }

 private:
  CompressionYieldConfig config_;
  std::optional<int64_t> stint_began_;
  double idle_cpus_ = 0;
};

}  // namespace logguard
