// What the log root holds, and which files to delete when the node's log
// disk is over its cap or under its free-space floor. Pure planning over a
// scan; node_guard.h carries it out through each directory's LogDirectory.
//
// Eviction order: the files of containers without a live session first
// (their current files included), oldest first; then the rotated files of
// live containers, oldest first. A live container's current file is never
// evicted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "logguard/base/file_system.h"

namespace logguard {

struct LogFileUsage {
  std::string container_id;
  std::string name;     // directory entry
  size_t index;         // 0: current file, N: rotation N; temporaries: SIZE_MAX
  uint64_t bytes;
  int64_t modified;     // Unix ns
};

struct LogRootUsage {
  std::vector<LogFileUsage> files;
  std::vector<std::string> containers;  // IDs with a log directory
  uint64_t bytes = 0;                   // all of the files
};

// Every container log file (and temporary) under root; other names are not
// logguard's and are left out.
LogRootUsage scan_log_root(FileSystem& fs, const std::string& root);

struct Eviction {
  std::string container_id;
  bool current;     // the current file (of a container without a live session)
  uint64_t bytes;   // expected to be freed
};

// The files to delete, in order, to free at least `bytes_to_free`; fewer if
// not that much may be deleted. live(id) says whether a container has a live
// session.
std::vector<Eviction> plan_eviction(const LogRootUsage& usage,
                                    const std::function<bool(const std::string&)>& live,
                                    uint64_t bytes_to_free);

}  // namespace logguard
