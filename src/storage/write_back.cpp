#include "logguard/storage/write_back.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace logguard {
namespace {

// Chunks smaller than this say more about the call than about the disk.
constexpr uint64_t kMeasuredChunkBytes = 64 * 1024;
// The disk's rate is taken over this much time spent handing chunks over.
constexpr int64_t kMeasureNanos = 200'000'000;
// The pace's bucket holds this much of its rate (at least a chunk).
constexpr double kPaceBurstSeconds = 0.05;
constexpr int64_t kMaxSleepNanos = 1'000'000'000;
constexpr int64_t kSweepNanos = 50'000'000;
constexpr auto kStopWait = std::chrono::seconds(1);

}  // namespace

struct WriteBack::Core {
  Core(Clock& c, Flush f, Linked l) : clock(c), flush(std::move(f)), linked(std::move(l)) {}

  int64_t step();
  // Puts a file back in line if it still has bytes to hand over. mu held.
  void settle(const std::shared_ptr<File>& file);
  void measure(uint64_t bytes, int64_t nanos);
  void let_go_of_queue();
  void kick() {  // mu held
    kicked = true;
    cv.notify_one();
  }

  Clock& clock;
  const Flush flush;
  const Linked linked;
  std::atomic<uint64_t> backlog{0};
  std::atomic<double> service_rate{0};
  std::atomic<int64_t> measured_at{0};       // when service_rate was last measured
  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable handed;            // a chunk was handed over, or the thread stopped
  bool running = false;                      // guarded by mu: the thread hands chunks over
  bool kicked = false;                       // guarded by mu
  bool stopping = false;                     // guarded by mu
  std::deque<std::shared_ptr<File>> queue;   // guarded by mu: files with bytes not handed over
  std::optional<TokenBucket> pace;           // guarded by mu; empty: unpaced
  uint64_t measured_bytes = 0;               // pacing thread only
  int64_t measured_nanos = 0;
};

WriteBack::File::File(std::shared_ptr<Core> core, std::shared_ptr<const UniqueFd> fd,
                      uint64_t position)
    : core_(std::move(core)), fd_(std::move(fd)), written_(position), handed_(position) {}

void WriteBack::File::wrote(uint64_t bytes) {
  if (bytes == 0) return;
  std::lock_guard lock(core_->mu);
  const uint64_t before = written_;
  written_ += bytes;
  core_->backlog.fetch_add(bytes, std::memory_order_relaxed);
  if (core_->stopping) return;  // no one hands it over; the kernel writes it back
  if (!queued_) {
    queued_ = true;
    dirty_since_ = core_->clock.monotonic_nanos();
    core_->queue.push_back(shared_from_this());
  }
  // A small tail is not due for kDueNanos: the thread, which looks at least
  // every kMaxSleepNanos, finds it in time without a wake-up.
  if (before - handed_ < kDueBytes && written_ - handed_ >= kDueBytes) core_->kick();
}

void WriteBack::File::hand_over() {
  std::unique_lock lock(core_->mu);
  const uint64_t target = written_;
  if (handed_ >= target || !core_->running) return;
  urgent_ = true;
  core_->kick();
  core_->handed.wait_for(lock, std::chrono::nanoseconds(kHandOverNanos),
                         [&] { return handed_ >= target || !core_->running; });
  urgent_ = false;
}

void WriteBack::File::synced() {
  std::lock_guard lock(core_->mu);
  if (written_ <= handed_) return;
  core_->backlog.fetch_sub(written_ - handed_, std::memory_order_relaxed);
  handed_ = written_;
}

void WriteBack::File::close() {
  std::lock_guard lock(core_->mu);
  closed_ = true;
  if (queued_) core_->kick();
}

void WriteBack::Core::settle(const std::shared_ptr<File>& file) {
  if (file->handed_ < file->written_) {
    queue.push_back(file);
  } else {
    file->queued_ = false;  // clean; its next write puts it in line again
  }
}

void WriteBack::Core::measure(uint64_t bytes, int64_t nanos) {
  if (bytes < kMeasuredChunkBytes) return;
  measured_bytes += bytes;
  measured_nanos += nanos;
  if (measured_nanos < kMeasureNanos) return;
  const double rate = static_cast<double>(measured_bytes) * 1e9 / static_cast<double>(measured_nanos);
  const double before = service_rate.load(std::memory_order_relaxed);
  const bool fresh = before > 0 && clock.monotonic_nanos() - measured_at.load() <=
                                       WriteBack::kMeasureLifetimeNanos;
  service_rate.store(fresh ? (before + rate) / 2 : rate, std::memory_order_relaxed);
  measured_at.store(clock.monotonic_nanos());
  measured_bytes = 0;
  measured_nanos = 0;
}

