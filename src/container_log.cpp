#include "logguard/container_log.h"

#include <spdlog/spdlog.h>

namespace logguard {

ContainerLog::ContainerLog(FileSystem& fs, std::shared_ptr<LogDirectory> dir,
                           RotationOptions rotation, CompressionQueue* compressor)
    : dir_(dir->dir()),
      watch_(LogWatch::create()),
      fs_(fs),
      directory_(dir),
      file_(fs, std::move(dir), rotation, compressor, watch_) {}

ContainerLog::~ContainerLog() {
  try {
    std::lock_guard lock(mu_);
    file_.close();
  } catch (const std::exception& e) {
    spdlog::error("closing the log in {} failed, buffered records are lost: {}", dir_, e.what());
  }
  watch_->close();
}

void ContainerLog::open() {
  std::lock_guard lock(mu_);
  open_locked();
}

std::vector<Record> ContainerLog::tail(size_t max_bytes, const DecompressFn& decompress) {
  std::lock_guard lock(mu_);
  file_.flush();
  return read_log_tail(fs_, *directory_, max_bytes, decompress);
}

// Someone deleted the log directory under a running container: notice it
// within a second and start the file again, rather than writing into a
// file nobody can see.
void ContainerLog::check_in_place_locked() {
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1)) return;
  checked_ = now;
  file_.ensure_in_place();
}

void ContainerLog::open_locked() {
  if (opened_) return;  // a second session of a live container
  file_.open();
  opened_ = true;
}

}  // namespace logguard
