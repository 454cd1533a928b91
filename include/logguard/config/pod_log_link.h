// The CRI log path of a pod's container and the link logguard makes there.
//
// Kubernetes >= 1.24 runs Docker through cri-dockerd; kubelet then reads a
// container's log (`kubectl logs`, its own rotation) at the CRI log path
// <podLogsDir>/<namespace>_<pod>_<uid>/<container>/<restart>.log, and node log
// collectors read it there or through kubelet's /var/log/containers links.
// cri-dockerd puts that path in the label io.kubernetes.container.logpath at
// create and, at start, links it to the log file the engine reports
// (core/container_start.go, core/logs.go), which the engine does for
// json-file only: for a logging plugin nothing is there and `kubectl logs`
// fails. So logguard links it to the container's current file itself.
//
// Only a path shaped exactly as kubelet builds it for the container's own
// labels is linked (kubelet's BuildContainerLogsDirectory and its
// "<restart>.log"): absolute, under KUBE_POD_LOGS_DIR, "<ns>_<pod>_<uid>"
// then the container's name, then digits and ".log". Anything else in the
// label (a "..", another pod's directory, a path elsewhere) gets no link.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/config/kube_settings.h"

namespace logguard {

struct PodLogLink {
  // Relative to the pods directory: "<ns>_<pod>_<uid>/<container>/<n>.log".
  std::string path;
  // What the link holds: the container's current file as the host sees it,
  // "<KUBE_LOGROOT_SOURCE>/<id>/<id>-json.log" (kubelet resolves it on the host).
  std::string target;
};

// The link for a container with these labels, or nullopt: not a pod's
// container (kube_labels.h), no CRI log path, or one kubelet would not build.
std::optional<PodLogLink> pod_log_link(const std::map<std::string, std::string>& labels,
                                       std::string_view container_id,
                                       const KubeSettings& settings);

// The name the link is made under in its directory before it is renamed
// into place: ".logguard-<id>.tmp". kubelet's globs there ("<n>.log.*",
// "<n>.log*") and collectors' ("*.log") never match it.
std::string pod_log_link_temp_name(std::string_view container_id);

// The container a link's text names if it is a link logguard makes
// ("<KUBE_LOGROOT_SOURCE>/<id>/<id>-json.log"), else nullopt: a link that is
// not ours is never replaced or removed.
std::optional<std::string> pod_log_link_owner(std::string_view target,
                                              const KubeSettings& settings);

// Where logguard notes, for each container it linked, the link's path (so
// it can remove the link with the container's logs, when no labels are at
// hand): a symbolic link <root>/.pod-links/<id> whose text is PodLogLink::path.
inline constexpr std::string_view kPodLinkRecordDir = ".pod-links";

// Whether `path` (a record's text) is a relative path pod_log_link could
// have made: three components, no "." or "..", a "<n>.log" file name.
bool is_pod_log_link_path(std::string_view path);

}  // namespace logguard