int64_t WriteBack::Core::step() {
  std::shared_ptr<File> file;
  uint64_t offset = 0, length = 0;
  {
    std::lock_guard lock(mu);
    const int64_t now = clock.monotonic_nanos();
    int64_t wait = INT64_MAX;
    for (auto it = queue.begin(); it != queue.end();) {
      File& f = **it;
      if (f.closed_ && !linked(f.fd_->get())) {
        // Rotated away and deleted (compressed, evicted) before its turn: its
        // pages are never written, and its space returns once we let go.
        backlog.fetch_sub(f.written_ - f.handed_, std::memory_order_relaxed);
        f.handed_ = f.written_;
        f.queued_ = false;
        it = queue.erase(it);
        continue;
      }
      const int64_t due_at = f.dirty_since_ + kDueNanos;
      const bool due = f.closed_ || f.urgent_ || f.written_ - f.handed_ >= kDueBytes;
      if (!file && (due || now + kDueSlackNanos >= due_at)) {
        file = *it;
        it = queue.erase(it);
        continue;
      }
      wait = std::min(wait, due_at - now);
      ++it;
    }
    if (!file) return wait;
    if (pace && !pace->has_tokens(now)) {
      queue.push_front(file);
      // Looks again within kSweepNanos: a deleted file's space is not free
      // while we hold it.
      return std::clamp<int64_t>(pace->nanos_until_positive(now), 1, kSweepNanos);
    }
    offset = file->handed_;
    length = std::min(file->written_ - offset, kChunkBytes);
  }
  const bool still_there = length == 0 || linked(file->fd_->get());
  if (length > 0 && still_there) {
    const int64_t started = clock.monotonic_nanos();
    flush(file->fd_->get(), offset, length);
    measure(length, clock.monotonic_nanos() - started);
  }
  std::lock_guard lock(mu);
  // A deleted file's pages are never written: all of it is off the books.
  const uint64_t end = still_there ? offset + length : file->written_;
  if (end > file->handed_) {
    backlog.fetch_sub(end - file->handed_, std::memory_order_relaxed);
    file->handed_ = end;
  }
  if (pace && still_there) pace->charge(length);
  settle(file);
  handed.notify_all();
  return 0;
}

WriteBack::WriteBack(Clock& clock, Flush flush, Linked linked)
    : core_(std::make_shared<Core>(clock, flush ? std::move(flush) : Flush(hand_to_disk),
                                   linked ? std::move(linked) : Linked(still_linked))) {}

WriteBack::~WriteBack() { stop(); }

void WriteBack::start() {
  {
    std::lock_guard lock(core_->mu);
    core_->running = true;
  }
  std::promise<void> exited;
  exited_ = exited.get_future();
  thread_ = std::thread([core = core_, exited = std::move(exited)]() mutable {
    pthread_setname_np(pthread_self(), "write-back");
    for (;;) {
      const int64_t wait = core->step();
      std::unique_lock lock(core->mu);
      if (core->stopping) break;
      if (wait > 0) {
        core->cv.wait_for(lock, std::chrono::nanoseconds(std::min(wait, kMaxSleepNanos)),
                          [&] { return core->stopping || core->kicked; });
      }
      core->kicked = false;
    }
    core->let_go_of_queue();  // what a chunk stuck past stop() put back
    exited.set_value();
  });
}

void WriteBack::stop() {
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
    core_->running = false;
    core_->kick();
  }
  core_->handed.notify_all();
  if (thread_.joinable()) {
    // A chunk handed to a disk that does not answer may never return; the
    // thread owns what it uses, so it can be left behind.
    if (exited_.wait_for(kStopWait) == std::future_status::ready) {
      thread_.join();
    } else {
      thread_.detach();
    }
  }
  core_->let_go_of_queue();
}

void WriteBack::Core::let_go_of_queue() {
  // Queued files hold the core and the core holds them: the cycle ends here.
  std::lock_guard lock(mu);
  for (const auto& file : queue) file->queued_ = false;
  queue.clear();
}

std::shared_ptr<WriteBack::File> WriteBack::track(std::shared_ptr<const UniqueFd> fd,
                                                  uint64_t position) {
  return std::shared_ptr<File>(new File(core_, std::move(fd), position));
}

uint64_t WriteBack::backlog() const { return core_->backlog.load(std::memory_order_relaxed); }

const std::atomic<uint64_t>& WriteBack::backlog_counter() const { return core_->backlog; }

double WriteBack::service_rate() const {
  const int64_t age = core_->clock.monotonic_nanos() - core_->measured_at.load();
  if (age > kMeasureLifetimeNanos) return 0;
  return core_->service_rate.load(std::memory_order_relaxed);
}

void WriteBack::set_rate(double bytes_per_second) {
  std::lock_guard lock(core_->mu);
  const int64_t now = core_->clock.monotonic_nanos();
  if (bytes_per_second <= 0) {
    core_->pace.reset();
  } else {
    const double burst = std::max(static_cast<double>(kChunkBytes),
                                  bytes_per_second * kPaceBurstSeconds);
    if (core_->pace) {
      core_->pace->reconfigure(now, bytes_per_second, burst);
    } else {
      core_->pace.emplace(bytes_per_second, burst);
      core_->pace->has_tokens(now);  // starts its clock
    }
  }
  core_->kick();
}

int64_t WriteBack::step() { return core_->step(); }

void hand_to_disk(int fd, uint64_t offset, uint64_t length) {
  ::sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length),
                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                        SYNC_FILE_RANGE_WAIT_AFTER);
}

bool still_linked(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) != 0 || st.st_nlink > 0;
}

}  // namespace logguard
