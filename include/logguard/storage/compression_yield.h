// CompressionYield: whether the compressor may go on now or should leave the
// CPUs to others. Compression is work that can wait: during a flood the
// engine (dockerd copies every line) needs every CPU cycle, and the plugin's
// own cgroup puts the compressor on a par with the engine's threads whatever
// its nice value says (the kernel weighs the plugin's cgroup as a whole, and
// the compressor is all that runs in it between the writers' turns). So it
// goes on only while the node has idle CPU, and catches up when there is.
//
// The backlog is bounded: a job submitted longer than max_defer ago goes on
// whatever the CPUs do (a node that is always busy still gets its files
// compressed), and while files wait plain they are still counted by their
// container's max-file, so a container's disk use is at most what
// compress=false would use. Pure: the caller samples and sleeps.
#pragma once

#include <cstdint>
#include <optional>

#include "logguard/base/cpu_meter.h"

namespace logguard {

struct CompressionYieldConfig {
  // How long a look lasts: the idle CPU is measured over at least this long.
  int64_t look_nanos = 100'000'000;
  // Idle CPUs (the compressor's own use counted as idle) needed to go on.
  double min_idle_cpus = 0.5;
  // A window longer than this (the compressor had nothing to do) says
  // nothing about now: a new look begins, and until it ends, it waits.
  int64_t stale_nanos = 1'000'000'000;
  // A job waiting longer than this since it was submitted goes on regardless.
  int64_t max_defer_nanos = 60'000'000'000;
};

class CompressionYield {
 public:
  explicit CompressionYield(CompressionYieldConfig config = {}) : config_(config) {}

  // Whether to go on now, given a fresh sample (nullopt: the node's figures
  // cannot be read) and how long ago the running job was submitted. Over a
  // window shorter than look_nanos the last answer stands; the first sample,
  // and one after a stale window, begin a look (answer: wait).
  bool may_go(const std::optional<CpuSample>& now, int64_t job_age_nanos);
  // True if the answer is "go on" whatever a new sample says: the job has
  // waited long enough, or the last answer was "go on" and its look is
  // younger than look_nanos (a caller need not read the node's figures for
  // every piece of work).
  bool go_stands(int64_t now_nanos, int64_t job_age_nanos) const {
    return job_age_nanos >= config_.max_defer_nanos ||
           (idle_enough_ && window_start_ &&
            now_nanos - window_start_->at_nanos < config_.look_nanos);
  }
  // The idle CPUs the last full window measured (0 before one).
  double idle_cpus() const { return idle_cpus_; }
  const CompressionYieldConfig& config() const { return config_; }

 private:
  CompressionYieldConfig config_;
  std::optional<CpuSample> window_start_;
  double idle_cpus_ = 0;
  bool idle_enough_ = false;
};

}  // namespace logguard
