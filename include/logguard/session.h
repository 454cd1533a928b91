// Session: one StartLogging. Reads the container's FIFO, decodes frames,
// lets the limiter decide, and writes admitted records (and drop notices)
// to the container's log. Runs on a thread of its own with blocking waits,
// so a stalled disk stalls only this container.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "logguard/clock.h"
#include "logguard/container_log.h"
#include "logguard/frame.h"
#include "logguard/limiter.h"
#include "logguard/unique_fd.h"

namespace logguard {

class Session {
 public:
  Session(std::string fifo_path, LimitOptions limits, std::shared_ptr<ContainerLog> log,
          Clock& clock = system_clock());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& fifo_path() const { return fifo_path_; }

  // Opens the FIFO without blocking (the engine already holds its writer).
  // Throws std::system_error.
  void open_fifo();
  // Reads until the engine closes the FIFO (EOF) or shutdown(); then writes
  // the last notices and releases the log.
  void run();
  // Waits until everything in the FIFO when called has been read and
  // written, or the timeout passes (block mode may hold data back). For
  // StopLogging: the engine closes its end after the reply, and `docker run`
  // returns only after that, so the logs are on disk when it does.
  bool drain(std::chrono::milliseconds timeout);
  // Ends run() after it has written what can be read without waiting.
  void shutdown();

 private:
  enum class ReadResult { kData, kEmpty, kEof, kError };
  ReadResult read_available();
  void let_frames_gather();
  bool process_frames();
  void admit(LogEntry& entry);
  void stage_record(const RecordView& record);
  void stage_notices(bool stream_ending);
  void write_staged();
  void report_lost_records(const char* error);
  bool wait_for_tokens(int64_t nanos);
  int poll_timeout_ms() const;
  void wake();

  std::string fifo_path_;
  Limiter limiter_;
  std::shared_ptr<ContainerLog> log_;
  Clock& clock_;
  UniqueFd fifo_fd_;
  UniqueFd wake_fd_;  // eventfd: drain() and shutdown() interrupt waits
  FrameDecoder decoder_;
  size_t last_turn_bytes_ = 0;  // read in the last turn; small = the pipe was nearly empty
  LogEntry entry_;

  // Records admitted since the last write, encoded back to back.
  std::string staged_;
  struct StagedRecord {
    size_t end;
    int64_t time_nanos;
  };
  std::vector<StagedRecord> staged_records_;
  std::vector<Notice> notices_;
  uint64_t lost_records_ = 0;       // records a failing disk refused
  int64_t last_loss_report_ = 0;    // monotonic time of the last error logged

  std::mutex mu_;
  std::condition_variable drained_cv_;
  uint64_t drain_requests_ = 0;  // guarded by mu_
  uint64_t drains_done_ = 0;     // guarded by mu_
  bool shutdown_ = false;        // guarded by mu_
  bool finished_ = false;        // guarded by mu_
};

}  // namespace logguard
