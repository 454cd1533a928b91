#include "logguard/node_guard.h"

#include <pthread.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "logguard/log_names.h"
#include "logguard/size_parse.h"

namespace logguard {
namespace {

constexpr int64_t kTickNanos = NodeBudget::kIntervalNanos;
constexpr int kTicksPerDiskCheck = 10;      // 1 s
// With the headroom of this many seconds of the node's writes, 5 s: listing
// every container's directory each second costs hundreds of system calls a
// second on a node of hundreds of containers, and the writers' headroom is
// exact meanwhile (taken per record).
constexpr int kRoomySeconds = 10;
constexpr int kTicksPerRoomyDiskCheck = 50;
constexpr int kTicksPerRemovalCheck = 100;  // 10 s
// Eviction frees this much beyond the limit, so it does not run every second.
constexpr double kEvictionMargin = 0.02;
constexpr uint64_t kMinEvictionMargin = 64 * 1024;
constexpr const char* kProbeName = ".logguard-probe";

std::optional<FsSpace> statvfs_space(const std::string& root) {
  struct statvfs st {};
  if (::statvfs(root.c_str(), &st) != 0) return std::nullopt;
  return FsSpace{static_cast<uint64_t>(st.f_blocks) * st.f_frsize,
                 static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

uint64_t margin(uint64_t limit) {
  return std::max<uint64_t>(kMinEvictionMargin, static_cast<uint64_t>(limit * kEvictionMargin));
}

}  // namespace

// A session's way through the node's limits: the disk first (nothing is
// written while the disk is over its cap or under its floor), then its share
// of the write budget.
class NodeGuard::Gate : public NodeGate {
 public:
  Gate(NodeGuard& guard, std::shared_ptr<NodeBudget::Share> share)
      : guard_(guard), share_(std::move(share)) {}

  Verdict admit(int64_t mono_now, uint64_t cost) override {
    switch (guard_.take_headroom(cost, false)) {
      case DiskState::kOverCap:
        return {Limit::kDisk, kTickNanos};
      case DiskState::kLowFree:
        return {Limit::kFree, kTickNanos};
      case DiskState::kOk:
        break;
    }
    NodeBudget::Share::Verdict v = share_->admit(mono_now, cost);
    if (v.admitted) return {};
    guard_.give_back_headroom(cost);
    return {Limit::kRate, v.wait_nanos};
  }
  void charge(int64_t mono_now, uint64_t cost) override {
    share_->charge(mono_now, cost);
    guard_.take_headroom(cost, true);
  }
  std::string describe(Limit limit) const override { return guard_.describe(limit); }

 private:
  NodeGuard& guard_;
  std::shared_ptr<NodeBudget::Share> share_;
};

NodeGuard::NodeGuard(NodeGuardConfig config, FileSystem& fs, LogDirectories& directories,
                     Clock& clock, SpaceFn space)
    : config_(std::move(config)),
      fs_(fs),
      directories_(directories),
      kube_links_(fs, config_.root, config_.pod_links),
      clock_(clock),
      space_(std::move(space)) {
  if (!space_) space_ = [root = config_.root] { return statvfs_space(root); };
  const NodeSettings& s = config_.settings;
  double rate = 0;
  if (s.rate_mode == NodeSettings::RateMode::kFixed) rate = s.rate;
  if (s.rate_mode == NodeSettings::RateMode::kAuto) {
    WriteControllerConfig c;
    c.ceiling = s.rate;
    c.initial = std::min(c.initial, c.ceiling);
    c.floor = std::min(c.floor, c.ceiling);
    c.target_nanos = s.latency_target_nanos;
    controller_.emplace(c);
    rate = controller_->rate();
    probe_ = std::make_unique<LatencyProbe>(config_.root + "/" + kProbeName, clock_);
  }
  budget_ = NodeBudget::create(rate, clock_.monotonic_nanos());
}

NodeGuard::~NodeGuard() { stop(); }

void NodeGuard::start() {
  if (probe_) probe_->start();
  thread_ = std::thread([this] { run(); });
}

void NodeGuard::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (probe_) probe_->stop();
}

std::unique_ptr<NodeGate> NodeGuard::gate_for(const std::string& container_id) {
  return std::make_unique<Gate>(*this, budget_->join(container_id, clock_.monotonic_nanos()));
}

std::shared_ptr<NodeBudget::Share> NodeGuard::join(const std::string& name) {
  return budget_->join(name, clock_.monotonic_nanos());
}

void NodeGuard::on_container_removed(std::function<void(const std::string&)> handler) {
  removed_handler_ = std::move(handler);
}

void NodeGuard::run() {
  pthread_setname_np(pthread_self(), "node-guard");
  // What is on the disk is known from the start, not only after a while.
  check_disk();
  for (uint64_t ticks = 1;; ++ticks) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::nanoseconds(kTickNanos), [&] { return stopping_; })) {
        return;
      }
    }
    try {
      tick(clock_.monotonic_nanos());
      // Near a limit the disk is checked every tick, so old files make room
      // before writers run out of headroom.
      const int64_t headroom = headroom_.load();
      const int period = headroom >= kRoomySeconds * low_water() ? kTicksPerRoomyDiskCheck
                                                                 : kTicksPerDiskCheck;
      if (ticks % period == 0 || headroom < low_water()) check_disk();
      if (ticks % kTicksPerRemovalCheck == 0) follow_removals();
    } catch (const std::exception& e) {
      spdlog::error("node guard: {}", e.what());
    }
  }
}

