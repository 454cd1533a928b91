// LogDirectory: the naming state of one container's log directory — which
// rotated file is at which index and in which form, which ones are being
// compressed — and the mutex that serializes renames in it. The writer
// (LogFile), compression jobs and eviction (the node guard) all change names
// through it, so none of them ever acts on a stale listing.
//
// LogDirectories, owned by the Driver, holds one LogDirectory per directory
// for as long as anything uses it: compression jobs keep theirs alive after
// the container's session ended, and a new session of the same container
// shares it with them instead of racing them.
//
// Crash safety (a process crash: completed syscalls persist, nothing else):
// every operation leaves the directory in a state recover() accepts, so no
// record of a kept file is lost or duplicated by an interrupted rotation,
// compression or eviction. Names follow log_names.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "logguard/format/compression.h"
#include "logguard/base/file_system.h"

namespace logguard {

class LogDirectory {
 public:
  LogDirectory(FileSystem& fs, std::string dir, std::string base);
  LogDirectory(const LogDirectory&) = delete;
  LogDirectory& operator=(const LogDirectory&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& base() const { return base_; }
  std::string current_path() const { return dir_ + "/" + base_; }

  // A writer (LogFile) starts: creates the directory if needed and counts
  // the writer, so eviction and removal leave its current file alone. The
  // first time (and after a failure left the names in doubt) rebuilds the
  // state from disk, finishing or undoing what a crash interrupted; always
  // drops rotations beyond max_file - 1.
  void attach_writer(int max_file);
  void detach_writer();
  // A session holds the directory from the moment it is made (a reattached
  // one before its files open): eviction and removal leave it alone.
  void hold();
  void release();
  // Whether a writer is attached or a session holds it.
  bool in_use() const;
  // Rebuilds from disk after files were deleted behind its back.
  void rescan_after_removal(int max_file);
  // Rebuilds from disk if a failed operation left the names in doubt.
  // Returns whether it did (the caller then offers compressions again).
  bool rescan_if_needed(int max_file);

  // Renames .N -> .N+1 (dropping what max_file no longer keeps) and the
  // current file to .1, whose last record has time last_time (0: unknown).
  void rotate(int max_file, int64_t last_time);

  // Rotated files awaiting compression that no job has yet; marks them queued.
  struct Pending {
    uint64_t seq;
    int64_t last_time;
  };
  std::vector<Pending> take_uncompressed();
  // Gives back files whose job was refused (they are offered again later).
  void unqueue(const std::vector<uint64_t>& seqs);
  // The temporary a compression of `seq` writes: unpredictable, so nothing
  // planted in the directory can be one.
  std::string new_temp_path(uint64_t seq) const;
  // Opens the plain file `seq` while holding the lock that keeps it from
  // being renamed; null if it is gone, already compressed, or the names are
  // in doubt. Throws std::system_error if it cannot be opened.
  std::unique_ptr<ReadableFile> open_to_compress(uint64_t seq);
  // Creates a compression's temp (new_temp_path), which must not exist.
  std::unique_ptr<WritableFile> create_temp(const std::string& temp) {
    return fs_.create_exclusive(temp);
  }
  // Puts a finished compression in place (written=true: temp is complete and
  // synced) or throws the temp away.
  void finish_compression(uint64_t seq, const std::string& temp, Codec codec, bool written);

  // Deletes the oldest rotated file (highest index); its size, or nullopt if
  // there is none. For eviction when the node's log disk is over budget.
  std::optional<uint64_t> evict_oldest();
  // Deletes every file of the log and the directory unless it is in use
  // (the container was removed); bytes freed, or nullopt if in use. What
  // cannot be deleted yet (a compression finishing) is left for the next call.
  std::optional<uint64_t> remove_if_idle();

  // Rotated files, newest first, as the state knows them now.
  struct Rotated {
    size_t index;
    Codec form;
    std::string path;
  };
  std::vector<Rotated> rotated() const;

 private:
  struct Entry {
    uint64_t seq;        // stays with the file while its index changes
    Codec form;          // kNone while plain
    bool queued;         // a compression job for it is pending or running
    int64_t last_time;   // of its last record; 0 = unknown
  };

  std::string path(size_t index, Codec form) const;
  size_t index_of(uint64_t seq) const;  // 1-based; 0 if gone
  void recover_locked(int max_file);
  void drop_excess_locked(size_t keep);
  bool is_ours(const std::string& name) const;

  FileSystem& fs_;
  const std::string dir_;
  const std::string base_;
  mutable std::mutex mu_;
  bool recovered_ = false;      // guarded by mu_
  int writers_ = 0;             // guarded by mu_
  int holders_ = 0;             // guarded by mu_
  std::deque<Entry> entries_;   // guarded by mu_; entries_[0] is <base>.1
  // Set when a failed operation may have left the directory differing from
  // entries_; the writer rescans before going on.
  std::atomic<bool> needs_rescan_{false};
};

// One LogDirectory per directory, for as long as anyone holds it.
class LogDirectories {
 public:
  explicit LogDirectories(FileSystem& fs) : fs_(fs) {}
  FileSystem& fs() { return fs_; }

  std::shared_ptr<LogDirectory> acquire(const std::string& dir, const std::string& base);
  // The directory's state if anything in the process holds it, else null.
  std::shared_ptr<LogDirectory> find(const std::string& dir, const std::string& base);
  // Forgets the directories no one holds any more; returns how many. Their
  // entries (and the blocks their weak_ptrs keep) would otherwise stay until
  // the next acquire, pinning heap pages after the containers are gone.
  size_t sweep();
  // Directories in the map, held or not (for tests).
  size_t size();

 private:
  size_t sweep_locked();  // with mu_ held

  FileSystem& fs_;
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<LogDirectory>> dirs_;  // by "<dir>/<base>"
};

}  // namespace logguard
