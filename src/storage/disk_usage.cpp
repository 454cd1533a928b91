#include "logguard/storage/disk_usage.h"

#include <algorithm>
#include <limits>
#include <map>

#include "logguard/format/log_names.h"

namespace logguard {

LogRootUsage scan_log_root(FileSystem& fs, const std::string& root) {
  LogRootUsage usage;
  for (const std::string& id : fs.list_dir(root)) {
    if (!is_container_id(id)) continue;
    auto files = fs.list_files(container_log_dir(root, id));
    if (!files) continue;
    usage.containers.push_back(id);
    const std::string base = log_base_name(id);
    for (FileEntry& file : *files) {
      const std::string& name = file.name;
      size_t index;
      if (name == base) {
        index = 0;
      } else if (auto r = parse_rotated_name(name, base)) {
        index = r->index;
      } else if (is_temp_name(name, base)) {
        index = std::numeric_limits<size_t>::max();
      } else {
        continue;
      }
      usage.files.push_back({id, std::move(file.name), index, file.size, file.modified_nanos});
      usage.bytes += file.size;
    }
  }
  return usage;
}

std::vector<Eviction> plan_eviction(const LogRootUsage& usage,
                                    const std::function<bool(const std::string&)>& live,
                                    uint64_t bytes_to_free) {
  // Per container, its deletable files in the order they must go: rotation
  // moves files up, so the highest index is the oldest; the current file
  // (only of a container without a session) is its newest.
  struct Queue {
    bool live;
    std::vector<const LogFileUsage*> files;  // next victim at the back
  };
  std::map<std::string, Queue> queues;
  for (const LogFileUsage& f : usage.files) {
    if (f.index == std::numeric_limits<size_t>::max()) continue;  // a compression under way
    auto [it, fresh] = queues.try_emplace(f.container_id);
    if (fresh) it->second.live = live(f.container_id);
    if (it->second.live && f.index == 0) continue;
    it->second.files.push_back(&f);
  }
  for (auto& [id, q] : queues) {
    std::sort(q.files.begin(), q.files.end(), [](const LogFileUsage* a, const LogFileUsage* b) {
      if ((a->index == 0) != (b->index == 0)) return a->index == 0;  // current file last out
      return a->index < b->index;                                     // highest index out first
    });
  }
  std::vector<Eviction> plan;
  uint64_t freed = 0;
  // Containers without a session first, then live ones; within each, always
  // the oldest next victim among all containers (a k-way merge by time).
  for (bool phase_live : {false, true}) {
    for (;;) {
      if (freed >= bytes_to_free) return plan;
      Queue* oldest = nullptr;
      for (auto& [id, q] : queues) {
        if (q.live != phase_live || q.files.empty()) continue;
        if (!oldest || q.files.back()->modified < oldest->files.back()->modified) oldest = &q;
      }
      if (!oldest) break;
      const LogFileUsage* f = oldest->files.back();
      oldest->files.pop_back();
      plan.push_back({f->container_id, f->index == 0, f->bytes});
      freed += f->bytes;
    }
  }
  return plan;
}

}  // namespace logguard
