#include "logguard/config/kube_settings.h"

#include <algorithm>
#include <optional>

#include "logguard/config/options.h"
#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

// Whose nine tenths are max-size's own floor (10k, options.cpp).
constexpr uint64_t kMinLogMaxSize = 12'000;

// An absolute path without ".", ".." or empty components, and no trailing '/'.
bool is_clean_absolute(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

uint64_t KubeSettings::linked_max_size(uint64_t max_size) const {
  if (log_max_size == 0) return max_size;
  const uint64_t cap = log_max_size / 10 * 9;
  return max_size == 0 ? cap : std::min(max_size, cap);  // 0: never rotated
}

std::string KubeSettings::describe() const {
  return std::string("KUBE_POD_LINKS=") + (pod_links ? "on" : "off") +
         " KUBE_POD_LOGS_DIR=" + pod_logs_dir + " KUBE_LOGROOT_SOURCE=" + logroot_source +
         " KUBE_LOG_MAX_SIZE=" +
         (log_max_size == 0 ? std::string("off") : format_size(log_max_size));
}

KubeSettings kube_settings_from_env(const std::function<const char*(const char*)>& getenv) {
  KubeSettings s;
  auto value = [&](const char* name) { return env_setting(getenv, name); };
  if (auto v = value("KUBE_POD_LINKS")) {
    const std::string l = ascii_lower(*v);
    if (l != "on" && l != "off" && l != "true" && l != "false") {
      invalid_setting("KUBE_POD_LINKS", *v, "on or off");
    }
    s.pod_links = l == "on" || l == "true";
  }
  for (auto [name, field] : {std::pair{"KUBE_POD_LOGS_DIR", &s.pod_logs_dir},
                             std::pair{"KUBE_LOGROOT_SOURCE", &s.logroot_source}}) {
    if (auto v = value(name)) {
      if (!is_clean_absolute(*v)) {
        invalid_setting(name, *v,
                        "an absolute path without \".\" or \"..\" such as /var/log/pods");
      }
      *field = *v;
    }
  }
  if (auto v = value("KUBE_LOG_MAX_SIZE")) {
    if (ascii_lower(*v) == "off") {
      s.log_max_size = 0;
    } else {
      auto size = parse_size(*v);
      if (!size || *size < kMinLogMaxSize) {
        invalid_setting("KUBE_LOG_MAX_SIZE", *v,
                        "kubelet's containerLogMaxSize such as 10Mi (at least 12k), or off");
      }
      s.log_max_size = *size;
    }
  }
  return s;
}

}  // namespace logguard
