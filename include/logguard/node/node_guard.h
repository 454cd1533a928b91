// NodeGuard: keeps the node's log disk healthy whatever the containers do
// (issue: a flood of one container once took a whole node down). It
// composes three guards and runs them on one thread:
//  - BudgetGuard (budget_guard.h): the node write budget, the pace of the
//    write-back, bursts absorbed by the node's allowance; ticked every 100 ms;
//  - DiskGuard (disk_guard.h): the cap and the free-space floor; checked
//    every second, every 5 s while the headroom holds 10 s of the node's
//    writes, and every tick when it runs low;
//  - RemovalGuard (removal_guard.h): logs follow `docker rm`; every 10 s.
// Each session's NodeGate goes through the disk's headroom, then its share
// of the budget. A failing duty is logged and tried again; it never ends
// the thread or the plugin.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "logguard/node/budget_guard.h"
#include "logguard/base/clock.h"
#include "logguard/node/disk_guard.h"
#include "logguard/base/file_system.h"
#include "logguard/node/live_sessions.h"
#include "logguard/storage/log_directory.h"
#include "logguard/metrics/metrics.h"
#include "logguard/ingest/node_gate.h"
#include "logguard/config/node_settings.h"
#include "logguard/node/removal_guard.h"
#include "logguard/storage/write_back.h"

namespace logguard {

struct NodeGuardConfig {
  std::string root;             // the log root
  NodeSettings settings;
  std::string containers_dir;   // the engine's containers directory; empty: not given
  // Where probe latencies and each container's bytes on disk go; null: nowhere.
  Metrics* metrics = nullptr;
  // The links at CRI log paths, removed with the logs; null: none are made.
  PodLinks* pod_links = nullptr;
  // How long the guard's thread waits between ticks: the budget's interval.
  // A test shortens it so that duties due every so many ticks come in
  // milliseconds, not seconds.
  std::chrono::nanoseconds tick{NodeBudget::kIntervalNanos};
};

class NodeGuard : public NodeGates {
 public:
  // fs: the log root's file system; engine_fs: where containers_dir is
  // looked up; space: the log filesystem's size and free space (statvfs of
  // the root if empty).
  NodeGuard(NodeGuardConfig config, FileSystem& fs, FileSystem& engine_fs,
            LogDirectories& directories, WriteBack& write_back, Clock& clock,
            DiskGuard::SpaceFn space = {});
  ~NodeGuard() override;

  // Starts the guard's thread (and the probe); sessions says which
  // containers are live. stop() joins them.
  void start(LiveSessions& sessions);
  void stop();

  std::unique_ptr<NodeGate> gate_for(const std::string& container_id) override;

  BudgetGuard& budget() { return budget_; }
  DiskGuard& disk() { return disk_; }
  RemovalGuard& removals() { return removals_; }

 private:
  class Gate;
  void run(LiveSessions& sessions);
  // Runs one duty; what it throws is logged, and the guard goes on.
  template <typename Duty>
  void attempt(const char* what, Duty&& duty);
  void follow_write_rate(int64_t mono_now);
  int64_t low_water() const;

  NodeGuardConfig config_;
  Clock& clock_;
  BudgetGuard budget_;
  DiskGuard disk_;
  RemovalGuard removals_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
  // The guard thread's view of how fast the node writes (bytes per second).
  uint64_t last_used_ = 0;
  int64_t last_tick_ = 0;
  double write_rate_ = 0;
};

}  // namespace logguard
