#include "logguard/storage/container_log.h"

#include <spdlog/spdlog.h>

namespace logguard {

ContainerLog::ContainerLog(FileSystem& fs, std::shared_ptr<LogDirectory> dir,
                           RotationOptions rotation, CompressionQueue* compressor,
                           std::shared_ptr<ContainerMetrics> metrics)
    : dir_(dir->dir()),
      watch_(LogWatch::create()),
      fs_(fs),
      directory_(dir),
      metrics_(std::move(metrics)),
      file_(fs, std::move(dir), rotation, compressor, watch_) {
  directory_->hold();  // before the files open: a reattached log is live at once
  file_.count_into(metrics_);
}

ContainerLog::WriteCount::WriteCount(ContainerLog& log,
                                     std::chrono::steady_clock::time_point started)
    : log_(log), started_(started) {
  if (log_.metrics_) bytes_before_ = log_.file_.bytes_written();
}

ContainerLog::WriteCount::~WriteCount() {
  if (!log_.metrics_) return;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_;
  log_.metrics_->write_duration.Observe(took.count());
  const uint64_t written = log_.file_.bytes_written() - bytes_before_;
  if (written > 0) log_.metrics_->written_bytes.Increment(static_cast<double>(written));
}

ContainerLog::~ContainerLog() {
  try {
    std::lock_guard lock(mu_);
    file_.close();
  } catch (const std::exception& e) {
    spdlog::error("closing the log in {} failed, buffered records are lost: {}", dir_, e.what());
  }
  directory_->release();
  watch_->close();
}

void ContainerLog::open() {
  std::lock_guard lock(mu_);
  open_locked();
}

std::vector<Record> ContainerLog::tail(size_t max_bytes) {
  std::lock_guard lock(mu_);
  file_.flush();
  return read_log_tail(fs_, *directory_, max_bytes);
}

// Someone deleted the log directory under a running container: notice it
// within 5 s and start the file again, rather than writing into a file
// nobody can see. Not every turn: with hundreds of quiet containers the
// fstat was a twentieth of their sessions' CPU when it ran every second.
void ContainerLog::check_in_place_locked(std::chrono::steady_clock::time_point now) {
  if (now - checked_ < std::chrono::seconds(5)) return;
  checked_ = now;
  file_.ensure_in_place();
}

void ContainerLog::open_locked() {
  if (opened_) return;  // a second session of a live container
  file_.open();
  opened_ = true;
}

}  // namespace logguard
