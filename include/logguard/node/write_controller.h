// WriteController: sets the node write budget — the pace at which the
// write-back hands logs to the disk — from the health of the log
// filesystem, as delay-based congestion control sets a window from the
// health of a path. Pure: the node guard feeds it probe latencies, with the
// times.
//
// The signal is what other processes on the disk feel: the latency of a
// small write + fdatasync in the log root (see latency_probe.h), including
// time spent in cgroup throttling, which /proc/diskstats does not show.
//  - It starts open, at the ceiling: the write-back keeps at most a chunk of
//    ours queued at the device (write_back.h), so a budget above what the
//    disk takes costs others little, and one below it costs logs.
//  - It acts on the window's second-worst probe of the last 2 s, not on one
//    probe: a single slow fdatasync (a journal commit, a neighbour's burst)
//    must not halve the budget. Over the target, the budget is cut by
//    target/latency (between kDecrease and kDeepestDecrease), at most once
//    per hold period (the latency seen, between 1 and 3 s): the queue a cut
//    drains takes that long to show in the probes.
//  - A probe still in flight kStallFactor times longer than the target is a
//    stalled disk: it is answered before the probe returns.
//  - Under the target it grows in proportion to how far under it is (as
//    LEDBAT does): by half of itself a second when the probes are quick
//    (back to the ceiling in seconds: 1 MB/s to 256 MB/s in about 14 s), by
//    less as they near the target. A budget that only grew under half the
//    target ratcheted down on a disk whose probes sat between half and all
//    of it: every cut stuck.
//  - The budget stays within [floor, ceiling].
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace logguard {

struct WriteControllerConfig {
  double floor = 1e6;  // bytes per second
  double ceiling = 256e6;
  int64_t target_nanos = 50'000'000;
};

class WriteController {
 public:
  static constexpr double kDecrease = 0.5;
  static constexpr double kDeepestDecrease = 0.125;
  static constexpr double kIncreasePerSecond = 0.5;  // of the budget, with quick probes
  static constexpr int64_t kWindowNanos = 2'000'000'000;
  static constexpr int64_t kMinHoldNanos = 1'000'000'000;
  static constexpr int64_t kMaxHoldNanos = 3'000'000'000;
  static constexpr int64_t kStallFactor = 4;

  explicit WriteController(WriteControllerConfig config);

  // Narrows [floor, ceiling] to [low, high] (within the configured ones),
  // the budget moved into it. The node guard sets it from the rate the disk
  // takes the write-back's chunks at.
  void set_bounds(double low, double high);
  // A probe completed with this latency.
  void on_probe(int64_t mono_now, int64_t latency_nanos);
  // Called every tick: in_flight_nanos is the age of a probe not yet
  // completed (0 if none).
  void on_tick(int64_t mono_now, int64_t in_flight_nanos);

  double rate() const { return rate_; }
  // When the budget has moved by more than half since it was last reported,
  // a line saying so (once per move); nullopt otherwise.
  std::optional<std::string> take_report();

 private:
  // The second-worst latency of the window (0 with fewer than two probes).
  int64_t window_latency() const;
  void forget_before(int64_t mono_now);
  void congested(int64_t mono_now, int64_t latency_nanos);

  WriteControllerConfig config_;
  double floor_, ceiling_;  // in force: the configured ones, narrowed by set_bounds()
  double rate_;
  double reported_rate_;
  std::deque<std::pair<int64_t, int64_t>> window_;  // (time, latency) of the recent probes
  int64_t hold_until_ = 0;     // no cut and no growth before this
  int64_t last_tick_ = 0;
  int64_t worst_latency_ = 0;  // since the last report
};

}  // namespace logguard