void NodeGuard::tick(int64_t mono_now) {
  budget_->rebalance(mono_now);
  if (!controller_) return;
  const uint64_t used = budget_->bytes_used();
  const double seconds = last_tick_ == 0 ? 0 : static_cast<double>(mono_now - last_tick_) / 1e9;
  const double used_rate = seconds > 0 ? static_cast<double>(used - last_used_) / seconds : 0;
  last_used_ = used;
  last_tick_ = mono_now;
  LatencyProbe::Reading reading = probe_->take();
  for (int64_t latency : reading.latencies) {
    controller_->on_probe(mono_now, latency);
    if (config_.metrics) {
      config_.metrics->probe_duration().Observe(static_cast<double>(latency) / 1e9);
    }
  }
  controller_->on_tick(mono_now, reading.in_flight_nanos, used_rate);
  budget_->set_rate(controller_->rate(), mono_now);
  if (auto report = controller_->take_report()) spdlog::info("{}", *report);
}

// Headroom below which the disk is checked every tick: what a second of the
// node's writes could take.
int64_t NodeGuard::low_water() const {
  const double rate = budget_->rate();
  return static_cast<int64_t>(std::max(rate > 0 ? rate : 64e6, 4e6));
}

std::shared_ptr<LogDirectory> NodeGuard::directory(const std::string& container_id) {
  return directories_.acquire(container_log_dir(config_.root, container_id),
                              log_base_name(container_id));
}

bool NodeGuard::live(const std::string& container_id) {
  auto dir = directories_.find(container_log_dir(config_.root, container_id),
                               log_base_name(container_id));
  return dir && dir->has_writer();
}

NodeGuard::DiskState NodeGuard::take_headroom(uint64_t bytes, bool charge) {
  const int64_t n = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
  int64_t left = headroom_.load(std::memory_order_relaxed);
  for (;;) {
    if (!charge && left < n) return binding_.load(std::memory_order_relaxed);
    if (headroom_.compare_exchange_weak(left, left - n, std::memory_order_relaxed)) {
      return DiskState::kOk;
    }
  }
}

void NodeGuard::give_back_headroom(uint64_t bytes) {
  headroom_.fetch_add(static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4)));
}

void NodeGuard::check_disk() {
  auto space = space_();
  if (!space) {
    spdlog::warn("node guard: cannot read the size of {}'s filesystem", config_.root);
    return;
  }
  const uint64_t cap = config_.settings.max_disk.resolve(space->total);
  const uint64_t floor = config_.settings.min_free.resolve(space->total);
  LogRootUsage usage = scan_log_root(fs_, config_.root);
  if (config_.metrics) {
    std::map<std::string, uint64_t> by_container;
    for (const LogFileUsage& file : usage.files) by_container[file.container_id] += file.bytes;
    config_.metrics->set_disk_bytes(by_container);
  }
  uint64_t over = 0;
  if (usage.bytes > cap) over = usage.bytes - cap + margin(cap);
  if (space->available < floor) over = std::max(over, floor - space->available + margin(floor));
  if (over > 0) {
    uint64_t freed = evict(usage, over);
    usage.bytes -= std::min(usage.bytes, freed);
    space = space_().value_or(*space);
  }
  const int64_t to_cap = static_cast<int64_t>(cap) - static_cast<int64_t>(usage.bytes);
  const int64_t to_floor = static_cast<int64_t>(space->available) - static_cast<int64_t>(floor);
  binding_ = to_cap <= to_floor ? DiskState::kOverCap : DiskState::kLowFree;
  disk_limit_bytes_ = to_cap <= to_floor ? cap : floor;
  headroom_ = std::min(to_cap, to_floor);
  cap_bytes_ = cap;
  floor_bytes_ = floor;
  const DiskState state = std::min(to_cap, to_floor) > 0 ? DiskState::kOk : binding_.load();
  DiskState before = disk_state_.exchange(state);
  if (before != state) {
    if (state == DiskState::kOk) {
      spdlog::info("node guard: log disk back within limits ({} of logs, {} free); writing again",
                   format_size(usage.bytes), format_size(space->available));
    } else {
      spdlog::warn("node guard: log disk {} ({} of logs, cap {}; {} free, floor {}) and nothing "
                   "more may be deleted: new records are dropped until space returns",
                   state == DiskState::kOverCap ? "over its cap" : "under its free-space floor",
                   format_size(usage.bytes), format_size(cap), format_size(space->available),
                   format_size(floor));
    }
  }
}

