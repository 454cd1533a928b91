#include "logguard/node/disk_guard.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "logguard/format/log_names.h"
#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

// Eviction frees this much beyond the limit, so it does not run every check.
constexpr double kEvictionMargin = 0.02;
constexpr uint64_t kMinEvictionMargin = 64 * 1024;

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

DiskGuard::DiskGuard(const NodeSettings& settings, std::string root, FileSystem& fs,
                     LogDirectories& directories, Metrics* metrics, SpaceFn space,
                     PodLinks* pod_links)
    : settings_(settings),
      root_(std::move(root)),
      fs_(fs),
      directories_(directories),
      kube_links_(fs, root_, pod_links),
      metrics_(metrics),
      space_(std::move(space)) {
  if (!space_) space_ = [root = root_] { return statvfs_space(root); };
}

DiskGuard::State DiskGuard::take(uint64_t bytes, bool charge) {
  const int64_t n = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
  int64_t left = headroom_.load(std::memory_order_relaxed);
  for (;;) {
    if (!charge && left < n) return binding_.load(std::memory_order_relaxed);
    if (headroom_.compare_exchange_weak(left, left - n, std::memory_order_relaxed)) break;
  }
  in_flight_.fetch_add(n);
  taken_total_.fetch_add(static_cast<uint64_t>(n));
  return State::kOk;
}

void DiskGuard::give_back(uint64_t bytes) {
  const int64_t n = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
  headroom_.fetch_add(n);
  in_flight_.fetch_sub(n);
}

void DiskGuard::landed(uint64_t bytes) {
  in_flight_.fetch_sub(static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4)));
}

void DiskGuard::check() {
  // Whatever was on its way when the disk was looked at, and whatever was
  // taken while it was: not in what the disk shows.
  const int64_t in_flight = std::max<int64_t>(in_flight_.load(), 0);
  const uint64_t taken_before = taken_total_.load();
  auto space = space_();
  if (!space) {
    spdlog::warn("node guard: cannot read the size of {}'s filesystem", root_);
    return;
  }
  const uint64_t cap = settings_.max_disk.resolve(space->total);
  const uint64_t floor = settings_.min_free.resolve(space->total);
  LogRootUsage usage = scan_log_root(fs_, root_);
  if (metrics_) {
    std::map<std::string, uint64_t> by_container;
    for (const LogFileUsage& file : usage.files) by_container[file.container_id] += file.bytes;
    metrics_->set_disk_bytes(by_container);
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
  binding_ = to_cap <= to_floor ? State::kOverCap : State::kLowFree;
  limit_bytes_ = to_cap <= to_floor ? cap : floor;
  const int64_t coming = in_flight + static_cast<int64_t>(taken_total_.load() - taken_before);
  headroom_ = std::min(to_cap, to_floor) - coming;
  const State state = std::min(to_cap, to_floor) > 0 ? State::kOk : binding_.load();
  report(state_.exchange(state), state, usage.bytes, *space, cap, floor);
}

void DiskGuard::report(State before, State now, uint64_t used, const FsSpace& space, uint64_t cap,
                       uint64_t floor) {
  if (before == now) return;
  if (now == State::kOk) {
    spdlog::info("node guard: log disk back within limits ({} of logs, {} free); writing again",
                 format_size(used), format_size(space.available));
    return;
  }
  spdlog::warn("node guard: log disk {} ({} of logs, cap {}; {} free, floor {}) and nothing "
               "more may be deleted: new records are dropped until space returns",
               now == State::kOverCap ? "over its cap" : "under its free-space floor",
               format_size(used), format_size(cap), format_size(space.available),
               format_size(floor));
}

uint64_t DiskGuard::evict(const LogRootUsage& usage, uint64_t bytes_to_free) {
  auto directory = [&](const std::string& id) {
    return directories_.acquire(container_log_dir(root_, id), log_base_name(id));
  };
  auto live = [&](const std::string& id) {
    auto dir = directories_.find(container_log_dir(root_, id), log_base_name(id));
    return dir && dir->in_use();
  };
  uint64_t freed = 0;
  for (const Eviction& step : plan_eviction(usage, live, bytes_to_free)) {
    if (freed >= bytes_to_free) break;
    try {
      auto dir = directory(step.container_id);
      std::optional<uint64_t> got = step.current ? dir->remove_if_idle() : dir->evict_oldest();
      if (!got) continue;  // the container came back to life, or the file went meanwhile
      freed += *got;
      spdlog::info("node guard: deleted {} of the log of {} ({}) to keep the log disk within its "
                   "limits",
                   step.current ? "the last file" : "the oldest rotated file",
                   step.container_id.substr(0, 12), format_size(*got));
      if (step.current) kube_links_.remove_for(step.container_id);
    } catch (const std::exception& e) {
      spdlog::warn("node guard: evicting from the log of {}: {}", step.container_id.substr(0, 12),
                   e.what());
    }
  }
  return freed;
}

std::string DiskGuard::describe(State limit) const {
  if (limit == State::kOverCap) {
    return "node-disk=" + settings_.max_disk.describe() + " (" + format_size(limit_bytes_.load()) +
           " of logs)";
  }
  return "node-free=" + settings_.min_free.describe() + " (" + format_size(limit_bytes_.load()) +
         " kept free)";
}

}  // namespace logguard
