// PodLinks: the links logguard makes at its containers' CRI log paths
// (pod_log_link.h), so that `kubectl logs` and collectors reading
// /var/log/pods find the logs on nodes where cri-dockerd runs Docker for
// kubelet.
//
// - Made when a session starts (and again when one is reattached), under a
//   temporary name renamed into place, only where kubelet made the
//   container's directory (logguard never makes it) and only over nothing,
//   or over a link logguard made for a container that no longer logs (a
//   regular file, a link that is not logguard's, or a live container's link
//   stays as it is).
// - Kept when the container stops (`kubectl logs --previous` reads it).
// - Removed with the container's logs, only if it is still logguard's.
// Which path a container was linked at is noted in the log root
// (kPodLinkRecordDir), so removal needs no labels and survives restarts.
//
// Thread safety: calls for different containers may run concurrently.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "logguard/base/file_system.h"
#include "logguard/config/kube_settings.h"

namespace logguard {

class PodLinks {
 public:
  // Whether a container has a live logging session.
  using LiveFn = std::function<bool(const std::string& container_id)>;

  // pods: the file system rooted at pods_dir, the pods directory as the
  // plugin sees it; logs: the log root's, root its path (for the records).
  PodLinks(FileSystem& pods, std::string pods_dir, FileSystem& logs, std::string root,
           KubeSettings settings);

  const KubeSettings& settings() const { return settings_; }

  // Makes (or keeps) the container's link; nothing for a container whose
  // labels give no CRI log path or whose directory kubelet has not made.
  // Refusals are logged. Throws std::system_error on I/O errors.
  void ensure(const std::string& container_id, const std::map<std::string, std::string>& labels,
              const LiveFn& live);
  // Removes the container's link if it is still logguard's link to this
  // container, and its record.
  void remove_for(const std::string& container_id);
  // remove_for every container whose log directory is gone.
  void prune();

 private:
  std::string record_dir() const;
  std::string record_path(const std::string& container_id) const;
  void note(const std::string& container_id, const std::string& path);
  bool may_replace(const std::string& path, const std::optional<std::string>& existing,
                   const std::string& container_id, const LiveFn& live);
  bool put_in_place(const std::string& path, const std::string& target,
                    const std::string& container_id, bool replace);

  FileSystem& pods_;
  std::string pods_dir_;
  FileSystem& logs_;
  std::string root_;
  KubeSettings settings_;
};

}  // namespace logguard
