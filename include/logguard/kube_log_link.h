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
// only lets through DNS names (pod: DNS-1123 subdomain, at most 253 bytes;
// namespace and container: DNS-1123 label, at most 63), so '_' never occurs in
// them and collectors split on it. Container labels can also be set by hand
// (`docker run -l io.kubernetes.pod.name=...`); values that are not such names
// get no link rather than a name kubelet could never produce (and '/' or ".."
// could not be a file name at all).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

// The labels kubelet puts on every container of a pod (the engine passes them
// to the plugin as Info's ContainerLabels).
inline constexpr std::string_view kKubePodNameLabel = "io.kubernetes.pod.name";
inline constexpr std::string_view kKubePodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr std::string_view kKubeContainerNameLabel = "io.kubernetes.container.name";
// dockershim and cri-dockerd mark the pod's sandbox ("pause") container with
// this label set to "podsandbox"; kubelet makes no link for it.
inline constexpr std::string_view kKubeDockerTypeLabel = "io.kubernetes.docker.type";

// The directory under the log root that holds the links.
inline constexpr std::string_view kKubeLinkDir = "containers";

// The longest file name kubelet makes (ext4's NAME_MAX), ".log" included.
inline constexpr size_t kKubeLinkNameMax = 255;

// The link's file name for a container with these labels, or nullopt when it
// gets none: a label missing or empty, a value that is not a valid Kubernetes
// name, the pod's sandbox container, or a container ID that is not 1 to 128
// hex digits (the IDs the driver accepts).
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
