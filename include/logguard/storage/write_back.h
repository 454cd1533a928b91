// WriteBack: hands what logguard wrote to the log filesystem over to the
// disk, at the node's pace (issue: bursts absorbed, floods cut).
//
// Writers append to the page cache at once and tell their file's handle
// (wrote()); one thread hands the dirty bytes to the disk a chunk at a time,
// waiting for each to be written (sync_file_range WRITE + WAIT_AFTER), at
// most `rate` bytes a second. So at most one chunk of ours is ever queued at
// the device, and another process's fsync waits behind that chunk, not
// behind seconds of logs; and a burst reaches the disk no faster than the
// budget, however fast it was written.
//
// Why paced, measured on a 20 MB/s disk with a probe doing 4 KiB + fsync
// every 100 ms: 14 MB handed to the disk as it was written gave the probe a
// p99 of 167 ms; the same 14 MB written to the page cache at once and
// handed over at 15 MB/s, 0.7 ms. Left to the kernel, it flushed them 30 s
// later, all at once (384 ms). A burst costs the disk's other users nothing
// if its write-back is paced; what hurts is a deep device queue.
//
// backlog(): bytes written and not yet handed over. The node budget admits
// records while it is below the node's allowance (node_budget.h).
// service_rate(): how fast the disk took our chunks lately, which bounds
// what the node can sustain whatever the budget says. A measurement older
// than kMeasureLifetimeNanos is forgotten: taken while something else held
// the disk, it would bound the budget long after the disk is free again.
//
// Which file first: files whose dirty bytes reach kDueBytes, closed files
// (rotated away; a deleted one is dropped, its pages are never written) and
// files dirty for kDueNanos, oldest first, a chunk each in turn. Smaller,
// younger tails are left to wait: hundreds of quiet containers would
// otherwise each cost a call several times a second. When the thread wakes
// for a tail that came due, it also takes those due within kDueSlackNanos,
// so quiet files cost it at most one wake-up a second however many there
// are (each file waking it at its own time was 20 wake-ups a second for 100
// quiet containers, and a writer's first bytes no longer wake it at all).
//
// Threads: wrote(), synced() and close() come from writer threads; the
// pacing thread (start()/stop()) or a test (step()) hands chunks over.
// Handles keep their file descriptor open until their bytes are handed over.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "logguard/base/clock.h"
#include "logguard/base/token_bucket.h"
#include "logguard/base/unique_fd.h"

namespace logguard {

class WriteBack {
 public:
  static constexpr uint64_t kChunkBytes = 256 * 1024;
  static constexpr uint64_t kDueBytes = 16 * 1024;
  // A quiet file's bytes wait this long at most: well before the kernel's
  // own write-back of dirty pages (30 s) would write them all at once.
  static constexpr int64_t kDueNanos = 10'000'000'000;
  static constexpr int64_t kDueSlackNanos = 1'000'000'000;
  static constexpr int64_t kHandOverNanos = 30'000'000'000;

  // Hands [offset, offset + length) of fd to the disk and returns once it is
  // written. The real one is sync_file_range; failures only lose pacing.
  using Flush = std::function<void(int fd, uint64_t offset, uint64_t length)>;
  // Whether the file still has a name (fstat's link count in the real one).
  using Linked = std::function<bool(int fd)>;

  explicit WriteBack(Clock& clock, Flush flush = {}, Linked linked = {});
  ~WriteBack();  // stops
  WriteBack(const WriteBack&) = delete;
  WriteBack& operator=(const WriteBack&) = delete;

  // Starts the pacing thread. stop() ends it; on a disk that does not
  // answer it is left behind after a second rather than holding shutdown.
  // After stop(), writes are counted but no longer handed over: the kernel
  // writes them back as it would without us.
  void start();
  void stop();

  class File;
  // Follows a file open for writing whose end is at `position`.
  std::shared_ptr<File> track(std::shared_ptr<const UniqueFd> fd, uint64_t position);

  // Bytes written and not yet handed to the disk.
  uint64_t backlog() const;
  const std::atomic<uint64_t>& backlog_counter() const;
  // Bytes per second handed over at most; <= 0: as fast as the disk takes them.
  void set_rate(double bytes_per_second);
  // Bytes per second the disk took our chunks at lately; 0 until measured
  // and once the last measurement is older than kMeasureLifetimeNanos.
  double service_rate() const;
  static constexpr int64_t kMeasureLifetimeNanos = 10'000'000'000;

  // One step of the pacing thread: hands one chunk over if one is due and
  // the pace allows. Returns 0 if it did, else nanoseconds until it is worth
  // looking again (INT64_MAX: nothing is dirty).
  int64_t step();

 private:
  struct Core;
  std::shared_ptr<Core> core_;  // shared with the thread and the files' handles
  std::thread thread_;
  std::future<void> exited_;
};

// One file's bytes not yet handed over.
class WriteBack::File : public std::enable_shared_from_this<File> {
 public:
  // The writer appended `bytes` at the end.
  void wrote(uint64_t bytes);
  // Waits (at most kHandOverNanos) until what was written so far is handed
  // to the disk, at the write-back's pace, ahead of other files; at once if
  // the write-back does not run. For a writer about to fdatasync: the sync
  // then finds little left to write.
  void hand_over();
  // The writer's own fdatasync put everything written on disk.
  void synced();
  // No more writes; what is dirty is still handed over, then the descriptor
  // is let go.
  void close();

 private:
  friend class WriteBack;
  File(std::shared_ptr<Core> core, std::shared_ptr<const UniqueFd> fd, uint64_t position);

  const std::shared_ptr<Core> core_;
  const std::shared_ptr<const UniqueFd> fd_;
  // Guarded by the core's mutex (taken once per append: appends come a
  // batch of records at a time):
  uint64_t written_;           // end of the file as the writer wrote it
  uint64_t handed_;            // bytes before this are handed over
  bool queued_ = false;        // in the core's queue
  int64_t dirty_since_ = 0;    // when it was last queued
  bool closed_ = false;
  bool urgent_ = false;        // a writer waits in hand_over()
};

// The real Flush and Linked.
void hand_to_disk(int fd, uint64_t offset, uint64_t length);
bool still_linked(int fd);

}  // namespace logguard
