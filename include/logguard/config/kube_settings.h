// The Kubernetes plugin settings (environment variables of config.json),
// parsed and validated at start; a bad one stops the plugin with the setting
// named, as the node guard's do.
//
// | setting             | meaning                                            | default           |
// |---------------------|----------------------------------------------------|-------------------|
// | KUBE_POD_LINKS      | on: link the CRI log path cri-dockerd gives a      | on                |
// |                     | container under /var/log/pods (pod_links.h); off   |                   |
// | KUBE_POD_LOGS_DIR   | kubelet's podLogsDir as the host sees it: where    | /var/log/pods     |
// |                     | the CRI log paths in the containers' labels point  |                   |
// | KUBE_LOGROOT_SOURCE | the log root as the host sees it (the logroot      | /var/log/logguard |
// |                     | mount's source): what the links point at           |                   |
// | KUBE_LOG_MAX_SIZE   | kubelet's containerLogMaxSize; linked containers   | 10Mi              |
// |                     | rotate below it (kubelet cannot rotate them); off  |                   |
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace logguard {

struct KubeSettings {
  bool pod_links = true;
  std::string pod_logs_dir = "/var/log/pods";
  std::string logroot_source = "/var/log/logguard";
  uint64_t log_max_size = 10 * 1024 * 1024;  // 0: kubelet does not rotate

  // The max-size a linked container's file gets: its own, capped at 9/10 of
  // kubelet's containerLogMaxSize. kubelet rotates a file once it reaches
  // that size; logguard's file passes its max-size by at most one record, and
  // the tenth left over is far more than a record.
  uint64_t linked_max_size(uint64_t max_size) const;
  // One line for the plugin's log at start.
  std::string describe() const;
};

// Throws OptionError naming the setting, e.g.
// `logguard: invalid plugin setting KUBE_LOG_MAX_SIZE "big": want ...`.
KubeSettings kube_settings_from_env(const std::function<const char*(const char*)>& getenv);

}  // namespace logguard
