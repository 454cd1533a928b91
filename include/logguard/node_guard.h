// NodeGuard: keeps the node's log disk healthy whatever the containers do
// (issue: a flood of one container once took a whole node down).
//  - The node write budget (node_budget.h), shared fairly by the sessions
//    and the compressor; in auto mode the WriteController sets it from the
//    LatencyProbe, else it is fixed or off (node_settings.h).
//  - The disk cap (NODE_MAX_DISK) and the free-space floor (NODE_MIN_FREE):
//    over the cap or under the floor it deletes the oldest files
//    (disk_usage.h's order) and, if that is not enough, refuses new records
//    (counted and announced as node-disk / node-free) until space returns.
//  - Logs follow `docker rm`: with the engine's containers directory (the
//    plugin's read-only `containers` mount, only ever stat'ed) a container's
//    logs are deleted once its directory is gone and no session is live.
//    Without it, RETAIN: logs of containers without a session are deleted
//    once their newest file is older than that.
// Threads: one guard thread ticks every 100 ms (budget, controller), checks
// the disk every second and removals every 10 s; the probe has its own. All
// of it is also callable directly, which is how the tests drive it.
#pragma once

#include <atomic>
#include <climits>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "logguard/clock.h"
#include "logguard/disk_usage.h"
#include "logguard/driver.h"
#include "logguard/file_system.h"
#include "logguard/kube_links.h"
#include "logguard/latency_probe.h"
#include "logguard/log_directory.h"
#include "logguard/metrics.h"
#include "logguard/node_budget.h"
#include "logguard/node_settings.h"
#include "logguard/write_controller.h"

namespace logguard {

struct FsSpace {
  uint64_t total = 0;      // bytes of the filesystem
  uint64_t available = 0;  // bytes free for unprivileged writers (statvfs f_bavail)
};

struct NodeGuardConfig {
  std::string root;             // the log root
  NodeSettings settings;
  std::string containers_dir;   // the engine's containers directory; empty: not given
  // Where probe latencies and each container's bytes on disk go; null: nowhere.
  Metrics* metrics = nullptr;
  // The links at CRI log paths, removed with the logs; null: none are made.
  PodLinks* pod_links = nullptr;
};

class NodeGuard : public NodeGates {
 public:
  using SpaceFn = std::function<std::optional<FsSpace>()>;

  // space: the log filesystem's size and free space (statvfs of the root if
  // empty). fs: the log root's file system.
  NodeGuard(NodeGuardConfig config, FileSystem& fs, LogDirectories& directories,
            Clock& clock = system_clock(), SpaceFn space = {});
  ~NodeGuard() override;

  // Starts the guard thread (and the probe in auto mode); stop() joins them.
  void start();
  void stop();

  std::unique_ptr<NodeGate> gate_for(const std::string& container_id) override;
  // A share of the write budget for other writers (the compressor).
  std::shared_ptr<NodeBudget::Share> join(const std::string& name);
  // Called with a container ID when its container is gone (docker rm), so
  // sessions a restart reattached to it end.
  void on_container_removed(std::function<void(const std::string&)> handler);

  // The guard's duties, for its thread and for tests.
  void tick(int64_t mono_now);   // rebalance the budget; auto: follow the probe
  void check_disk();             // cap, keep-free, eviction
  void follow_removals();        // docker rm, RETAIN

  enum class DiskState { kOk, kOverCap, kLowFree };
  DiskState disk_state() const { return disk_state_.load(); }
  // Takes `bytes` from the disk's headroom; the limit that refuses them, or
  // kOk. charge: counted even if over (already written).
  DiskState take_headroom(uint64_t bytes, bool charge);
  void give_back_headroom(uint64_t bytes);
  NodeBudget& budget() { return *budget_; }
  const NodeGuardConfig& config() const { return config_; }

 private:
  class Gate;
  void run();
  uint64_t evict(const LogRootUsage& usage, uint64_t bytes_to_free);
  bool remove_logs(const std::string& container_id, const char* why);
  void remove_kube_links(const std::string& container_id);
  std::shared_ptr<LogDirectory> directory(const std::string& container_id);
  bool live(const std::string& container_id);
  std::string describe(NodeGate::Limit limit) const;
  int64_t low_water() const;

  NodeGuardConfig config_;
  FileSystem& fs_;
  LogDirectories& directories_;
  KubeLinks kube_links_;  // removed with the logs they name
  Clock& clock_;
  SpaceFn space_;
  std::shared_ptr<NodeBudget> budget_;
  std::optional<WriteController> controller_;  // auto mode only
  std::unique_ptr<LatencyProbe> probe_;         // auto mode only
  // Bytes that may still be written before the cap or the floor is reached,
  // as of the last check, less what was admitted since: writers stop exactly
  // at the limit, not up to a check period after it.
  std::atomic<int64_t> headroom_{INT64_MAX};
  std::atomic<DiskState> binding_{DiskState::kOverCap};  // which limit the headroom is of
  std::atomic<DiskState> disk_state_{DiskState::kOk};
  std::atomic<uint64_t> disk_limit_bytes_{0};   // of the limit in force, for notices
  std::atomic<uint64_t> cap_bytes_{0}, floor_bytes_{0};
  uint64_t last_used_ = 0;                      // budget bytes at the last tick
  int64_t last_tick_ = 0;
  std::function<void(const std::string&)> removed_handler_;
  bool warned_unproven_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace logguard
