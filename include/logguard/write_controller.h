// WriteController: sets the node write budget from the health of the log
// filesystem, as TCP's congestion control sets a window from the health of
// a path (additive increase, multiplicative decrease). Pure: the node guard
// feeds it probe latencies and usage, with the times.
//
// The signal is what other processes on the disk feel: the latency of a
// small write + fdatasync in the log root (see latency_probe.h), including
// time spent in cgroup throttling, which /proc/diskstats does not show.
//  - A probe slower than the target (or one still in flight for longer than
//    the target: a stalled disk must be answered before the probe returns)
//    cuts the budget by kDecrease (down to kDeepestDecrease when the latency
//    is far over the target), at most once per hold period (the latency
//    seen, between 1 and 3 s): the queue a cut drains takes that long to show
//    in the probes, as TCP cuts once per round trip.
//  - While no probe of the last 5 s took over half the target and the
//    budget is in use (at least half of it written over the last tick), it
//    grows by kIncreasePerSecond; otherwise it holds. The window covers the
//    periodic flushes of filesystems (ext4 commits every 5 s): the budget
//    must fit those bursts too, not just the calm between them. Until the
//    first cut it grows by a quarter a second instead (a gentle slow start),
//    so a busy node on a fast disk is not held back for minutes.
//    An idle budget does not grow: the first flood after a quiet hour must
//    not meet a budget the disk has never been shown to carry.
//  - The budget stays within [floor, ceiling].
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace logguard {

struct WriteControllerConfig {
  double initial = 16e6;       // bytes per second
  double floor = 1e6;
  double ceiling = 256e6;
  int64_t target_nanos = 50'000'000;
};

class WriteController {
 public:
  static constexpr double kDecrease = 0.5;
  static constexpr double kDeepestDecrease = 0.125;
  static constexpr double kIncreasePerSecond = 2e6;
  static constexpr int64_t kMinHoldNanos = 1'000'000'000;
  static constexpr int64_t kMaxHoldNanos = 3'000'000'000;
  // Growth needs this long without a probe over half the target.
  static constexpr int64_t kHealthyWindowNanos = 5'000'000'000;
  static constexpr double kSlowStartPerSecond = 0.25;

  explicit WriteController(WriteControllerConfig config);

  // A probe completed with this latency.
  void on_probe(int64_t mono_now, int64_t latency_nanos);
  // Called every tick: in_flight_nanos is the age of a probe not yet
  // completed (0 if none); used_rate the bytes per second written against the
  // budget since the last tick.
  void on_tick(int64_t mono_now, int64_t in_flight_nanos, double used_rate);

  double rate() const { return rate_; }
  // The worst latency seen since the last report; for the log.
  int64_t latency_seen() const { return worst_latency_; }
  // When the budget has moved by more than half since it was last reported,
  // a line saying so (once per move); nullopt otherwise.
  std::optional<std::string> take_report();

 private:
  void congested(int64_t mono_now, int64_t latency_nanos);

  WriteControllerConfig config_;
  double rate_;
  double reported_rate_;
  int64_t hold_until_ = 0;      // no cut and no growth before this
  int64_t last_tick_ = 0;
  int64_t last_slow_ = 0;      // the last probe over half the target; 0: none yet
  bool slow_start_ = true;      // no cut yet
  int64_t worst_latency_ = 0;   // since the last report
};

}  // namespace logguard
