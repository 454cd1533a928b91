#include "logguard/session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <spdlog/spdlog.h>

#include "logguard/json_record.h"

namespace logguard {
namespace {

constexpr size_t kReadSize = 64 * 1024;
// Reads per turn of the loop, so a flood cannot starve notices and drains.
constexpr int kReadsPerTurn = 16;
// Encoded records held before they are written; bounds memory per session.
constexpr size_t kStageLimit = 1 << 20;
// Below this many bytes a turn counts as "the pipe was nearly empty".
constexpr size_t kCoalesceBelow = 16 * 1024;
// 200 us: at 600k lines/s about 14 KiB gather, a fifth of the pipe.
constexpr long kGatherNanos = 200'000;

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

}  // namespace

Session::Session(std::string fifo_path, LimitOptions limits, std::shared_ptr<ContainerLog> log,
                 Clock& clock)
    : fifo_path_(std::move(fifo_path)),
      limiter_(limits),
      log_(std::move(log)),
      clock_(clock) {
  wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_fd_.get() < 0) throw_errno("eventfd");
}

Session::~Session() = default;

void Session::open_fifo() {
  fifo_fd_ = UniqueFd(::open(fifo_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fifo_fd_.get() < 0) throw_errno("opening the log stream " + fifo_path_);
}

void Session::run() {
  try {
    for (;;) {
      pollfd fds[2] = {{fifo_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 2, poll_timeout_ms()) < 0 && errno != EINTR) throw_errno("poll");
      if (fds[1].revents & POLLIN) clear_eventfd(wake_fd_.get());
      if ((fds[0].revents & POLLIN) && last_turn_bytes_ < kCoalesceBelow) let_frames_gather();
      uint64_t drains_asked;
      bool stopping;
      {
        std::lock_guard lock(mu_);
        drains_asked = drain_requests_;
        stopping = shutdown_;
      }
      ReadResult result = read_available();
      stage_notices(false);
      write_staged();
      if (result == ReadResult::kEof || result == ReadResult::kError) break;
      if (result == ReadResult::kEmpty) {
        std::lock_guard lock(mu_);
        drains_done_ = drains_asked;
        drained_cv_.notify_all();
        // A drain asked while we waited for tokens had its wake-up consumed
        // there: go round once more instead of sleeping on it.
        if (drain_requests_ > drains_asked) wake();
      }
      if (stopping) break;
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: log stream ended by an error: {}", fifo_path_, e.what());
  }
  stage_notices(true);
  write_staged();
  log_.reset();  // the last session of a container closes its files and followers
  std::lock_guard lock(mu_);
  finished_ = true;
  drained_cv_.notify_all();
}

// The engine writes one frame per write(2). A reader that wakes for each
// one spends its CPU on syscalls (about three per line), dropped lines
// included. After a turn that found the pipe nearly empty, a short pause lets
// frames gather, so the next read takes many at once. Far too short to fill
// the 64 KiB pipe and hold the container back, and invisible as latency.
void Session::let_frames_gather() {
  const timespec pause{0, kGatherNanos};
  pollfd fd{wake_fd_.get(), POLLIN, 0};
  if (::ppoll(&fd, 1, &pause, nullptr) > 0) clear_eventfd(wake_fd_.get());
}

Session::ReadResult Session::read_available() {
  static thread_local std::vector<char> buffer(kReadSize);
  last_turn_bytes_ = 0;
  for (int i = 0; i < kReadsPerTurn; ++i) {
    ssize_t n = ::read(fifo_fd_.get(), buffer.data(), buffer.size());
    if (n > 0) {
      last_turn_bytes_ += static_cast<size_t>(n);
      decoder_.feed(buffer.data(), static_cast<size_t>(n));
      if (!process_frames()) return ReadResult::kError;
      continue;
    }
    if (n == 0) {
      if (decoder_.pending() > 0) {
        spdlog::error("{}: log stream ended inside a frame; {} bytes of it were lost", fifo_path_,
                      decoder_.pending());
      }
      return ReadResult::kEof;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return ReadResult::kEmpty;
    throw_errno("reading " + fifo_path_);
  }
  return ReadResult::kData;
}

bool Session::process_frames() {
  for (;;) {
    switch (decoder_.next(&entry_)) {
      case FrameDecoder::Status::kNeedMore:
        return true;
      case FrameDecoder::Status::kError:
        spdlog::error("{}: corrupt log stream, closing it: {}", fifo_path_, decoder_.error());
        return false;
      case FrameDecoder::Status::kFrame:
        admit(entry_);
        break;
    }
  }
}

void Session::admit(LogEntry& entry) {
  const bool partial = entry.partial();
  const auto& meta = entry.partial_log_metadata();
  const bool ends_line = !partial || meta.last();
  const bool starts_line = !partial || meta.ordinal() <= 1;
  // json-file keeps the newline in "log" for complete lines and final chunks.
  if (ends_line) entry.mutable_line()->push_back('\n');
  const int64_t time = entry.time_nano() != 0 ? entry.time_nano() : clock_.wall_nanos();
  const RecordView record{entry.line(), entry.source(), time, nullptr};
  const Chunk chunk{entry.source(), json_record_size(record), entry.line().size(), starts_line,
                    ends_line};
  for (;;) {
    const auto decision = limiter_.offer(chunk, clock_.monotonic_nanos(), clock_.wall_nanos());
    if (decision.verdict == Limiter::Verdict::kAdmit) break;
    if (decision.verdict == Limiter::Verdict::kDrop) return;
    // Block mode: stop reading the FIFO until tokens return; the pipe fills
    // and the container's own writes wait. What was admitted goes out first.
    write_staged();
    if (!wait_for_tokens(decision.wait_nanos)) break;  // shutting down: keep it
  }
  stage_record(record);
}

void Session::stage_record(const RecordView& record) {
  if (!append_json_record(staged_, record)) {
    spdlog::warn("{}: dropped a record whose time {} cannot be written", fifo_path_,
                 record.time_nanos);
    return;
  }
  staged_records_.push_back({staged_.size(), record.time_nanos});
  if (staged_.size() >= kStageLimit) write_staged();
}

void Session::stage_notices(bool stream_ending) {
  notices_.clear();
  limiter_.collect_notices(clock_.monotonic_nanos(), clock_.wall_nanos(), stream_ending, notices_);
  const int64_t now = clock_.wall_nanos();
  for (auto& notice : notices_) {
    notice.text.push_back('\n');
    stage_record({notice.text, notice.stream, now, &notice.attrs});
  }
}

void Session::write_staged() {
  if (staged_records_.empty()) return;
  try {
    log_->write([this](LogFile& file) {
      size_t begin = 0;
      for (const auto& record : staged_records_) {
        file.append(std::string_view(staged_).substr(begin, record.end - begin), record.time_nanos);
        begin = record.end;
      }
    });
  } catch (const std::exception& e) {
    report_lost_records(e.what());
  }
  staged_.clear();
  staged_records_.clear();
}

// A full or failing disk fails every write: say so at most every 10 s, with
// how many records were lost since the last report, not once per batch.
void Session::report_lost_records(const char* error) {
  lost_records_ += staged_records_.size();
  const int64_t now = clock_.monotonic_nanos();
  if (last_loss_report_ != 0 && now - last_loss_report_ < 10'000'000'000) return;
  spdlog::error("{}: writing to {} failed, {} records lost so far: {}", fifo_path_, log_->dir(),
                lost_records_, error);
  last_loss_report_ = now;
}

bool Session::wait_for_tokens(int64_t nanos) {
  pollfd fd{wake_fd_.get(), POLLIN, 0};
  if (::poll(&fd, 1, millis_until(nanos)) > 0) clear_eventfd(wake_fd_.get());
  std::lock_guard lock(mu_);
  return !shutdown_;
}

int Session::poll_timeout_ms() const {
  auto due = limiter_.next_notice_due();
  if (!due) return -1;
  return millis_until(*due - clock_.monotonic_nanos());
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
