// KubeLinks: the Kubernetes view of the logs. For every pod's container
// (kube_labels.h), a link <root>/containers/<pod>_<ns>_<container>-<id>.log to
// its current file, named as kubelet names its own (kube_log_link.h), so node
// log collectors find logguard's logs as they find json-file's; and, with
// PodLinks, the link at its CRI log path for kubelet (pod_links.h). Made when
// a session starts (and again when one is reattached), kept across rotations
// (they name the current file, which rotation always recreates), removed with
// the container's logs; links whose logs went while no plugin ran are pruned.
//
// A cut name (kubelet's 255 bytes) can be shared by two containers of a
// long-named pod. The link then belongs to the one that logs: a container
// never takes it from another that has a live session, removal only ever
// removes a container's own link, and when one's session ends the Driver
// offers the name to the others (ensure again).
#pragma once

#include <map>
#include <string>

#include "logguard/base/file_system.h"
#include "logguard/storage/pod_links.h"

namespace logguard {

class KubeLinks {
 public:
  using LiveFn = PodLinks::LiveFn;

  // fs: the log root's file system; root: the log root in it; pods: the
  // links at CRI log paths, null if the plugin makes none.
  KubeLinks(FileSystem& fs, std::string root, PodLinks* pods = nullptr)
      : fs_(fs), root_(std::move(root)), pods_(pods) {}

  // Makes (or fixes) the container's links; nothing for other containers.
  // live tells which containers have a live session. Throws
  // std::system_error on I/O errors.
  void ensure(const std::string& container_id, const std::map<std::string, std::string>& labels,
              const LiveFn& live);
  // Removes the container's own links.
  void remove_for(const std::string& container_id);
  // Removes the links whose container has no log directory any more.
  void prune();

 private:
  std::string dir() const;
  void ensure_collectors_link(const std::string& container_id,
                              const std::map<std::string, std::string>& labels,
                              const LiveFn& live);
  void remove_collectors_link(const std::string& container_id);
  void prune_collectors_links();

  FileSystem& fs_;
  std::string root_;
  PodLinks* pods_;
};

}  // namespace logguard
