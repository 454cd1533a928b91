// Compressor: the one background thread that compresses rotated log files for
// the whole plugin, at idle I/O priority and nice 19, so compression never
// competes with the containers' writes for the disk; and, given a CpuMeter,
// only while the node has idle CPU (compression_yield.h: nice alone does not
// keep a plugin's thread from the engine's CPU time).
//
// The owner of a file (LogFile) stays in charge of its names and opens its
// files (through its rooted FileSystem, so nothing planted in a log
// directory is read or written through): a job opens the source while the
// owner keeps it from being renamed, and the owner decides at the end where
// the result goes. That way rotation never waits for a compression, and a
// file renamed (.1 -> .2) or deleted while it is compressed is still handled
// correctly.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "logguard/base/clock.h"
#include "logguard/format/compression.h"
#include "logguard/base/file_system.h"
#include "logguard/storage/compression_yield.h"
#include "logguard/storage/write_charge.h"
#include "logguard/base/unique_fd.h"

namespace logguard {

struct CompressionJob {
  // Where the worker writes the compressed bytes (then fsyncs them). A name
  // that readers and recovery know as a temporary.
  std::string temp_path;
  Codec codec = Codec::kGzip;
  // Time of the file's last record for the header; <= 0 if unknown.
  int64_t last_time_nanos = 0;
  // Opens the source while the owner holds the lock that keeps it from being
  // renamed, so what gets opened is this job's file. Null if the file is
  // gone or no longer needs compressing.
  std::function<std::unique_ptr<ReadableFile>()> open_source;
  // Creates temp_path, which must not exist, never through a link.
  std::function<std::unique_ptr<WritableFile>()> create_temp;
  // Called exactly once for every accepted job, on the worker: written=true
  // after temp_path was completely written and synced, false if the job failed
  // or was dropped at stop(). The owner renames the temp into place or removes it.
  std::function<void(bool written)> finish;
  // If set, called on the worker after a job's temp was written: the source's
  // size and the compressed size (for metrics).
  std::function<void(uint64_t in_bytes, uint64_t out_bytes)> compressed;
};

// What LogFile submits to; tests substitute a queue they drive by hand.
class CompressionQueue {
 public:
  virtual ~CompressionQueue() = default;
  // Never blocks. False if the job was refused (queue full or stopped); then
  // finish is not called and the file simply stays uncompressed.
  virtual bool submit(CompressionJob job) = 0;
};

class Compressor : public CompressionQueue {
 public:
  // Starts the worker thread. At most `capacity` jobs wait behind the
  // running one. clock dates jobs and paces their writes.
  explicit Compressor(Clock& clock, size_t capacity = 256);
  ~Compressor() override;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  bool submit(CompressionJob job) override;
  // Lets the running job finish, finishes waiting jobs with written=false,
  // joins the worker. Later submits are refused. Idempotent.
  void stop();
  // Jobs waiting (not counting the one running), for metrics.
  size_t queued() const;
  // How long the oldest waiting job has waited (0 if none), for metrics.
  int64_t oldest_wait_nanos() const;
  // What the worker writes counts against this share of the node's write
  // budget: after a job it waits until the share is out of debt. Set before
  // the first submit.
  void charge_to(std::shared_ptr<WriteCharge> share) { share_ = std::move(share); }
  // Before a job and between its pieces, once a stint is over, the worker
  // looks at the node's CPUs and waits while `yield` says they are busy.
  // Set before the first submit; the meter must outlive the compressor.
  void yield_to(CpuMeter& meter, CompressionYieldConfig yield = {});
  // Whether the worker is waiting for idle CPU now, for metrics.
  bool yielding() const { return yielding_.load(std::memory_order_relaxed); }

 private:
  void run();
  void execute(CompressionJob& job);
  void pay_for(size_t bytes);
  void wait_for_idle_cpu();

  Clock& clock_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<CompressionJob> jobs_;
  std::deque<int64_t> submitted_;  // monotonic submit time of each of jobs_
  bool stopping_ = false;
  std::shared_ptr<WriteCharge> share_;
  CpuMeter* meter_ = nullptr;
  CompressionYield yield_;
  int64_t running_submitted_ = 0;  // monotonic submit time of the running job
  std::atomic<bool> yielding_{false};
  std::thread worker_;
};

}  // namespace logguard
