// DiskGuard: the node's log disk stays within its cap (NODE_MAX_DISK, all
// logs together) and above its free-space floor (NODE_MIN_FREE). Over the
// cap or under the floor it deletes the oldest files (disk_usage.h's order:
// containers without a session first, then live containers' rotated files,
// never a live container's current file) and, if that is not enough,
// refuses new records (counted and announced as node-disk / node-free)
// until space returns.
//
// Writers take their records' bytes from a headroom — what may still be
// written before the binding limit, as of the last check, less what was
// admitted since — so they stop exactly at the limit, not up to a check
// period after it. check() refreshes it from the disk, less what was
// admitted and is not in the files yet (a session decides a batch, then
// writes it): forgetting those let two floods take a 64 MB filesystem
// 1.5 MB below its floor.
//
// Which containers are live comes from their LogDirectory (in_use(): a
// session holds it from the moment it is made or reattached, before its
// files open). Threads: check() runs on the node guard's thread; the
// headroom is taken by the writers' threads (lock-free).
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "logguard/storage/disk_usage.h"
#include "logguard/base/file_system.h"
#include "logguard/storage/kube_links.h"
#include "logguard/storage/log_directory.h"
#include "logguard/metrics/metrics.h"
#include "logguard/config/node_settings.h"

namespace logguard {

struct FsSpace {
  uint64_t total = 0;      // bytes of the filesystem
  uint64_t available = 0;  // bytes free for unprivileged writers (statvfs f_bavail)
};

class DiskGuard {
 public:
  using SpaceFn = std::function<std::optional<FsSpace>()>;
  enum class State { kOk, kOverCap, kLowFree };

  // space: the log filesystem's size and free space (statvfs of the root if
  // empty). metrics: where each container's bytes on disk go; may be null.
  // pod_links: the links at CRI log paths, evicted with the logs; null: none.
  DiskGuard(const NodeSettings& settings, std::string root, FileSystem& fs,
            LogDirectories& directories, Metrics* metrics, SpaceFn space = {},
            PodLinks* pod_links = nullptr);

  // Scans the log root, evicts if over a limit, and refreshes the headroom.
  void check();
  State state() const { return state_.load(); }
  // Bytes that may still be written before a limit (may be negative).
  int64_t headroom() const { return headroom_.load(); }

  // Takes `bytes` from the headroom; the limit that refuses them, or kOk.
  // charge: counted even if over (already written). Taken bytes count as
  // on their way to the files until landed().
  State take(uint64_t bytes, bool charge);
  void give_back(uint64_t bytes);
  void landed(uint64_t bytes);
  // "node-disk=10% (5GB of logs)" or "node-free=..." for notices.
  std::string describe(State limit) const;

 private:
  uint64_t evict(const LogRootUsage& usage, uint64_t bytes_to_free);
  void report(State before, State now, uint64_t used, const FsSpace& space, uint64_t cap,
              uint64_t floor);

  const NodeSettings settings_;
  const std::string root_;
  FileSystem& fs_;
  LogDirectories& directories_;
  KubeLinks kube_links_;  // removed with a container's last file
  Metrics* metrics_;
  SpaceFn space_;
  std::atomic<int64_t> headroom_{INT64_MAX};
  std::atomic<int64_t> in_flight_{0};     // taken, not yet landed
  std::atomic<uint64_t> taken_total_{0};  // taken ever
  std::atomic<State> binding_{State::kOverCap};  // which limit the headroom is of
  std::atomic<State> state_{State::kOk};
  std::atomic<uint64_t> limit_bytes_{0};         // of the limit in force, for notices
};

}  // namespace logguard
