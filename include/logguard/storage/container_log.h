// ContainerLog: one container's log files and the watch that wakes their
// followers. Shared by every logging session of the container (the engine
// opens a second session for `docker logs` of a stopped container, and a
// restarting container may briefly have two), so writes are serialized here
// and the files have exactly one owner in the process. It also holds the
// container's metrics (metrics.h): what reaches its files is counted here.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/storage/log_file.h"
#include "logguard/storage/log_tail.h"
#include "logguard/base/log_watch.h"

namespace logguard {

class ContainerLog {
 public:
  // metrics may be null (nothing counted).
  ContainerLog(FileSystem& fs, std::shared_ptr<LogDirectory> dir, RotationOptions rotation,
               CompressionQueue* compressor, std::shared_ptr<ContainerMetrics> metrics = nullptr);
  // Closes the files and tells followers that no more data will come.
  ~ContainerLog();

  const std::string& dir() const { return dir_; }
  const std::shared_ptr<LogWatch>& watch() const { return watch_; }
  // Null if nothing is counted.
  ContainerMetrics* metrics() const { return metrics_.get(); }

  // Opens the files (recovering after a crash) unless already open.
  // Throws on I/O errors.
  void open();
  // The newest records (log_tail.h), for a session reattaching after a
  // restart. Call after open().
  std::vector<Record> tail(size_t max_bytes);
  // Appends whole encoded records, then makes them visible to readers.
  // Throws on I/O errors; records not yet written stay buffered in LogFile
  // (up to a bound).
  template <typename Fn>
  void write(Fn&& append_records) {
    std::lock_guard lock(mu_);
    // One clock read serves the metrics and the check: writes come once per
    // batch of records, as often as once per record.
    const auto now = std::chrono::steady_clock::now();
    WriteCount count(*this, now);
    open_locked();  // retried here if opening failed before (a disk that came back)
    check_in_place_locked(now);
    append_records(file_);
    file_.flush();
  }

 private:
  // Counts what one write() put in the files and how long it took, however
  // it ends.
  class WriteCount {
   public:
    WriteCount(ContainerLog& log, std::chrono::steady_clock::time_point started);
    ~WriteCount();

   private:
    ContainerLog& log_;
    uint64_t bytes_before_ = 0;
    std::chrono::steady_clock::time_point started_;
  };

  void open_locked();
  void check_in_place_locked(std::chrono::steady_clock::time_point now);

  std::string dir_;
  std::shared_ptr<LogWatch> watch_;
  std::mutex mu_;
  bool opened_ = false;  // guarded by mu_
  std::chrono::steady_clock::time_point checked_{};  // guarded by mu_
  FileSystem& fs_;
  std::shared_ptr<LogDirectory> directory_;
  std::shared_ptr<ContainerMetrics> metrics_;
  LogFile file_;
};

}  // namespace logguard
