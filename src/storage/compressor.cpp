#include "logguard/storage/compressor.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "logguard/base/clock.h"

#include <spdlog/spdlog.h>

namespace logguard {
namespace {

// From linux/ioprio.h, which glibc does not wrap.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

// Applies to the calling thread only: Linux keeps I/O priority and nice value
// per thread, so the plugin's writers keep their normal priority.
void lower_this_thread_priority() {
  pthread_setname_np(pthread_self(), "compressor");
  if (syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, kIoprioClassIdle << kIoprioClassShift) != 0) {
    spdlog::warn("compressor: cannot set idle I/O priority: {}", std::strerror(errno));
  }
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19) != 0) {
    spdlog::warn("compressor: cannot set nice 19: {}", std::strerror(errno));
  }
}

void finish(CompressionJob& job, bool written) {
  try {
    job.finish(written);
  } catch (const std::exception& e) {
    spdlog::error("compressor: putting {} in place failed: {}", job.temp_path, e.what());
  } catch (...) {
    spdlog::error("compressor: putting {} in place failed", job.temp_path);
  }
}

}  // namespace

Compressor::Compressor(Clock& clock, size_t capacity)
    : clock_(clock), capacity_(capacity), worker_([this] { run(); }) {}

Compressor::~Compressor() { stop(); }

bool Compressor::submit(CompressionJob job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
    submitted_.push_back(clock_.monotonic_nanos());
  }
  wake_.notify_one();
  return true;
}

void Compressor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

size_t Compressor::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

int64_t Compressor::oldest_wait_nanos() const {
  std::lock_guard lock(mu_);
  if (submitted_.empty()) return 0;
  return std::max<int64_t>(0, clock_.monotonic_nanos() - submitted_.front());
}

void Compressor::run() {
  lower_this_thread_priority();
  for (;;) {
    CompressionJob job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) break;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      running_submitted_ = submitted_.front();
      submitted_.pop_front();
    }
    execute(job);
  }
  std::deque<CompressionJob> abandoned;
  {
    std::lock_guard lock(mu_);
    abandoned.swap(jobs_);
    submitted_.clear();
  }
  for (auto& job : abandoned) finish(job, false);
}

// Opens the source through its owner, compresses it into the temp (written
// and synced), and lets the owner put the result in place (or remove what a
// failure left). Nothing a job does can end the worker.
void Compressor::execute(CompressionJob& job) {
  bool written = false;
  try {
    wait_for_idle_cpu();
    if (std::unique_ptr<ReadableFile> source = job.open_source()) {
      uint64_t out_bytes = 0;
      compress_file(*source, *job.create_temp(), job.codec, job.last_time_nanos,
                    [&](size_t n) {
                      out_bytes += n;
                      pay_for(n);
                      wait_for_idle_cpu();
                    });
      written = true;
      if (job.compressed) job.compressed(source->size(), out_bytes);
    }
  } catch (const std::exception& e) {
    spdlog::warn("compressor: {} not compressed, the file stays plain: {}", job.temp_path, e.what());
  } catch (...) {
    spdlog::warn("compressor: {} not compressed, the file stays plain", job.temp_path);
  }
  finish(job, written);
}

void Compressor::yield_to(CpuMeter& meter, CompressionYieldConfig yield) {
  meter_ = &meter;
  yield_ = CompressionYield(yield);
}

// Between stints, looks (a pause with nothing compressed, the node's idle
// CPU measured) until one finds a CPU idle or the job has waited long enough
// (compression_yield.h); stop() cuts the wait short. The source stays open
// meanwhile, so its owner may rotate and rename it.
void Compressor::wait_for_idle_cpu() {
  if (!meter_) return;
  auto age = [&] { return clock_.monotonic_nanos() - running_submitted_; };
  if (yield_.may_go_on(clock_.monotonic_nanos(), age())) return;
  const auto look = std::chrono::nanoseconds(yield_.config().look_nanos);
  // Back-to-back looks: each one's closing sample opens the next.
  std::optional<CpuSample> before = meter_->sample();
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, look, [this] { return stopping_; })) {
    lock.unlock();
    std::optional<CpuSample> after = meter_->sample();
    const bool go = yield_.look(before, after, clock_.monotonic_nanos(), age());
    lock.lock();
    yielding_.store(!go, std::memory_order_relaxed);
    if (go) return;
    before = std::move(after);
  }
  yielding_.store(false, std::memory_order_relaxed);
}

// Charges compressed bytes to the node's write budget as they are written
// and waits until they are paid for, so compression is paced rather than
// landing on the disk in one burst (stop() cuts the wait short).
void Compressor::pay_for(size_t bytes) {
  if (!share_) return;
  share_->charge(clock_.monotonic_nanos(), bytes);
  std::unique_lock lock(mu_);
  for (;;) {
    const int64_t wait = share_->nanos_until_clear(clock_.monotonic_nanos());
    if (wait <= 0 || stopping_) return;
    wake_.wait_for(lock, std::chrono::nanoseconds(std::min<int64_t>(wait, 100'000'000)));
  }
}

}  // namespace logguard
