#include "logguard/config/kube_labels.h"

#include <algorithm>

#include "logguard/format/log_names.h"

namespace logguard {
namespace {

constexpr size_t kSubdomainMax = 253;
constexpr size_t kLabelMax = 63;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_lower_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

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

// The API server's UUIDs (8-4-4-4-12 hex digits) or, for static pods, the MD5
// hash kubelet makes in 32 hex digits (pkg/kubelet/config/common.go).
bool is_pod_uid(std::string_view uid) {
  if (uid.size() == 32) return is_lower_hex(uid);
  if (uid.size() != 36) return false;
  size_t start = 0;
  for (size_t dash : {8, 13, 18, 23, 36}) {
    if (!is_lower_hex(uid.substr(start, dash - start))) return false;
    if (dash < uid.size() && uid[dash] != '-') return false;
    start = dash + 1;
  }
  return true;
}

}  // namespace

std::string_view kube_label(const std::map<std::string, std::string>& labels,
                            std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<KubeContainer> kube_container(const std::map<std::string, std::string>& labels) {
  KubeContainer c{kube_label(labels, kKubePodNameLabel), kube_label(labels, kKubePodNamespaceLabel),
                  kube_label(labels, kKubePodUidLabel),
                  kube_label(labels, kKubeContainerNameLabel)};
  if (kube_label(labels, kKubeDockerTypeLabel) != "container" ||
      !is_container_id(kube_label(labels, kKubeSandboxIdLabel)) || !is_pod_uid(c.uid) ||
      !is_dns1123_subdomain(c.pod) || !is_dns1123_label(c.ns) || !is_dns1123_label(c.container)) {
    return std::nullopt;
  }
  return c;
}

}  // namespace logguard
