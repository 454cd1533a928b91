#include "logguard/node/node_guard.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

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
constexpr double kMinLowWater = 4e6;

}  // namespace

// A session's way through the node's limits: the disk first (nothing is
// written while the disk is over its cap or under its floor), then its share
// of the write budget.
class NodeGuard::Gate : public NodeGate {
 public:
  Gate(NodeGuard& guard, std::shared_ptr<NodeBudget::Share> share)
      : guard_(guard), share_(std::move(share)) {}
  ~Gate() override { landed(); }

  Verdict admit(int64_t mono_now, uint64_t cost) override {
    switch (guard_.disk_.take(cost, false)) {
      case DiskGuard::State::kOverCap:
        return {Limit::kDisk, kTickNanos};
      case DiskGuard::State::kLowFree:
        return {Limit::kFree, kTickNanos};
      case DiskGuard::State::kOk:
        break;
    }
    NodeBudget::Share::Verdict v = share_->admit(mono_now, cost);
    if (v.admitted) {
      pending_ += cost;
      return {};
    }
    guard_.disk_.give_back(cost);
    return {Limit::kRate, v.wait_nanos};
  }
  void charge(int64_t mono_now, uint64_t cost) override {
    share_->charge(mono_now, cost);
    guard_.disk_.take(cost, true);
    pending_ += cost;
  }
  void landed() override {
    guard_.disk_.landed(std::exchange(pending_, 0));
  }
  std::string describe(Limit limit) const override {
    switch (limit) {
      case Limit::kRate:
        return guard_.budget_.describe();
      case Limit::kDisk:
        return guard_.disk_.describe(DiskGuard::State::kOverCap);
      case Limit::kFree:
        return guard_.disk_.describe(DiskGuard::State::kLowFree);
      case Limit::kNone:
        break;
    }
    return "";
  }

 private:
  NodeGuard& guard_;
  std::shared_ptr<NodeBudget::Share> share_;
  uint64_t pending_ = 0;  // taken from the disk's headroom, not landed yet
};

NodeGuard::NodeGuard(NodeGuardConfig config, FileSystem& fs, FileSystem& engine_fs,
                     LogDirectories& directories, WriteBack& write_back, Clock& clock,
                     DiskGuard::SpaceFn space)
    : config_(std::move(config)),
      clock_(clock),
      budget_(config_.settings, config_.root, fs, write_back, clock, config_.metrics),
      disk_(config_.settings, config_.root, fs, directories, config_.metrics, std::move(space),
            config_.pod_links),
      removals_(config_.root, fs, directories, config_.containers_dir, engine_fs,
                config_.settings.retain_nanos, clock, config_.pod_links) {}

NodeGuard::~NodeGuard() { stop(); }

void NodeGuard::start(LiveSessions& sessions) {
  budget_.start();
  thread_ = std::thread([this, &sessions] { run(sessions); });
}

void NodeGuard::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  budget_.stop();
}

std::unique_ptr<NodeGate> NodeGuard::gate_for(const std::string& container_id) {
  return std::make_unique<Gate>(*this, budget_.join(container_id));
}

template <typename Duty>
void NodeGuard::attempt(const char* what, Duty&& duty) {
  try {
    duty();
  } catch (const std::exception& e) {
    spdlog::error("node guard: {}: {}", what, e.what());
  }
}

void NodeGuard::run(LiveSessions& sessions) {
  pthread_setname_np(pthread_self(), "node-guard");
  // What is on the disk is known from the start, not only after a while.
  attempt("checking the log disk", [&] { disk_.check(); });
  for (uint64_t ticks = 1;; ++ticks) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, config_.tick, [&] { return stopping_; })) {
        return;
      }
    }
    const int64_t now = clock_.monotonic_nanos();
    attempt("the write budget", [&] { budget_.tick(now); });
    follow_write_rate(now);
    // Near a limit the disk is checked every tick, so old files make room
    // before writers run out of headroom.
    const int64_t headroom = disk_.headroom();
    const int period = headroom >= kRoomySeconds * low_water() ? kTicksPerRoomyDiskCheck
                                                               : kTicksPerDiskCheck;
    if (ticks % period == 0 || headroom < low_water()) {
      attempt("checking the log disk", [&] { disk_.check(); });
    }
    if (ticks % kTicksPerRemovalCheck == 0) {
      attempt("following removed containers", [&] { removals_.follow(sessions.live_containers()); });
    }
  }
}

void NodeGuard::follow_write_rate(int64_t mono_now) {
  const uint64_t used = budget_.budget().bytes_used();
  if (last_tick_ != 0 && mono_now > last_tick_) {
    const double rate = static_cast<double>(used - last_used_) * 1e9 /
                        static_cast<double>(mono_now - last_tick_);
    // About the last second: a burst's rate is taken at once, a lull's slowly.
    write_rate_ = std::max(rate, 0.9 * write_rate_ + 0.1 * rate);
  }
  last_used_ = used;
  last_tick_ = mono_now;
}

// Headroom below which the disk is checked every tick: what a second of the
// node's recent writes would take.
int64_t NodeGuard::low_water() const {
  return static_cast<int64_t>(std::max(write_rate_, kMinLowWater));
}

}  // namespace logguard
