// LogFile: the writer of one container's log files — append, rotate before
// the write that would pass max-size, hand rotated files to the compressor,
// recover after a crash. Names follow log_names.h; the directory's naming
// state (shared with compression jobs and eviction) is its LogDirectory.
//
// Crash safety (process crash: completed syscalls persist, nothing else): at
// any moment the directory holds only complete files — a compressed name
// appears only by renaming a fully written and synced temp — and open()
// finishes or undoes whatever was interrupted, so no record of a kept file is
// lost or duplicated. A record torn by a crash in the middle of its write (the
// current file does not end with '\n') is cut off at open().
//
// Threads: append/flush/open/close are called by one writer at a time (the
// caller serializes). Compression finishes on the Compressor's thread and
// synchronizes with rotation through the LogDirectory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "logguard/storage/compressor.h"
#include "logguard/base/file_system.h"
#include "logguard/storage/log_directory.h"
#include "logguard/base/log_watch.h"
#include "logguard/metrics/metrics.h"
#include "logguard/config/options.h"

namespace logguard {

class LogFile {
 public:
  // queue and watch may be null (no compression / nobody to wake).
  LogFile(FileSystem& fs, std::shared_ptr<LogDirectory> dir, RotationOptions rotation,
          CompressionQueue* queue, std::shared_ptr<LogWatch> watch);
  // Writes what is buffered (errors are logged, not thrown).
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Recovers the directory, then opens the current file for appending.
  // Never truncates records: existing ones are kept.
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
  // Flushes and closes. Compressions already queued still finish: they hold
  // the LogDirectory. Safe to call twice.
  void close();
  // If the current file (or its whole directory) was deleted behind the
  // writer's back, starts a new one where it belongs, recreating the
  // directory; writes would otherwise go on into a file nobody can see.
  // Cheap (one stat); the caller decides how often.
  void ensure_in_place();

  // Counts rotations and compressions of these files into `metrics` (may be
  // null). Call before open().
  void count_into(std::shared_ptr<ContainerMetrics> metrics) { metrics_ = std::move(metrics); }

  // Bytes in the current file, written plus buffered.
  uint64_t current_size() const { return written_ + buffer_.size(); }
  // Bytes that reached the disk through this writer since it was made.
  uint64_t bytes_written() const { return total_written_; }
  const LogDirectory& directory() const { return *dir_; }

 private:
  void ensure_current();
  void cut_torn_record();
  void write_buffer();
  void rotate();
  void submit_compressions();
  CompressionJob make_job(uint64_t seq, int64_t last_time);

  FileSystem& fs_;
  std::shared_ptr<LogDirectory> dir_;  // also held by running compression jobs
  RotationOptions rotation_;
  CompressionQueue* queue_;
  std::shared_ptr<LogWatch> watch_;
  std::unique_ptr<WritableFile> current_;
  uint64_t written_ = 0;
  uint64_t total_written_ = 0;
  int64_t last_time_ = 0;  // of the newest record in the current file; 0 = unknown
  std::string buffer_;
  bool attached_ = false;  // counted as the directory's writer
  std::shared_ptr<ContainerMetrics> metrics_;  // also held by compression jobs
};

}  // namespace logguard
