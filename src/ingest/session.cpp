#include "logguard/ingest/session.h"

#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <utility>

#include <spdlog/spdlog.h>

#include "logguard/ingest/fifo_stream.h"

namespace logguard {
namespace {

// The pacer lets a large pipe fill further: only the streams that hold one.
static_assert(FifoPipes::kLargePipe >= ReadPacer::kLargePipeBytes);

// When the stream holds only part of a frame, the rest is on its way: look
// again after this instead of spinning on a readable FIFO.
constexpr long kPartialFrameNanos = 1'000'000;
// How often the limiter's tokens are saved while the container logs. Drops
// are saved when they happen; a restart only restores tokens this old (so a
// container may get up to this long of its rate again), and hundreds of
// quiet containers do not each write their progress every second.
constexpr int64_t kProgressSaveNanos = 5'000'000'000;
// How late a sleep may end: Linux's default, and for gathers of at least
// kSlackFromNanos (a quiet stream's, read_pacer.h) a tenth of them or so.
constexpr unsigned long kTimerSlackNanos = 50'000;
constexpr unsigned long kLongTimerSlackNanos = 50'000'000;
constexpr int64_t kSlackFromNanos = 200'000'000;
// Such gathers end on a grid shared by every session (a little early rather
// than late), so that one timer interrupt wakes many of them: on a virtual
// machine the wake-up of an idle CPU is dear.
constexpr int64_t kGatherGridNanos = 100'000'000;
// Buffers of a burst are given back after this long without data.
constexpr int64_t kReleaseAfterNanos = 1'000'000'000;
// Newest log bytes a reattaching session compares with the stream: more than
// one turn can write (a pipe's worth of frames, encoded).
constexpr size_t kReattachTailBytes = 4 << 20;

int millis_until(int64_t nanos) {
  if (nanos <= 0) return 0;
  int64_t ms = (nanos + 999'999) / 1'000'000;
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void clear_eventfd(int fd) {
  uint64_t value;
  while (::read(fd, &value, sizeof value) < 0 && errno == EINTR) {
  }
}

// Sleeps up to `nanos`; a wake-up ends it early.
void pause(int wake_fd, long nanos) {
  const timespec t{nanos / 1'000'000'000, nanos % 1'000'000'000};  // tv_nsec < 1 s, or EINVAL
  pollfd fd{wake_fd, POLLIN, 0};
  if (::ppoll(&fd, 1, &t, nullptr) > 0) clear_eventfd(wake_fd);
}

}  // namespace

Session::Session(Config config, std::shared_ptr<ContainerLog> log, std::unique_ptr<NodeGate> node,
                 std::unique_ptr<ProgressLog> progress, Clock& clock, FifoPipes& pipes)
    : config_(std::move(config)),
      log_(std::move(log)),
      node_(std::move(node)),
      progress_(std::move(progress)),
      clock_(clock),
      pipes_(pipes),
      limiter_(config_.limits, node_.get()) {
  wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_fd_.get() < 0) throw_errno("eventfd");
}

Session::~Session() = default;

void Session::open_fifo() {
  stream_ = std::make_unique<FifoStream>(config_.fifo_path, pipes_);
  pump_ = std::make_unique<StreamPump>(StreamPump::Parts{
      config_.fifo_path, stream_.get(), log_.get(), &limiter_, progress_.get(), &clock_,
      &config_.attrs});
}

bool Session::run() {
  pthread_setname_np(pthread_self(), "session");
  bool ended = false;
  try {
    if (config_.reattached) pump_->reattach(readable_tail());
    int64_t gather = 0;  // let frames gather this long before the next turn (read_pacer.h)
    int64_t wait_until = 0;  // block mode: no turn before this (monotonic)
    int64_t last_save = clock_.monotonic_nanos();
    int64_t last_busy = 0;  // last turn that moved bytes; 0 after memory was given back
    int64_t held_since = 0;  // block mode: the stream is not read since then; 0 if it is
    bool active = false;
    // The next turn looks before any wait: the first of a reattached FIFO,
    // which may have lost its writer before we opened it (the engine that
    // held it is gone; Linux never reports such a pipe hung up), and one
    // after a drain's turn took bytes: only a turn that finds the stream
    // empty ends the drain, and a wait would last until the next byte.
    bool look_now = config_.reattached;
    for (;;) {
      const int64_t release_at = last_busy != 0 ? last_busy + kReleaseAfterNanos : 0;
      const bool stalled = !std::exchange(look_now, false) &&
                           wait_for_work(std::exchange(gather, 0), wait_until, release_at);
      uint64_t drains_asked;
      bool draining;  // someone waits in drain(): no gathering then
      bool stopping;
      {
        std::lock_guard lock(mu_);
        drains_asked = drain_requests_;
        draining = drains_asked != drains_done_;
        stopping = shutdown_;
      }
      if (stopping) break;
      const int64_t now = clock_.monotonic_nanos();
      if (now < wait_until) continue;
      wait_until = 0;
      StreamPump::Turn turn = pump_->turn();
      pump_->write_notices(false);
      count_blocked(held_since, now, turn.kind == StreamPump::Turn::kWait);
      if (turn.kind == StreamPump::Turn::kProgress) {
        gather = pace(now, turn.bytes);
        if (draining) {
          gather = 0;
          look_now = true;
        }
      }
      active |= turn.bytes > 0;
      if (active && now - last_save >= kProgressSaveNanos) {
        pump_->save_progress();
        last_save = now;
        active = false;
      }
      if (turn.kind == StreamPump::Turn::kEof) {
        ended = true;
        break;
      }
      if (turn.kind == StreamPump::Turn::kWait) {
        wait_until = clock_.monotonic_nanos() + turn.wait_nanos;
      } else if (turn.kind == StreamPump::Turn::kIdle) {
        std::lock_guard lock(mu_);
        drains_done_ = drains_asked;
        drained_cv_.notify_all();
        if (stalled) pause(wake_fd_.get(), kPartialFrameNanos);
      }
      if (turn.bytes > 0) {
        last_busy = now;
      } else if (last_busy != 0 && now - last_busy >= kReleaseAfterNanos) {
        pump_->release_memory();  // a burst is over: give its buffers back
        stream_->use_large_pipe(false);
        last_busy = 0;
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: log stream ended by an error: {}", config_.fifo_path, e.what());
  }
  try {
    if (ended) {
      pump_->write_notices(true);
    } else {
      pump_->save_progress();  // the next process goes on from here
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", config_.fifo_path, e.what());
  }
  log_.reset();  // the last session of a container closes its files and followers
  std::lock_guard lock(mu_);
  finished_ = true;
  drained_cv_.notify_all();
  return ended;
}

// The log's newest records, for a reattaching session to skip what the
// last process wrote but had not consumed; none if they cannot be read
// (then up to one batch may be written twice: better than a stream no one
// reads, whose container blocks on its next write and cannot be stopped).
std::vector<Record> Session::readable_tail() {
  try {
    return log_->tail(kReattachTailBytes);
  } catch (const std::exception& e) {
    spdlog::warn("{}: cannot read the end of the log ({}); lines the last process wrote but "
                 "had not consumed may be written again",
                 config_.fifo_path, e.what());
    return {};
  }
}

// Block mode: adds the time since the last turn that was told to wait to
// the container's blocked seconds, and notes when this one was.
void Session::count_blocked(int64_t& held_since, int64_t now, bool waiting) {
  ContainerMetrics* metrics = log_ ? log_->metrics() : nullptr;
  if (metrics != nullptr && held_since != 0) {
    metrics->blocked_seconds.Increment(static_cast<double>(now - held_since) / 1e9);
  }
  held_since = waiting ? now : 0;
}

// Every stream is paced to its rate, and a busy one (read_pacer.h: over
// ~100 turns a second at its pipe size) then gets a large pipe, while there
// are some to give. A long gather ends on the grid and may end a little
// late (timer slack): the kernel then wakes many quiet sessions from one
// timer interrupt; a short one, a busy stream's, must not.
int64_t Session::pace(int64_t start, size_t bytes) {
  // Not in block mode: a larger pipe would let the container run further
  // ahead of its rate.
  const bool blocking = config_.limits.on_limit == OnLimit::kBlock;
  const bool followed = log_->watch() && log_->watch()->has_followers();
  const int64_t end = clock_.monotonic_nanos();
  int64_t gather =
      pacer_.after_turn(start, end, bytes, stream_->capacity(),
                        followed ? ReadPacer::kFollowedGatherNanos : ReadPacer::kMaxGatherNanos);
  // From the next turn on: half of 1 MiB per turn instead of a quarter of
  // 64 KiB, a 32nd of the turns.
  if (!blocking && pacer_.busy()) stream_->use_large_pipe(true);
  const bool long_gather = gather >= kSlackFromNanos;
  if (long_gather) {
    const int64_t wake = end + gather;
    gather = wake - wake % kGatherGridNanos - end;
  }
  const unsigned long slack = long_gather ? kLongTimerSlackNanos : kTimerSlackNanos;
  if (slack != timer_slack_) {
    ::prctl(PR_SET_TIMERSLACK, slack);
    timer_slack_ = slack;
  }
  return gather;
}

// Waits for data, a wake-up, a notice coming due or the end of a block-mode
// wait; or, after a turn that took bytes, lets frames gather for `gather`
// nanoseconds (a wake-up ends that early). Returns whether the stream was
// readable while the last turn left data in it (part of a frame): then the
// caller must not spin on it.
bool Session::wait_for_work(int64_t gather, int64_t wait_until, int64_t release_at) {
  if (gather > 0 && wait_until == 0) {
    pause(wake_fd_.get(), static_cast<long>(gather));
    return false;
  }
  pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {stream_->poll_fd(), POLLIN, 0}};
  // While waiting for tokens the FIFO stays readable (nothing is consumed):
  // only the clock and wake-ups matter then.
  const nfds_t count = wait_until != 0 ? 1 : 2;
  if (::poll(fds, count, timeout_ms(wait_until, release_at)) < 0 && errno != EINTR) {
    throw_errno("poll");
  }
  if (fds[0].revents & POLLIN) clear_eventfd(wake_fd_.get());
  return count == 2 && (fds[1].revents & (POLLIN | POLLHUP));
}

int Session::timeout_ms(int64_t wait_until, int64_t release_at) const {
  const int64_t now = clock_.monotonic_nanos();
  std::optional<int64_t> due = limiter_.next_notice_due();
  for (int64_t deadline : {wait_until, release_at}) {
    if (deadline != 0 && (!due || deadline < *due)) due = deadline;
  }
  if (!due) return -1;
  return millis_until(*due - now);
}

void Session::wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
}

bool Session::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (finished_) return true;
  const uint64_t ticket = ++drain_requests_;
  wake();
  return drained_cv_.wait_for(lock, timeout,
                              [&] { return finished_ || drains_done_ >= ticket; });
}

void Session::shutdown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  wake();
}

}  // namespace logguard
