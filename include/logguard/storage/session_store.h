// SessionStore: the plugin's memory of its logging sessions, kept in its own
// state directory (on the managed plugin's rootfs, which survives restarts:
// /var/lib/logguard/sessions), so that a plugin that crashed, was killed or
// was disabled and enabled again reattaches to every FIFO the engine still
// writes to. The engine never repeats StartLogging after a plugin restart.
//
// Per session two files, named after the FIFO:
//   <key>.session   what StartLogging said (FIFO, container, effective
//                   options, attrs); written once, safe from a crash of
//                   the process (a temp renamed into place; not synced: a
//                   record outlives the process in the page cache, and no
//                   FIFO outlives the node), removed when the session ends.
//   <key>.progress  what the session's limiter must carry over (tokens,
//                   drops not yet announced) and the last batch of the
//                   stream whose drops were counted (see stream_pump.h).
//                   Rewritten often, in one of two fixed slots in turn, each
//                   with a sequence number and a CRC: a write torn by a
//                   crash is never read as valid, the other slot still is.
// Holds no secrets: the container's environment is not stored.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logguard/base/file_system.h"
#include "logguard/format/json_record.h"
#include "logguard/config/limit_counts.h"
#include "logguard/config/options.h"

namespace logguard {

struct SessionRecord {
  std::string fifo;
  std::string container_id;
  std::string container_name;
  LogOpts opts;    // the effective log-opts: the container's over the plugin's defaults then
  Attrs attrs;     // json-file attrs computed at StartLogging
  std::map<std::string, std::string> labels;  // the container's labels (for the Kubernetes view)
};

struct SessionProgress {
  int64_t saved_wall_nanos = 0;
  LimiterSnapshot limiter;
  // The stream's bytes of the last batch whose drops this progress counts;
  // if the stream still starts with them after a restart, they were not
  // consumed yet, and must be now without being counted again.
  uint64_t batch_length = 0;
  uint32_t batch_crc = 0;
};

// Where a session's progress goes; one per session, used by its thread.
class ProgressLog {
 public:
  ProgressLog(FileSystem& fs, std::string path);
  // The newest intact slot, nullopt if none (or if the file is unreadable:
  // logged). Call before the first save of a file that may exist.
  std::optional<SessionProgress> load();
  // Throws std::system_error on I/O errors.
  void save(const SessionProgress& progress);

  static constexpr size_t kSlotSize = 4096;

 private:
  FileSystem& fs_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t seq_ = 0;  // of the newest slot
};

class SessionStore {
 public:
  SessionStore(FileSystem& fs, std::string dir);
  const std::string& dir() const { return dir_; }

  // Crash-safe; throws std::system_error on I/O errors.
  void save(const SessionRecord& record);
  // Forgets a session (both files); missing files are fine.
  void remove(const std::string& fifo);
  // Every intact record; torn temporaries are removed. Never throws: an
  // entry that is damaged (unreadable, not a regular file, not a record, a
  // temporary that cannot be removed) is logged and renamed aside to
  // <name>.damaged, where it stays for a person to look at and is never
  // read again; if even that fails (a read-only directory) it is skipped.
  // A directory that cannot be listed holds no sessions.
  std::vector<SessionRecord> load_all();
  std::unique_ptr<ProgressLog> progress(const std::string& fifo);

  // The file stem of a FIFO's files: its name if that is plain hex (the
  // engine's FIFOs are named by 64 random hex digits), else a hash of it.
  static std::string key(const std::string& fifo);

 private:
  SessionRecord read_record(const std::string& path);
  void set_aside(const std::string& path, const std::string& why);

  FileSystem& fs_;
  std::string dir_;
};

}  // namespace logguard
