#include "logguard/config/kube_log_link.h"

#include "logguard/config/kube_labels.h"
#include "logguard/format/log_names.h"

namespace logguard {
namespace {

constexpr std::string_view kSuffix = ".log";
constexpr size_t kStemMax = kKubeLinkNameMax - kSuffix.size();  // kubelet's 251

}  // namespace

std::optional<std::string> kube_log_link_name(const std::map<std::string, std::string>& labels,
                                              std::string_view container_id) {
  auto kube = kube_container(labels);
  if (!kube || !is_container_id(container_id)) return std::nullopt;
  std::string name;
  name.reserve(kKubeLinkNameMax);
  name.append(kube->pod).append("_").append(kube->ns).append("_").append(kube->container);
  name.append("-");
  name.append(container_id);
  // All of it is ASCII, so a byte cut is kubelet's cut and never splits a character.
  if (name.size() > kStemMax) name.resize(kStemMax);
  name.append(kSuffix);
  return name;
}

std::string kube_log_link_target(std::string_view container_id) {
  return container_log_dir("..", container_id) + "/" + log_base_name(container_id);
}

bool is_kube_log_link_for(std::string_view name, std::string_view target,
                          std::string_view container_id) {
  if (!is_container_id(container_id) || target != kube_log_link_target(container_id)) return false;
  if (name.size() <= kSuffix.size() || name.size() > kKubeLinkNameMax ||
      !name.ends_with(kSuffix) || name.find('/') != std::string_view::npos) {
    return false;
  }
  if (name.size() == kKubeLinkNameMax) return true;  // cut: the ID may be gone from the name
  std::string id_tail = "-";
  id_tail.append(container_id).append(kSuffix);
  return name.ends_with(id_tail);
}

}  // namespace logguard
