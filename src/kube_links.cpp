#include "logguard/kube_links.h"

#include "logguard/kube_log_link.h"
#include "logguard/log_names.h"

namespace logguard {

std::string KubeLinks::dir() const { return root_ + "/" + std::string(kKubeLinkDir); }

void KubeLinks::ensure(const std::string& container_id,
                       const std::map<std::string, std::string>& labels) {
  auto name = kube_log_link_name(labels, container_id);
  if (!name) return;
  const std::string path = dir() + "/" + *name;
  const std::string target = kube_log_link_target(container_id);
  if (fs_.read_symlink(path) == target) return;
  fs_.create_dirs(dir());
  // A hidden temporary renamed over the name: collectors that glob *.log
  // never see it, and there is never a moment without the link.
  const std::string temp = dir() + "/.link-" + container_id + ".tmp";
  fs_.remove(temp);
  fs_.create_symlink(target, temp);
  fs_.rename(temp, path);
}

void KubeLinks::remove_for(const std::string& container_id) {
  for (const std::string& name : fs_.list_dir(dir())) {
    const std::string path = dir() + "/" + name;
    auto target = fs_.read_symlink(path);
    if (target && is_kube_log_link_for(name, *target, container_id)) fs_.remove(path);
  }
}

void KubeLinks::prune() {
  for (const std::string& name : fs_.list_dir(dir())) {
    const std::string path = dir() + "/" + name;
    auto target = fs_.read_symlink(path);
    if (!target) continue;
    // "../<id>/<base>": the ID is the second path component.
    const size_t slash = target->find('/', 3);
    if (target->compare(0, 3, "../") != 0 || slash == std::string::npos) continue;
    const std::string id = target->substr(3, slash - 3);
    if (!is_kube_log_link_for(name, *target, id)) continue;
    if (fs_.entry_type(container_log_dir(root_, id)) == EntryType::kMissing) fs_.remove(path);
  }
}

}  // namespace logguard
