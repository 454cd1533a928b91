#include "logguard/latency_probe.h"

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

LatencyProbe::LatencyProbe(std::string path, Clock& clock) : path_(std::move(path)), clock_(clock) {}

LatencyProbe::~LatencyProbe() { stop(); }

void LatencyProbe::start() { thread_ = std::thread([this] { run(); }); }

void LatencyProbe::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
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

// One append + fdatasync; -1 if the probe file cannot be used (logged once).
int64_t LatencyProbe::probe_once() {
  static const std::string block(kProbeBytes, 'p');
  if (fd_ < 0 || written_ >= kMaxProbeFile) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                 0600);
    written_ = 0;
    if (fd_ < 0) {
      spdlog::error("disk probe {}: {}; the node write budget cannot adapt", path_,
                    std::strerror(errno));
      return -1;
    }
  }
  const int64_t waited_before = run_queue_wait_nanos();
  const int64_t start = clock_.monotonic_nanos();
  started_ = start;
  bool ok = ::write(fd_, block.data(), block.size()) == static_cast<ssize_t>(block.size()) &&
            ::fdatasync(fd_) == 0;
  const int64_t wall = clock_.monotonic_nanos() - start;
  const int64_t latency = std::max<int64_t>(0, wall - (run_queue_wait_nanos() - waited_before));
  started_ = 0;
  written_ += block.size();
  if (!ok) {
    spdlog::warn("disk probe {}: {}", path_, std::strerror(errno));
    ::close(fd_);
    fd_ = -1;
  }
  return latency;
}

}  // namespace logguard
