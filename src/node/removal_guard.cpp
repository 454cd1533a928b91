#include "logguard/node/removal_guard.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "logguard/format/log_names.h"
#include "logguard/base/size_parse.h"

namespace logguard {

RemovalGuard::RemovalGuard(std::string root, FileSystem& fs, LogDirectories& directories,
                           std::string containers_dir, FileSystem& engine_fs,
                           int64_t retain_nanos, Clock& clock, PodLinks* pod_links)
    : root_(std::move(root)),
      fs_(fs),
      directories_(directories),
      containers_dir_(std::move(containers_dir)),
      engine_fs_(engine_fs),
      retain_nanos_(retain_nanos),
      clock_(clock),
      kube_links_(fs, root_, pod_links) {}

void RemovalGuard::follow(const std::set<std::string>& live) {
  // Links whose logs went while no plugin ran (or were deleted by hand).
  try {
    kube_links_.prune();
  } catch (const std::exception& e) {
    spdlog::warn("pruning the Kubernetes log links: {}", e.what());
  }
  std::vector<std::string> ids;
  for (const std::string& name : fs_.list_dir(root_)) {
    if (is_container_id(name)) ids.push_back(name);
  }
  if (!containers_dir_.empty()) {
    auto in_engine = [&](const std::string& id) {
      return engine_fs_.entry_type(containers_dir_ + "/" + id) != EntryType::kMissing;
    };
    std::set<std::string> present;
    std::vector<std::string> gone;
    for (const std::string& id : ids) {
      if (in_engine(id)) {
        present.insert(id);
      } else {
        gone.push_back(id);
      }
    }
    for (const std::string& id : live) {
      if (!present.count(id) && in_engine(id)) present.insert(id);
    }
    if (trusted(live, present)) {
      warned_untrusted_ = false;
      for (const std::string& id : gone) {
        if (!live.count(id)) remove_logs(id, "the container was removed");
      }
      return;
    }
  }
  retain(ids, live);
}

bool RemovalGuard::trusted(const std::set<std::string>& live, const std::set<std::string>& present) {
  std::vector<std::string> missing;
  for (const std::string& id : live) {
    if (!present.count(id)) missing.push_back(id);
  }
  if (missing.empty() && !present.empty()) return true;
  if (present.empty() && live.empty()) return false;  // nothing to go by (all removed, or wrong)
  if (!warned_untrusted_) {
    if (!missing.empty()) {
      spdlog::warn("{} lacks {} of the {} containers logging now (such as {}): it is not the "
                   "engine's containers directory (a stale copy, or the mount's source not set "
                   "again after an upgrade?); no logs are deleted by it, RETAIN applies",
                   containers_dir_, missing.size(), live.size(), missing.front().substr(0, 12));
    } else {
      // A normal state (every container was removed), not an operator's problem.
      spdlog::info("{} holds none of the containers logguard has logs for: either all were "
                   "removed or it is not the engine's containers directory; keeping their logs "
                   "(RETAIN applies)",
                   containers_dir_);
    }
    warned_untrusted_ = true;
  }
  return false;
}

void RemovalGuard::retain(const std::vector<std::string>& ids, const std::set<std::string>& live) {
  if (retain_nanos_ <= 0) return;
  const int64_t now = clock_.wall_nanos();
  for (const std::string& id : ids) {
    if (live.count(id)) continue;
    const std::string dir = container_log_dir(root_, id);
    int64_t newest = 0;
    for (const FileEntry& file : fs_.list_files(dir).value_or(std::vector<FileEntry>{})) {
      newest = std::max(newest, file.modified_nanos);
    }
    if (newest != 0 && now - newest > retain_nanos_) remove_logs(id, "older than RETAIN");
  }
}

void RemovalGuard::remove_logs(const std::string& container_id, const char* why) {
  try {
    auto dir = directories_.acquire(container_log_dir(root_, container_id),
                                    log_base_name(container_id));
    auto freed = dir->remove_if_idle();  // nothing while a session holds it
    if (!freed) return;
    spdlog::debug("removed the logs of {} ({}): {}", container_id.substr(0, 12),
                 format_size(*freed), why);
    kube_links_.remove_for(container_id);
  } catch (const std::exception& e) {
    spdlog::warn("removing the logs of {}: {}", container_id.substr(0, 12), e.what());
  }
}

}  // namespace logguard
