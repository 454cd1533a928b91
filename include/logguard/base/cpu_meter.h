// CpuMeter: the seam through which the compressor sees how busy the node's
// CPUs are, so that it can leave them to the engine during a flood. Tests
// substitute a meter whose figures they set.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "logguard/base/clock.h"
#include "logguard/base/file_system.h"

namespace logguard {

// One look at the CPUs. Only differences between two samples mean anything.
struct CpuSample {
  int64_t at_nanos = 0;    // monotonic time of the look
  // Time the node's CPUs had to spare, summed over them: idle, waiting for
  // I/O, or running niced tasks (nice > 0: work that has said it gives way to
  // everyone; the compressor, nice 19 in a cgroup weighted as a whole, would
  // take that CPU from them if it asked).
  int64_t spare_nanos = 0;
};

class CpuMeter {
 public:
  virtual ~CpuMeter() = default;
  // Nullopt if the node's figures cannot be read (then nothing waits for them).
  virtual std::optional<CpuSample> sample() = 0;
};

// The spare time in /proc/stat's first line ("cpu  user nice system idle
// iowait ..."), nice plus idle plus iowait, in nanoseconds given the kernel's
// ticks per second; nullopt if the text does not start with that line.
std::optional<int64_t> spare_nanos_from_proc_stat(std::string_view text, int64_t ticks_per_second);

// The real meter: /proc/stat (not namespaced: it counts the whole node, as a
// plugin sees it too) and `clock`.
class ProcCpuMeter : public CpuMeter {
 public:
  // host_fs: an unrooted FileSystem (main's), to read /proc/stat through.
  ProcCpuMeter(FileSystem& host_fs, Clock& clock);
  std::optional<CpuSample> sample() override;

 private:
  FileSystem& fs_;
  Clock& clock_;
  const int64_t ticks_per_second_;
};

}  // namespace logguard
