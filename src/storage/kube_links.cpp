#include "logguard/storage/kube_links.h"

#include <exception>
#include <optional>

#include <spdlog/spdlog.h>

#include "logguard/config/kube_log_link.h"
#include "logguard/format/log_names.h"

namespace logguard {
namespace {

// The container whose link the entry `name` with this text is, if it is one.
std::optional<std::string> link_owner(std::string_view name, std::string_view target) {
  // "../<id>/<base>": the ID is the second path component.
  const size_t slash = target.find('/', 3);
  if (!target.starts_with("../") || slash == std::string_view::npos) return std::nullopt;
  std::string id(target.substr(3, slash - 3));
  if (!is_kube_log_link_for(name, target, id)) return std::nullopt;
  return id;
}

// Runs both steps, the second even when the first throws, then rethrows:
// one kind of link failing must not keep the other from being made or removed.
template <typename First, typename Second>
void both(First&& first, Second&& second) {
  std::exception_ptr error;
  try {
    first();
  } catch (...) {
    error = std::current_exception();
  }
  second();
  if (error) std::rethrow_exception(error);
}

}  // namespace

std::string KubeLinks::dir() const { return root_ + "/" + std::string(kKubeLinkDir); }

void KubeLinks::ensure(const std::string& container_id,
                       const std::map<std::string, std::string>& labels, const LiveFn& live) {
  both([&] { ensure_collectors_link(container_id, labels, live); },
       [&] { if (pods_) pods_->ensure(container_id, labels, live); });
}

void KubeLinks::ensure_collectors_link(const std::string& container_id,
                                       const std::map<std::string, std::string>& labels,
                                       const LiveFn& live) {
  auto name = kube_log_link_name(labels, container_id);
  if (!name) return;
  const std::string path = dir() + "/" + *name;
  const std::string target = kube_log_link_target(container_id);
  const auto existing = fs_.read_symlink(path);
  if (existing == target) return;
  if (existing) {
    auto owner = link_owner(*name, *existing);
    if (owner && *owner != container_id && live(*owner)) {
      spdlog::info("{}: {} stays the link of {}, which is logging", container_id.substr(0, 12),
                   path, owner->substr(0, 12));
      return;
    }
  }
  fs_.create_dirs(dir());
  // A hidden temporary renamed over the name: collectors that glob *.log
  // never see it, and there is never a moment without the link.
  const std::string temp = dir() + "/.link-" + container_id + ".tmp";
  fs_.remove(temp);
  fs_.create_symlink(target, temp);
  fs_.rename(temp, path);
}

void KubeLinks::remove_for(const std::string& container_id) {
  both([&] { remove_collectors_link(container_id); },
       [&] { if (pods_) pods_->remove_for(container_id); });
}

void KubeLinks::remove_collectors_link(const std::string& container_id) {
  for (const std::string& name : fs_.list_dir(dir())) {
    const std::string path = dir() + "/" + name;
    auto target = fs_.read_symlink(path);
    if (target && is_kube_log_link_for(name, *target, container_id)) fs_.remove(path);
  }
}

void KubeLinks::prune() {
  both([&] { prune_collectors_links(); },
       [&] { if (pods_) pods_->prune(); });
}

void KubeLinks::prune_collectors_links() {
  for (const std::string& name : fs_.list_dir(dir())) {
    const std::string path = dir() + "/" + name;
    auto target = fs_.read_symlink(path);
    if (!target) continue;
    auto owner = link_owner(name, *target);
    if (owner && fs_.entry_type(container_log_dir(root_, *owner)) == EntryType::kMissing) {
      fs_.remove(path);
    }
  }
}

}  // namespace logguard