uint64_t NodeGuard::evict(const LogRootUsage& usage, uint64_t bytes_to_free) {
  uint64_t freed = 0;
  auto plan = plan_eviction(usage, [&](const std::string& id) { return live(id); }, bytes_to_free);
  for (const Eviction& step : plan) {
    if (freed >= bytes_to_free) break;
    try {
      auto dir = directory(step.container_id);
      std::optional<uint64_t> got = step.current ? dir->remove_if_idle() : dir->evict_oldest();
      if (!got) continue;  // the container came back to life, or the file went meanwhile
      if (step.current) remove_kube_links(step.container_id);
      freed += *got;
      spdlog::info("node guard: deleted {} of the log of {} ({}) to keep the log disk within its "
                   "limits",
                   step.current ? "the last file" : "the oldest rotated file",
                   step.container_id.substr(0, 12), format_size(*got));
    } catch (const std::exception& e) {
      spdlog::warn("node guard: evicting from the log of {}: {}", step.container_id.substr(0, 12),
                   e.what());
    }
  }
  return freed;
}

bool NodeGuard::remove_logs(const std::string& container_id, const char* why) {
  if (removed_handler_) removed_handler_(container_id);
  if (live(container_id)) return false;
  auto freed = directory(container_id)->remove_if_idle();
  if (!freed) return false;
  remove_kube_links(container_id);
  spdlog::info("removed the logs of {} ({}): {}", container_id.substr(0, 12), format_size(*freed),
               why);
  return true;
}

void NodeGuard::remove_kube_links(const std::string& container_id) {
  try {
    kube_links_.remove_for(container_id);
  } catch (const std::exception& e) {
    spdlog::warn("removing the Kubernetes log links of {}: {}", container_id.substr(0, 12),
                 e.what());
  }
}

void NodeGuard::follow_removals() {
  // Links whose logs went while no plugin ran (or were deleted by hand).
  try {
    kube_links_.prune();
  } catch (const std::exception& e) {
    spdlog::warn("pruning the Kubernetes log links: {}", e.what());
  }
  std::vector<std::string> ids;
  for (const std::string& name : fs_.list_dir(config_.root)) {
    if (is_container_id(name)) ids.push_back(name);
  }
  if (!config_.containers_dir.empty()) {
    // Only when the directory is shown to be the engine's (it holds at least
    // one of the containers logguard has logs for) is a missing entry a
    // removed container; an empty or wrong mount must not delete every log.
    std::vector<std::string> gone;
    bool proven = false;
    for (const std::string& id : ids) {
      EntryType t = posix_file_system().entry_type(config_.containers_dir + "/" + id);
      if (t == EntryType::kMissing) {
        gone.push_back(id);
      } else {
        proven = true;
      }
    }
    if (proven) {
      warned_unproven_ = false;
      for (const std::string& id : gone) remove_logs(id, "the container was removed");
      return;
    }
    if (!gone.empty() && !warned_unproven_) {
      spdlog::warn("{} holds none of the {} containers logguard has logs for: either all were "
                   "removed or it is not the engine's containers directory; keeping their logs "
                   "(RETAIN applies)",
                   config_.containers_dir, gone.size());
      warned_unproven_ = true;
    }
  }
  const int64_t retain = config_.settings.retain_nanos;
  if (retain <= 0) return;
  const int64_t now = clock_.wall_nanos();
  for (const std::string& id : ids) {
    if (live(id)) continue;
    const std::string dir = container_log_dir(config_.root, id);
    int64_t newest = 0;
    for (const std::string& name : fs_.list_dir(dir)) {
      newest = std::max(newest, fs_.modified_nanos(dir + "/" + name).value_or(0));
    }
    if (newest != 0 && now - newest > retain) remove_logs(id, "older than RETAIN");
  }
}

std::string NodeGuard::describe(NodeGate::Limit limit) const {
  switch (limit) {
    case NodeGate::Limit::kRate:
      return "node-rate=" + format_size(static_cast<uint64_t>(budget_->rate())) +
             "/s (this container's share " +
             format_size(static_cast<uint64_t>(budget_->fair_level())) + "/s)";
    case NodeGate::Limit::kDisk:
      return "node-disk=" + config_.settings.max_disk.describe() + " (" +
             format_size(disk_limit_bytes_.load()) + " of logs)";
    case NodeGate::Limit::kFree:
      return "node-free=" + config_.settings.min_free.describe() + " (" +
             format_size(disk_limit_bytes_.load()) + " kept free)";
    case NodeGate::Limit::kNone:
      break;
  }
  return "";
}

}  // namespace logguard
