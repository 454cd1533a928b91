#include "logguard/kube_log_link.h"

#include "logguard/log_names.h"

namespace logguard {
namespace {

constexpr std::string_view kSuffix = ".log";
constexpr size_t kStemMax = kKubeLinkNameMax - kSuffix.size();  // kubelet's 251
constexpr size_t kSubdomainMax = 253;
constexpr size_t kLabelMax = 63;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, the DNS-1123 label rule without its length limit.
bool is_dns_label_body(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_lower_alnum(c) && c != '-') return false;
  }
  return true;
}

// Namespaces and container names.
bool is_dns1123_label(std::string_view s) { return s.size() <= kLabelMax && is_dns_label_body(s); }

// Pod names: dot-separated labels, 253 bytes at most.
bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > kSubdomainMax) return false;
  while (true) {
    size_t dot = s.find('.');
    if (!is_dns_label_body(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

std::string_view label(const std::map<std::string, std::string>& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

std::optional<std::string> kube_log_link_name(const std::map<std::string, std::string>& labels,
                                              std::string_view container_id) {
  if (label(labels, kKubeDockerTypeLabel) == "podsandbox") return std::nullopt;
  std::string_view pod = label(labels, kKubePodNameLabel);
  std::string_view ns = label(labels, kKubePodNamespaceLabel);
  std::string_view container = label(labels, kKubeContainerNameLabel);
  if (!is_dns1123_subdomain(pod) || !is_dns1123_label(ns) || !is_dns1123_label(container) ||
      !is_container_id(container_id)) {
    return std::nullopt;
  }
  std::string name;
  name.reserve(kKubeLinkNameMax);
  name.append(pod).append("_").append(ns).append("_").append(container).append("-");
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
