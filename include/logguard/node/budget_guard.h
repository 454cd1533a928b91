// BudgetGuard: the node's write budget (node_budget.h), kept where the log
// disk can take it.
//  - NODE_WRITE_RATE=auto: the WriteController sets the budget from the
//    LatencyProbe; fixed: the given rate; off: no budget.
//  - Each tick the write-back (write_back.h) is paced at the budget, and the
//    fair shares are computed on what the node can really sustain: the
//    budget, or less if the disk took our chunks slower than that lately.
//  - The node's allowance of written-but-not-handed-over bytes
//    (NODE_WRITE_BURST) is what bursts are absorbed by.
// Threads: tick() runs on the node guard's thread; the probe has its own.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "logguard/base/clock.h"
#include "logguard/base/file_system.h"
#include "logguard/node/latency_probe.h"
#include "logguard/metrics/metrics.h"
#include "logguard/node/node_budget.h"
#include "logguard/config/node_settings.h"
#include "logguard/storage/write_back.h"
#include "logguard/node/write_controller.h"

namespace logguard {

class BudgetGuard {
 public:
  // root: the log root, fs its file system (the probe's file lives there).
  // metrics: where probe latencies go; may be null.
  BudgetGuard(const NodeSettings& settings, const std::string& root, FileSystem& fs,
              WriteBack& write_back, Clock& clock, Metrics* metrics);
  ~BudgetGuard();

  // Starts and stops the probe (auto mode).
  void start();
  void stop();

  // Follows the probe (auto), paces the write-back and rebalances the shares.
  void tick(int64_t mono_now);
  // A writer's share of the budget.
  std::shared_ptr<NodeBudget::Share> join(const std::string& name);
  NodeBudget& budget() { return *budget_; }
  // "node-rate=..." for notices.
  std::string describe() const;

 private:
  // The budget's rate now (0: none), before the disk's own rate bounds it.
  double pace() const;

  NodeSettings settings_;
  WriteBack& write_back_;
  Clock& clock_;
  Metrics* metrics_;
  std::optional<WriteController> controller_;  // auto mode only
  std::unique_ptr<LatencyProbe> probe_;         // auto mode only
  std::shared_ptr<NodeBudget> budget_;
  double paced_ = 0;  // the write-back's pace as last set
};

}  // namespace logguard
