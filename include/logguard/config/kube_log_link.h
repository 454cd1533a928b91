// Names of the Kubernetes-style links to container logs: kubelet links every
// container's log as /var/log/containers/<pod>_<namespace>_<container>-<id>.log,
// and node log collectors (Fluent Bit's kubernetes filter, Filebeat, fluentd)
// take the pod, namespace, container and container ID from that file name.
// Kubelet makes no such link for a logging plugin (the engine reports no log
// path), so logguard keeps its own in <root>/containers/, named the same way.
//
// The name is kubelet's (pkg/kubelet/kuberuntime/legacy.go, logSymlink):
// "<pod>_<namespace>_<container>-<id>" cut to its first 251 bytes, then
// ".log", so that the name fits ext4's 255 bytes. The cut is at the end: a long
// pod name loses the tail of the container ID (and with it the collectors'
// match), never the ".log".
//
// Kubelet formats these names without any escaping because the API server
// only lets through DNS names, so '_' never occurs in them and collectors
// split on it; only pods' containers as kube_labels.h recognises them get a
// link.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

// The directory under the log root that holds the links.
inline constexpr std::string_view kKubeLinkDir = "containers";

// The longest file name kubelet makes (ext4's NAME_MAX), ".log" included.
inline constexpr size_t kKubeLinkNameMax = 255;

// The link's file name for a container with these labels, or nullopt when it
// gets none: not a pod's container (kube_container), or a container ID that
// is not 1 to 128 hex digits (the IDs the driver accepts).
std::optional<std::string> kube_log_link_name(const std::map<std::string, std::string>& labels,
                                              std::string_view container_id);

// Where the link points, relative to the links' directory:
// "../<id>/<id>-json.log", the container's current file. Relative so that a
// collector that mounts the log root elsewhere still resolves it.
std::string kube_log_link_target(std::string_view container_id);

// Whether the entry `name` of the links' directory, a symlink whose text is
// `target`, is logguard's link for this container (to remove it). The target
// decides, because a cut name may have lost the ID; the name must still have a
// link name's shape, and an uncut one (under 255 bytes) must end in
// "-<id>.log".
bool is_kube_log_link_for(std::string_view name, std::string_view target,
                          std::string_view container_id);

}  // namespace logguard
