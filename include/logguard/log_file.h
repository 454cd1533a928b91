// LogFile: one container's log files — append, rotate, compress (off the write
// path), recover after a crash.
//
// Naming (exactly Docker json-file's, so its tools and readers work unchanged):
//   <dir>/<base>                current file, e.g. <id>-json.log
//   <dir>/<base>.<N>            rotated, N = 1 (newest) .. max_file-1 (oldest)
//   <dir>/<base>.<N>.gz|.zst    the same, compressed
//   <dir>/<base>.*.tmp          a compression in progress or interrupted; not a log file
// Readers: list rotated files by N descending, then the current file. If both
// <base>.N and <base>.N.gz exist (a compression finishing right now) they hold
// the same records; read one of them. Ignore every other name. A listed name
// may be gone by the time it is opened (rotated on, compressed, or dropped
// past max_file): on ENOENT, list again.
//
// Crash safety (process crash: completed syscalls persist, nothing else):
// at any moment the directory holds only complete files — a compressed name
// appears only by renaming a fully written and synced temp — and open()
// finishes or undoes whatever was interrupted, so no record of a kept file is
// lost or duplicated.
//
// Threads: append/flush/open/close are called by one writer at a time (the
// caller serializes). Compression finishes on the Compressor's thread and
// synchronizes with rotation on an internal mutex, held only for renames.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/compression.h"
#include "logguard/compressor.h"
#include "logguard/file_system.h"
#include "logguard/log_watch.h"

namespace logguard {

struct RotationPolicy {
  uint64_t max_size = 0;  // bytes per file before rotating; 0 = unlimited (never rotate)
  int max_file = 1;       // files kept, the current one included; >= 1
  Codec codec = Codec::kNone;  // compression of rotated files
};

class LogFile {
 public:
  // queue and watch may be null (no compression / nobody to wake).
  LogFile(FileSystem& fs, std::string dir, std::string base_name, RotationPolicy policy,
          CompressionQueue* queue, std::shared_ptr<LogWatch> watch);
  // Writes what is buffered (errors are logged, not thrown).
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Recovers the directory (see above), then opens the current file for
  // appending. Never truncates: existing records are kept.
  void open();
  // Buffers one whole encoded record (its '\n' included). Rotates first if the
  // current file (written + buffered) has reached max_size and is not empty,
  // so a record is never split across files and a file exceeds max_size by at
  // most one record. Throws std::system_error on I/O errors; then the record
  // was not taken, and records buffered earlier stay buffered.
  void append(std::string_view record, int64_t time_nanos);
  // Writes the buffer to the current file and wakes the watch. Throws on I/O
  // errors; bytes that did not reach the file stay buffered for the next try.
  void flush();
  // Flushes and closes. Compressions already queued still finish: the
  // naming state is per directory and outlives this object. Safe to call twice.
  void close();

  // Bytes in the current file, written plus buffered.
  uint64_t current_size() const { return written_ + buffer_.size(); }

 private:
  struct Shared;
  void ensure_current();
  void write_buffer();
  void rotate();
  void rescan();
  void submit_compressions();
  CompressionJob make_job(uint64_t seq, int64_t last_time);
  std::string current_path() const;

  FileSystem& fs_;
  std::string dir_;
  std::string base_;
  RotationPolicy policy_;
  CompressionQueue* queue_;
  std::shared_ptr<LogWatch> watch_;
  std::shared_ptr<Shared> shared_;  // also held by running compression jobs
  std::unique_ptr<WritableFile> current_;
  uint64_t written_ = 0;
  int64_t last_time_ = 0;  // of the newest record in the current file; 0 = unknown
  std::string buffer_;
};

// Full paths of a container's log files, oldest first, current file last
// (only those that exist). Where both forms of a rotation exist, the plain one.
std::vector<std::string> log_file_names(FileSystem& fs, const std::string& dir,
                                        const std::string& base_name);

// "<base>.<N>[.gz|.zst]" with N >= 1 written without leading zeros, as
// json-file names rotations; nullopt for any other name (temporaries too).
struct RotatedName {
  size_t index;
  Codec form;  // kNone while plain
};
std::optional<RotatedName> parse_rotated_name(std::string_view name, std::string_view base_name);

// Whether `name` (not a path) is a temporary of the log named base_name.
bool is_log_temp_name(std::string_view name, std::string_view base_name);

}  // namespace logguard
