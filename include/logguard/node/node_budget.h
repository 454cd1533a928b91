// NodeBudget: the node-wide budget for everything logguard writes to the log
// filesystem (records, notices, compressed rotations), shared max-min fairly
// by the writers that want it. Pure: callers pass monotonic times.
//
// Accepting a record and putting it on the disk are separate: records go to
// the page cache at once, and the write-back hands them to the disk at the
// budget's rate (write_back.h). The budget decides by the write-back's
// backlog (bytes written, not yet handed over) against the node's allowance:
//  - calm, below half the allowance: everything is admitted. A burst — a
//    deployment starting, a stack trace, a plugin restart catching up — is
//    taken whole, and reaches the disk at its pace afterwards.
//  - pressed, above half: floods are outrunning the disk. Each writer gets
//    its fair share of the rate: a bucket at the fair level L, recomputed
//    every interval by rebalance() from what the writers asked for
//    (water-filling: a writer wanting less than L gets all it wants, the
//    others split the rest evenly). Together they add at most the rate, so
//    the backlog stops growing.
//  - full, at the allowance: only quiet writers (in the last interval they
//    asked for less than half the level and were never refused) are
//    admitted, up to a little beyond it, so a container logging below its
//    share is never held back however hard the others flood.
// The allowance is the node's setting but at most kMaxBacklogSeconds of the
// rate: the kernel writes dirty data out by itself after 30 s, all at once,
// which is what pacing avoids (and the rate may halve after the bytes came).
//
// The allowance is for bursts, not for floods. The kernel dates a file's
// dirty pages from when the file was first dirtied and the write-back's
// sync_file_range never makes it clean in the kernel's eyes, so 30 s into a
// flood it writes out every flooded file's backlog at once: with 64 MB held
// on a 20 MB/s disk, a neighbour's fsync waited 0.5-1.2 s. So once the
// backlog has stayed above the low water (kLowWaterSeconds of the rate, at
// least 1 MiB) for kSustainNanos, the floods share half the rate until it is
// back there, and only the low water is calm; that ends once the writers
// have wanted less than the rate, unrefused, for kSustainNanos.
//
// Threads: a Share is used by one writer thread; set_rate() and rebalance()
// are called by the node guard's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "logguard/base/token_bucket.h"
#include "logguard/storage/write_charge.h"

namespace logguard {

class NodeBudget : public std::enable_shared_from_this<NodeBudget> {
 public:
  static constexpr int64_t kIntervalNanos = 100'000'000;  // rebalance period
  static constexpr double kMaxBacklogSeconds = 15;
  static constexpr int64_t kSustainNanos = 5'000'000'000;
  static constexpr double kLowWaterSeconds = 0.1;

  // rate: bytes per second; <= 0 means no node budget (everything admitted).
  // allowance: the bytes the backlog may hold. backlog: the write-back's
  // count of bytes not yet handed to the disk; it must outlive the budget.
  static std::shared_ptr<NodeBudget> create(double rate, uint64_t allowance,
                                            const std::atomic<uint64_t>& backlog,
                                            int64_t mono_now);

  class Share;
  // A writer joins; it leaves when the Share is destroyed.
  std::shared_ptr<Share> join(std::string name, int64_t mono_now);

  // The budget now (bytes per second; 0 = unlimited). The node guard moves it.
  double rate() const;
  void set_rate(double rate, int64_t mono_now);
  // The backlog the budget allows now: the setting, bounded by the rate.
  uint64_t allowance() const { return allowance_.load(std::memory_order_relaxed); }
  uint64_t backlog() const { return backlog_.load(std::memory_order_relaxed); }
  // Below this backlog everything is admitted: half the allowance, or the
  // low water during a sustained flood.
  uint64_t calm_below() const { return calm_below_.load(std::memory_order_relaxed); }
  // Whether floods have outrun the disk for longer than a burst.
  bool sustained() const { return sustained_.load(std::memory_order_relaxed); }
  // Recomputes the fair level from what each share asked for since the last
  // call. Call every kIntervalNanos.
  void rebalance(int64_t mono_now);
  // The current fair level L (bytes per second; 0 while unlimited).
  double fair_level() const;
  // Bytes admitted and charged through the budget so far (all shares).
  uint64_t bytes_used() const { return used_.load(std::memory_order_relaxed); }

  // Water-filling: the level L such that the demands, each capped at L, add
  // up to `rate`; demands < 0 stand for "unbounded". With no unbounded demand
  // and a total below rate, returns rate (anyone may then use all of it).
  static double fair_level_for(const std::vector<double>& demands, double rate);

 private:
  NodeBudget(double rate, uint64_t allowance, const std::atomic<uint64_t>& backlog);
  void leave(Share* share);
  void set_allowance_locked();
  uint64_t low_water_locked() const;
  // Follows a sustained flood's start and end; returns the rate the shares
  // may add up to.
  double follow_pressure_locked(int64_t mono_now, double asked, bool refused);
  // The quiet writers' margin beyond the allowance.
  uint64_t quiet_margin() const;

  const uint64_t setting_;                // the allowance asked for
  const std::atomic<uint64_t>& backlog_;
  mutable std::mutex mu_;
  double rate_;                           // guarded by mu_
  std::vector<Share*> shares_;            // guarded by mu_
  int64_t last_rebalance_ = 0;            // guarded by mu_
  int64_t above_low_since_ = 0;           // guarded by mu_; 0: at or below the low water
  int64_t last_pressed_ = 0;              // guarded by mu_: writers wanted the rate or more
  std::atomic<bool> sustained_{false};
  std::atomic<uint64_t> calm_below_{0};
  std::atomic<uint64_t> allowance_{0};
  std::atomic<double> level_{0};
  std::atomic<uint64_t> used_{0};
};

class NodeBudget::Share : public WriteCharge {
 public:
  ~Share() override;
  Share(const Share&) = delete;
  Share& operator=(const Share&) = delete;

  const std::string& name() const { return name_; }

  struct Verdict {
    bool admitted;
    int64_t wait_nanos;  // when refused: how long until it may succeed
  };
  // Whether `cost` bytes may be written now; if so they are charged.
  Verdict admit(int64_t mono_now, uint64_t cost);
  // Charges bytes written without asking (the rest of an admitted line,
  // notices, compressed output): they count, and may put the share in debt.
  void charge(int64_t mono_now, uint64_t cost) override;
  // Nanoseconds until this share may write again (for writers that pay
  // after writing, such as the compressor); 0 if it may now.
  int64_t nanos_until_clear(int64_t mono_now) override;

 private:
  friend class NodeBudget;
  Share(std::shared_ptr<NodeBudget> budget, std::string name, int64_t mono_now);
  void follow_level(int64_t mono_now);
  // Nanoseconds until the backlog is `excess` bytes smaller.
  int64_t nanos_to_drain(uint64_t excess) const;

  std::shared_ptr<NodeBudget> budget_;
  std::string name_;
  // Writer thread only:
  TokenBucket own_;
  double own_rate_ = 0;
  // Read by rebalance():
  std::atomic<uint64_t> asked_{0};     // bytes offered since the last rebalance
  std::atomic<bool> limited_{false};   // refused since the last rebalance
  std::atomic<bool> quiet_{true};      // set by rebalance()
  bool new_ = true;                    // guarded by the budget's mu_: not yet rebalanced
};

}  // namespace logguard
