// Session: one logging stream (a StartLogging, or one reattached after a
// plugin restart) on a thread of its own with blocking waits, so a stalled
// disk stalls only this container. The work itself is the StreamPump's; the
// session waits for data, for tokens (block mode), for notices coming due,
// and for drain() and shutdown() requests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "logguard/base/clock.h"
#include "logguard/storage/container_log.h"
#include "logguard/ingest/limiter.h"
#include "logguard/ingest/log_stream.h"
#include "logguard/ingest/node_gate.h"
#include "logguard/ingest/read_pacer.h"
#include "logguard/storage/session_store.h"
#include "logguard/ingest/stream_pump.h"
#include "logguard/base/unique_fd.h"

namespace logguard {

class FifoPipes;

class Session {
 public:
  struct Config {
    std::string fifo_path;
    LimitOptions limits;
    Attrs attrs;
    bool reattached = false;  // found by a restarted plugin: skip what is already written
  };
  // node and progress may be null; pipes (what FIFO streams share) must
  // outlive the session.
  Session(Config config, std::shared_ptr<ContainerLog> log, std::unique_ptr<NodeGate> node,
          std::unique_ptr<ProgressLog> progress, Clock& clock, FifoPipes& pipes);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& fifo_path() const { return config_.fifo_path; }
  bool reattached() const { return config_.reattached; }
  // What the session received, wrote and dropped; read it on run()'s thread
  // (during or after run()).
  Limiter::Totals totals() const { return limiter_.totals(); }
  const std::shared_ptr<ContainerLog>& log() const { return log_; }

  // Opens the FIFO without blocking (the engine already holds its writer).
  // Throws std::system_error (missing, or not a FIFO).
  void open_fifo();
  // Reads until the engine closes the FIFO (EOF) or shutdown(); then writes
  // the last notices (EOF) or saves its progress (shutdown), and releases the
  // log. Returns true if the stream ended (EOF): the session is over for good.
  bool run();
  // Waits until everything in the FIFO when called has been read and
  // written, or the timeout passes (block mode may hold data back). For
  // StopLogging: the engine closes its end after the reply, and `docker run`
  // returns only after that, so the logs are on disk when it does.
  bool drain(std::chrono::milliseconds timeout);
  // Ends run() soon: what was decided is written, what was not stays in the
  // FIFO for the next process.
  void shutdown();

 private:
  int64_t pace(int64_t start, size_t bytes);
  bool wait_for_work(int64_t gather, int64_t wait_until, int64_t release_at);
  int timeout_ms(int64_t wait_until, int64_t release_at) const;
  std::vector<Record> readable_tail();
  void count_blocked(int64_t& held_since, int64_t now, bool waiting);
  void wake();

  Config config_;
  std::shared_ptr<ContainerLog> log_;
  std::unique_ptr<NodeGate> node_;
  std::unique_ptr<ProgressLog> progress_;
  Clock& clock_;
  FifoPipes& pipes_;
  Limiter limiter_;
  ReadPacer pacer_;
  unsigned long timer_slack_ = 0;  // this thread's, as pace() last set it; 0: never set
  std::unique_ptr<LogStream> stream_;
  std::unique_ptr<StreamPump> pump_;
  UniqueFd wake_fd_;  // eventfd: drain() and shutdown() interrupt waits

  std::mutex mu_;
  std::condition_variable drained_cv_;
  uint64_t drain_requests_ = 0;  // guarded by mu_
  uint64_t drains_done_ = 0;     // guarded by mu_
  bool shutdown_ = false;        // guarded by mu_
  bool finished_ = false;        // guarded by mu_
};

}  // namespace logguard
