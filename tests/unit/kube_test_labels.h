// The labels kubelet and cri-dockerd put on a pod's container, for the tests
// of the Kubernetes view.
#pragma once

#include <map>
#include <string>

namespace logguard::testing {

inline constexpr const char* kPodUid = "6b7d3c1e-2f4a-4b8c-9d0e-1a2b3c4d5e6f";
inline const std::string kSandboxId(64, '5');

// A pod's container as cri-dockerd creates it; logpath "" leaves that label out.
inline std::map<std::string, std::string> pod_labels(const std::string& pod,
                                                     const std::string& ns = "default",
                                                     const std::string& container = "app",
                                                     const std::string& logpath = "") {
  std::map<std::string, std::string> labels{{"io.kubernetes.pod.name", pod},
                                            {"io.kubernetes.pod.namespace", ns},
                                            {"io.kubernetes.pod.uid", kPodUid},
                                            {"io.kubernetes.container.name", container},
                                            {"io.kubernetes.docker.type", "container"},
                                            {"io.kubernetes.sandbox.id", kSandboxId}};
  if (!logpath.empty()) labels["io.kubernetes.container.logpath"] = logpath;
  return labels;
}

// The CRI log path kubelet gives that container under /var/log/pods.
inline std::string cri_log_path(const std::string& pod, const std::string& ns = "default",
                                const std::string& container = "app", int restart = 0) {
  return "/var/log/pods/" + ns + "_" + pod + "_" + kPodUid + "/" + container + "/" +
         std::to_string(restart) + ".log";
}

}  // namespace logguard::testing
