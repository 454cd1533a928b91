#include "logguard/node/latency_probe.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

namespace logguard {
namespace {

constexpr size_t kProbeBytes = 4096;
// The probe file starts over past this size.
constexpr uint64_t kMaxProbeFile = 1 << 20;

// Nanoseconds this thread has waited on a run queue so far (the second field
// of /proc/thread-self/schedstat); 0 if the kernel does not say.
int64_t run_queue_wait_nanos() {
  int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long on_cpu = 0, waiting = 0;
  if (std::sscanf(buf, "%llu %llu", &on_cpu, &waiting) != 2) return 0;
  return static_cast<int64_t>(waiting);
}

}  // namespace

LatencyProbe::LatencyProbe(std::string path, Clock& clock, FileSystem& fs)
    : path_(std::move(path)), clock_(clock), fs_(fs) {}

LatencyProbe::~LatencyProbe() { stop(); }

void LatencyProbe::start() { thread_ = std::thread([this] { run(); }); }

void LatencyProbe::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_) {
    close_file();
    try {
      fs_.remove(path_);
    } catch (const std::exception& e) {
      spdlog::warn("disk probe {}: {}", path_, e.what());
    }
  }
}

LatencyProbe::Reading LatencyProbe::take() {
  Reading r;
  const int64_t started = started_.load();
  if (started != 0) r.in_flight_nanos = clock_.monotonic_nanos() - started;
  std::lock_guard lock(mu_);
  r.latencies.swap(completed_);
  return r;
}

void LatencyProbe::run() {
  pthread_setname_np(pthread_self(), "disk-probe");
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::nanoseconds(kPeriodNanos), [&] { return stopping_; });
      if (stopping_) return;
    }
    const int64_t latency = probe_once();
    if (latency < 0) continue;
    std::lock_guard lock(mu_);
    completed_.push_back(latency);
  }
}

// One append + fdatasync; -1 if the probe file cannot be used.
int64_t LatencyProbe::probe_once() {
  static const std::string block(kProbeBytes, 'p');
  if ((!file_ || written_ >= kMaxProbeFile) && !open_file()) return -1;
  const int64_t waited_before = run_queue_wait_nanos();
  const int64_t start = clock_.monotonic_nanos();
  started_ = start;
  std::string error;
  try {
    file_->append(block);
    file_->sync();
  } catch (const std::exception& e) {
    error = e.what();
  }
  const int64_t wall = clock_.monotonic_nanos() - start;
  const int64_t latency = std::max<int64_t>(0, wall - (run_queue_wait_nanos() - waited_before));
  started_ = 0;
  written_ += block.size();
  if (!error.empty()) {
    spdlog::warn("disk probe {}: {}", path_, error);
    close_file();
  }
  return latency;
}

// Opens the probe file afresh (empty). What the file system refuses under
// its name (file_system.h: a link, a FIFO, a file with another name) is
// replaced: its name removed, never what it points at, and the file made
// anew. A failure is logged once until the file opens again.
bool LatencyProbe::open_file() {
  close_file();
  written_ = 0;
  try {
    try {
      file_ = fs_.open_truncate(path_);
    } catch (const std::system_error& e) {
      if (!failing_) spdlog::warn("disk probe: {}; making the file anew", e.what());
      fs_.remove(path_);
      file_ = fs_.open_truncate(path_);
    }
    failing_ = false;
    return true;
  } catch (const std::exception& e) {
    if (!failing_) {
      spdlog::error("disk probe {}: {}; the node write budget cannot adapt", path_, e.what());
    }
    failing_ = true;
    return false;
  }
}

void LatencyProbe::close_file() {
  if (!file_) return;
  std::unique_ptr<WritableFile> file = std::move(file_);
  try {
    file->close();
  } catch (const std::exception& e) {
    spdlog::warn("disk probe {}: {}", path_, e.what());
  }
}

}  // namespace logguard
