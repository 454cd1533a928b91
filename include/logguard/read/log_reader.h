// Reading a container's log back (ReadLogs): every file of the log, oldest to
// newest, as json-file records, with Docker's tail / since / until / follow
// semantics (docs/PROTOCOL.md §7).
//
// Files: rotated "<base>.N" … "<base>.1" (each possibly ".gz" or ".zst"),
// then the current "<base>" (log_names.h). Readers take no lock the writer
// holds: they open the current file first and snapshot its size, then find
// the rotated files before it with a RotationWalker (rotation_walker.h),
// which needs no moment when the files hold still. A file is closed once
// read: a follower keeps only the file it follows open, so files deleted by
// max-file free their space while `docker logs -f` runs.
//
// Cost: tail N reads the newest files backwards and touches older (possibly
// compressed) files only when the newer ones hold fewer than N records; since
// skips compressed files by their lastTime and binary-searches plain files
// (log_seek.h), so neither grows with the history they skip. A follower
// waits in poll() on its LogWatch and the client's socket: idle, it costs no
// CPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "logguard/format/json_record.h"
#include "logguard/base/file_system.h"
#include "logguard/base/log_watch.h"
#include "logguard/read/read_reporter.h"

namespace logguard {

struct ReadRequest {
  int64_t since_nanos = 0;  // 0: unset; else records older than this are skipped
  int64_t until_nanos = 0;  // 0: unset; else reading ends at the first record after this
  int64_t tail = -1;        // < 0: all history; 0: none; N: the last N records (before since/until)
  bool follow = false;      // after the history, deliver new records as they are written
};

// Where records go; implemented by the ReadLogs stream.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Delivers one record; false when the client went away (reading stops).
  virtual bool write(const Record& record) = 0;
  // Sends what write() buffered. read_logs calls it before every wait while
  // following (so nothing read sits in a buffer while it sleeps); the stream
  // also flushes at the end. False when the client went away.
  virtual bool flush() { return true; }
  // A socket whose hang-up (POLLRDHUP) ends an idle follow; -1 if none.
  virtual int hangup_fd() const { return -1; }
};

// Streams the records of <dir>/<base_name> and its rotations, read through
// fs, to sink.
// Without follow (or with a null watch) it returns after the history as of
// the call. With follow it then waits, without polling, for the watch's
// notifications and returns once the watch is closed and everything written
// before that was delivered, when until is passed, or when the client leaves.
// Rotations while following are followed without loss or duplicates.
// Corrupt lines and unreadable files are skipped and reported; throws
// std::system_error only if a name cannot be looked up (other than missing)
// or waiting fails. What is skipped is told to reporter (null: the plugin's
// log, LoggingReadReporter).
void read_logs(FileSystem& fs, const std::string& dir, const std::string& base_name,
               const ReadRequest& request, RecordSink& sink, std::shared_ptr<LogWatch> watch,
               ReadReporter* reporter = nullptr);

}  // namespace logguard
