// What a container's labels say about the Kubernetes pod it belongs to. The
// engine passes a container's labels to the plugin (Info's ContainerLabels);
// kubelet labels every container of a pod with the pod's name, namespace and
// UID and the container's name (pkg/kubelet/kuberuntime/labels.go), and
// dockershim (Kubernetes <= 1.23) and cri-dockerd (>= 1.24) add their own
// markers when they create a container for kubelet
// (cri-dockerd core/container_create.go): io.kubernetes.docker.type=container,
// the sandbox's container ID, and the CRI log path kubelet chose.
//
// Labels can also be set by hand (`docker run -l
// io.kubernetes.pod.namespace=kube-system ...`). Only a container carrying the
// markers as well counts as a pod's container here: a person labelling a
// container rarely sets them all. (Anyone with the engine's socket can, and is
// root anyway.) Values that are not valid Kubernetes names do not count
// either: kubelet never produces them, and '/' or ".." could not be part of a
// file name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

inline constexpr std::string_view kKubePodNameLabel = "io.kubernetes.pod.name";
inline constexpr std::string_view kKubePodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr std::string_view kKubePodUidLabel = "io.kubernetes.pod.uid";
inline constexpr std::string_view kKubeContainerNameLabel = "io.kubernetes.container.name";
// "container" on a pod's containers, "podsandbox" on its "pause" container.
inline constexpr std::string_view kKubeDockerTypeLabel = "io.kubernetes.docker.type";
inline constexpr std::string_view kKubeSandboxIdLabel = "io.kubernetes.sandbox.id";
inline constexpr std::string_view kKubeLogPathLabel = "io.kubernetes.container.logpath";

// A pod's container, as its labels name it (views into the labels).
struct KubeContainer {
  std::string_view pod;        // a DNS-1123 subdomain (at most 253 bytes)
  std::string_view ns;         // a DNS-1123 label (at most 63 bytes)
  std::string_view uid;        // a UUID, or 32 hex digits for a static pod
  std::string_view container;  // a DNS-1123 label
};

// The pod's container these labels describe, or nullopt: not a pod's
// container (the sandbox included), a marker or name missing, or a value
// Kubernetes would never produce.
std::optional<KubeContainer> kube_container(const std::map<std::string, std::string>& labels);

// The value of a label, empty if missing.
std::string_view kube_label(const std::map<std::string, std::string>& labels,
                            std::string_view key);

}  // namespace logguard
