// NodeBudget: the node-wide write budget for everything logguard writes to
// the log filesystem (records, notices, compressed rotations), shared max-min
// fairly by the writers that want it. Pure: callers pass monotonic times.
//
// Two layers:
//  - the node bucket (rate R, the budget; burst R x 100 ms) bounds the sum:
//    over any T seconds all writers together write at most R*T plus a small
//    burst, however many there are and whenever they start;
//  - each writer's Share has a bucket at the fair level L, recomputed every
//    interval by rebalance() from the writers' demand (water-filling): a
//    writer wanting less than L gets all it wants, the others split the rest
//    evenly. A writer whose demand falls gives its share back at the next
//    rebalance.
// A quiet writer (in the last interval it asked for less than half the fair
// level and was never refused) may take from the node bucket even when that
// is empty, down to a small debt that only quiet writers can reach; so a
// container logging below its share is never limited by the node budget,
// however hard the others flood. Writers start quiet; what all of them can
// overdraw together is bounded by that debt.
//
// Threads: a Share is used by one writer thread; its node-bucket leases take
// the budget's mutex once per 16 KiB, not once per record. set_rate() and
// rebalance() are called by the node guard's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "logguard/token_bucket.h"

namespace logguard {

class NodeBudget : public std::enable_shared_from_this<NodeBudget> {
 public:
  static constexpr int64_t kIntervalNanos = 100'000'000;  // rebalance period

  // rate: bytes per second; <= 0 means no node budget (everything admitted).
  static std::shared_ptr<NodeBudget> create(double rate, int64_t mono_now);

  class Share;
  // A writer joins; it leaves when the Share is destroyed.
  std::shared_ptr<Share> join(std::string name, int64_t mono_now);

  // The budget now (bytes per second; 0 = unlimited). The controller moves it.
  double rate() const;
  void set_rate(double rate, int64_t mono_now);
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
  NodeBudget(double rate, int64_t mono_now);
  bool lease(int64_t mono_now, uint64_t bytes, bool quiet);
  int64_t nanos_until_node_tokens(int64_t mono_now);
  void leave(Share* share);

  mutable std::mutex mu_;
  double rate_;                           // guarded by mu_
  TokenBucket node_;                      // guarded by mu_
  std::vector<Share*> shares_;            // guarded by mu_
  int64_t last_rebalance_ = 0;            // guarded by mu_
  std::atomic<double> level_{0};
  std::atomic<uint64_t> used_{0};
};

class NodeBudget::Share {
 public:
  ~Share();
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
  void charge(int64_t mono_now, uint64_t cost);
  // Nanoseconds until this share is out of debt (for writers that pay after
  // writing, such as the compressor); 0 if it is now.
  int64_t nanos_until_clear(int64_t mono_now);

 private:
  friend class NodeBudget;
  Share(std::shared_ptr<NodeBudget> budget, std::string name, int64_t mono_now);
  void follow_level(int64_t mono_now);
  bool take_credit(int64_t mono_now, uint64_t cost);

  std::shared_ptr<NodeBudget> budget_;
  std::string name_;
  // Writer thread only:
  TokenBucket own_;
  double own_rate_ = 0;
  uint64_t credit_ = 0;  // node-bucket bytes leased and not yet spent
  // Read by rebalance():
  std::atomic<uint64_t> asked_{0};     // bytes offered since the last rebalance
  std::atomic<bool> limited_{false};   // refused since the last rebalance
  std::atomic<bool> quiet_{true};      // set by rebalance()
  bool new_ = true;                    // guarded by the budget's mu_: not yet rebalanced
};

}  // namespace logguard
