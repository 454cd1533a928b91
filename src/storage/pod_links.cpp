#include "logguard/storage/pod_links.h"

#include <cerrno>
#include <system_error>

#include <spdlog/spdlog.h>

#include "logguard/format/log_names.h"
#include "logguard/config/pod_log_link.h"
#include "logguard/base/warn_on_error.h"

namespace logguard {
namespace {

std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

}  // namespace

PodLinks::PodLinks(FileSystem& pods, std::string pods_dir, FileSystem& logs, std::string root,
                   KubeSettings settings)
    : pods_(pods),
      pods_dir_(std::move(pods_dir)),
      logs_(logs),
      root_(std::move(root)),
      settings_(std::move(settings)) {}

std::string PodLinks::record_dir() const { return root_ + "/" + std::string(kPodLinkRecordDir); }

std::string PodLinks::record_path(const std::string& container_id) const {
  return record_dir() + "/" + container_id;
}

void PodLinks::ensure(const std::string& container_id,
                      const std::map<std::string, std::string>& labels, const LiveFn& live) {
  auto link = pod_log_link(labels, container_id, settings_);
  if (!link) return;
  const std::string path = pods_dir_ + "/" + link->path;
  const std::string dir = parent_of(path);
  if (pods_.entry_type(dir) != EntryType::kDirectory) {
    spdlog::debug("{}: no link at {}: kubelet has not made its directory",
                  container_id.substr(0, 12), path);
    return;
  }
  const auto existing = pods_.read_symlink(path);
  if (existing == link->target) {
    note(container_id, link->path);
    return;
  }
  if (!may_replace(path, existing, container_id, live)) return;
  // Noted before the link exists: a crash never leaves a link no record names.
  note(container_id, link->path);
  if (put_in_place(path, link->target, container_id, existing.has_value())) {
    spdlog::info("{}: linked {} to its log for kubelet", container_id.substr(0, 12), path);
  }
}

// Makes the link under its temporary name and renames it to path, over
// what is there only if `replace` (never over something that appeared since
// the look). Whether it did.
bool PodLinks::put_in_place(const std::string& path, const std::string& target,
                            const std::string& container_id, bool replace) {
  const std::string temp = parent_of(path) + "/" + pod_log_link_temp_name(container_id);
  pods_.remove(temp);
  pods_.create_symlink(target, temp);
  try {
    if (replace) {
      pods_.rename(temp, path);
    } else {
      pods_.rename_noreplace(temp, path);
    }
  } catch (const std::system_error& e) {
    warn_on_error("removing a temporary link", [&] { pods_.remove(temp); });
    if (e.code().value() != EEXIST) throw;
    spdlog::warn("{}: no link at {}: something appeared there meanwhile",
                 container_id.substr(0, 12), path);
    return false;
  }
  return true;
}

// Whether the entry at path may be replaced by this container's link: when
// nothing is there, or a link logguard made for a container that no longer
// logs (a stale one, such as a container whose restart count kubelet reused).
bool PodLinks::may_replace(const std::string& path, const std::optional<std::string>& existing,
                           const std::string& container_id, const LiveFn& live) {
  const char* refusal = nullptr;
  if (!existing) {
    if (pods_.entry_type(path) == EntryType::kMissing) return true;
    refusal = "it holds something other than a link";
  } else if (auto owner = pod_log_link_owner(*existing, settings_); !owner) {
    refusal = "it is a link logguard did not make";
  } else if (*owner != container_id && live(*owner)) {
    refusal = "it is the link of a container that is logging";
  } else {
    return true;
  }
  spdlog::warn("{}: not linking {} to its log: {}", container_id.substr(0, 12), path, refusal);
  return false;
}

void PodLinks::note(const std::string& container_id, const std::string& path) {
  const std::string record = record_path(container_id);
  if (logs_.read_symlink(record) == path) return;
  logs_.create_dirs(record_dir());
  logs_.remove(record);
  logs_.create_symlink(path, record);
}

void PodLinks::remove_for(const std::string& container_id) {
  if (!is_container_id(container_id)) return;
  const std::string record = record_path(container_id);
  const auto path = logs_.read_symlink(record);
  if (!path) return;
  if (is_pod_log_link_path(*path)) {
    const std::string link = pods_dir_ + "/" + *path;
    const auto text = pods_.read_symlink(link);
    if (text && pod_log_link_owner(*text, settings_) == container_id) pods_.remove(link);
  }
  logs_.remove(record);
}

void PodLinks::prune() {
  for (const std::string& id : logs_.list_dir(record_dir())) {
    if (!is_container_id(id)) continue;
    if (logs_.entry_type(container_log_dir(root_, id)) == EntryType::kMissing) remove_for(id);
  }
}

}  // namespace logguard
