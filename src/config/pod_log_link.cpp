#include "logguard/config/pod_log_link.h"

#include <algorithm>
#include <vector>

#include "logguard/config/kube_labels.h"
#include "logguard/format/log_names.h"

namespace logguard {
namespace {

constexpr std::string_view kLogSuffix = ".log";
// kubelet's restart counts are int32: at most 10 digits.
constexpr size_t kMaxRestartDigits = 10;

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<n>.log" as kubelet names a container's log files.
bool is_restart_log_name(std::string_view name) {
  if (!name.ends_with(kLogSuffix)) return false;
  name.remove_suffix(kLogSuffix.size());
  return name.size() <= kMaxRestartDigits && is_digits(name);
}

// The path's '/'-separated components.
std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string current_file(std::string_view logroot, std::string_view container_id) {
  return container_log_dir(logroot, container_id) + "/" + log_base_name(container_id);
}

}  // namespace

std::optional<PodLogLink> pod_log_link(const std::map<std::string, std::string>& labels,
                                       std::string_view container_id,
                                       const KubeSettings& settings) {
  auto kube = kube_container(labels);
  if (!kube || !is_container_id(container_id)) return std::nullopt;
  std::string_view logpath = kube_label(labels, kKubeLogPathLabel);
  const std::string& dir = settings.pod_logs_dir;
  if (logpath.size() <= dir.size() + 1 || !logpath.starts_with(dir) || logpath[dir.size()] != '/') {
    return std::nullopt;
  }
  std::string_view path = logpath.substr(dir.size() + 1);
  auto parts = components(path);
  std::string pod_dir;
  pod_dir.append(kube->ns).append("_").append(kube->pod).append("_").append(kube->uid);
  if (parts.size() != 3 || parts[0] != pod_dir || parts[1] != kube->container ||
      !is_restart_log_name(parts[2])) {
    return std::nullopt;
  }
  return PodLogLink{std::string(path), current_file(settings.logroot_source, container_id)};
}

std::string pod_log_link_temp_name(std::string_view container_id) {
  return ".logguard-" + std::string(container_id) + ".tmp";
}

std::optional<std::string> pod_log_link_owner(std::string_view target,
                                              const KubeSettings& settings) {
  const std::string& root = settings.logroot_source;
  if (target.size() <= root.size() + 1 || !target.starts_with(root) || target[root.size()] != '/') {
    return std::nullopt;
  }
  std::string_view rest = target.substr(root.size() + 1);
  std::string id(rest.substr(0, rest.find('/')));
  if (!is_container_id(id) || target != current_file(root, id)) return std::nullopt;
  return id;
}

bool is_pod_log_link_path(std::string_view path) {
  auto parts = components(path);
  return parts.size() == 3 && std::none_of(parts.begin(), parts.end(), [](std::string_view p) {
           return p.empty() || p == "." || p == "..";
         }) && is_restart_log_name(parts[2]);
}

}  // namespace logguard
