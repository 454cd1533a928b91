// KubeLinks: the Kubernetes view of the logs. For every container that
// carries kubelet's labels, a link <root>/containers/<pod>_<ns>_<container>-<id>.log
// to its current file, named as kubelet names its own (kube_log_link.h), so
// node log collectors find logguard's logs as they find json-file's. Made
// when a session starts (and again when one is reattached), kept across
// rotations (it names the current file, which rotation always recreates),
// removed with the container's logs; links whose logs went while no plugin
// ran are pruned.
#pragma once

#include <map>
#include <string>

#include "logguard/file_system.h"

namespace logguard {

class KubeLinks {
 public:
  // fs: the log root's file system; root: the log root in it.
  KubeLinks(FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

  // Makes (or fixes) the container's link; nothing for containers without
  // kubelet's labels. Replaces a link of the same name atomically (a cut
  // name can be shared by two instances of a long-named pod: the newest
  // wins). Throws std::system_error on I/O errors.
  void ensure(const std::string& container_id, const std::map<std::string, std::string>& labels);
  // Removes every link that points at this container's log.
  void remove_for(const std::string& container_id);
  // Removes the links whose container has no log directory any more.
  void prune();

 private:
  std::string dir() const;

  FileSystem& fs_;
  std::string root_;
};

}  // namespace logguard
