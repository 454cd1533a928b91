// RemovalGuard: a container's logs follow it when it is removed
// (`docker rm`), and never before.
//  - With the engine's containers directory (the plugin's read-only
//    `containers` mount, only ever stat'ed): a container's logs are deleted
//    once its entry there is gone. The directory is trusted only if every
//    container with a live session is in it (and, with none live, if it
//    holds at least one container logguard has logs for): a stale copy
//    (a data root moved, a mount source not set again after an upgrade)
//    must not make running containers look removed.
//  - Without it, or while it is not trusted, RETAIN: logs of containers
//    without a session are deleted once their newest file is older than that.
// A container with a live session is never removed, whatever the directory
// says: its session goes on and its files stay. Links for Kubernetes log
// collectors and at CRI log paths (kubelet's) go with the logs; links whose logs went while no plugin ran
// are pruned.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "logguard/base/clock.h"
#include "logguard/base/file_system.h"
#include "logguard/storage/kube_links.h"
#include "logguard/storage/log_directory.h"

namespace logguard {

class RemovalGuard {
 public:
  // fs: the log root's file system. engine_fs: where containers_dir is
  // looked up (empty containers_dir: not given). retain_nanos <= 0: forever.
  // pod_links: the links at CRI log paths, removed with the logs; null: none.
  RemovalGuard(std::string root, FileSystem& fs, LogDirectories& directories,
               std::string containers_dir, FileSystem& engine_fs, int64_t retain_nanos,
               Clock& clock, PodLinks* pod_links = nullptr);

  // Deletes the logs of removed containers; live: the containers with a
  // live session now.
  void follow(const std::set<std::string>& live);

 private:
  // Whether the containers directory can be believed about these containers.
  bool trusted(const std::set<std::string>& live, const std::set<std::string>& present);
  void retain(const std::vector<std::string>& ids, const std::set<std::string>& live);
  void remove_logs(const std::string& container_id, const char* why);

  const std::string root_;
  FileSystem& fs_;
  LogDirectories& directories_;
  const std::string containers_dir_;
  FileSystem& engine_fs_;
  const int64_t retain_nanos_;
  Clock& clock_;
  KubeLinks kube_links_;
  bool warned_untrusted_ = false;
};

}  // namespace logguard
