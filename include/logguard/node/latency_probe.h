// LatencyProbe: what other processes feel on the log filesystem, measured
// the way they feel it: every period, append 4 KiB to a probe file in the
// log root and fdatasync it (as kubelet and etcd do), on a thread of its own
// so a stalled disk stalls only the probe. The node guard reads the
// latencies, and how long a probe has been stuck if it has not returned.
//
// A latency is the disk's part only: the time the probe thread waited for a
// CPU meanwhile (its run-queue wait, /proc/thread-self/schedstat) is taken
// out. On a machine short of CPU that wait can be hundreds of milliseconds,
// and writing fewer logs would not shorten it: the budget must not be cut
// for it.
//
// The probe file is opened through a FileSystem, so whatever is planted
// under its name (a hard link to a file elsewhere, a FIFO, a symbolic link)
// is never written through or waited on: the name is removed (what it
// pointed at stays untouched) and the file made anew.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "logguard/base/clock.h"
#include "logguard/base/file_system.h"

namespace logguard {

class LatencyProbe {
 public:
  static constexpr int64_t kPeriodNanos = 200'000'000;

  // fs: the log root's (rooted) file system, which path is in.
  LatencyProbe(std::string path, Clock& clock, FileSystem& fs);
  ~LatencyProbe();
  void start();
  void stop();

  struct Reading {
    std::vector<int64_t> latencies;  // completed since the last take()
    int64_t in_flight_nanos = 0;     // age of the probe under way, 0 if none
  };
  Reading take();

 private:
  void run();
  int64_t probe_once();
  bool open_file();
  void close_file();

  std::string path_;
  Clock& clock_;
  FileSystem& fs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;               // guarded by mu_
  std::vector<int64_t> completed_;      // guarded by mu_
  std::atomic<int64_t> started_{0};     // monotonic start of the probe under way, 0 if none
  std::thread thread_;
  std::unique_ptr<WritableFile> file_;  // the probe thread's
  uint64_t written_ = 0;
  bool failing_ = false;  // the last open failed (reported once)
};

}  // namespace logguard
