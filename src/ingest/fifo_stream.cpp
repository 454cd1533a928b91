#include "logguard/ingest/fifo_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <spdlog/spdlog.h>

namespace logguard {
namespace {

// Consumed with read(2) up to this many bytes, with splice(2) beyond.
constexpr size_t kReadToConsume = 4096;
// The size of a pipe the engine makes (Linux's default).
constexpr size_t kEngineFifoBytes = 64 * 1024;

int set_pipe_size(int fd, size_t bytes) {
  return ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes));
}

}  // namespace

FifoPipes::FifoPipes() {
  for (PeekPipe& pipe : peek_pipes_) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe");
    pipe.read = UniqueFd(fds[0]);
    pipe.write = UniqueFd(fds[1]);
    // The first as large as a stream may grow; over the user's pipe limit
    // (no CAP_SYS_RESOURCE) it stays as made, which bounds every stream to it.
    if (&pipe == &peek_pipes_[0]) set_pipe_size(pipe.write.get(), kLargePipe);
    const int size = ::fcntl(pipe.write.get(), F_GETPIPE_SZ);
    if (size <= 0) throw_errno("F_GETPIPE_SZ");
    pipe.capacity = static_cast<size_t>(size);
  }
  capacity_ = peek_pipes_[0].capacity;
  if (capacity_ < kEngineFifoBytes) {
    spdlog::error("the pipe for reading log streams is only {} bytes (root's pipes on this "
                  "node are over fs.pipe-user-pages-soft, and the plugin lacks "
                  "CAP_SYS_RESOURCE): log lines longer than that are skipped; raise "
                  "fs.pipe-user-pages-soft and restart the plugin",
                  capacity_);
  }
  null_ = UniqueFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (null_.get() < 0) throw_errno("open /dev/null");
}

// The first free pipe that fits, starting each peek at the next one; if all
// are taken, waits for the one it started at (if it fits) or the large one.
// A small pipe fits peeks of a quarter of its size: tee copies whole page
// buffers into free slots, and a FIFO's bytes may straddle more pages than
// they fill; a peek that showed less than the stream holds would be taken
// for a frame that cannot be seen whole (StreamPump::head_frame_unseen).
LogStream::Peek FifoPipes::peek(int fifo, char* buf, size_t n) {
  n = std::min(n, capacity_);
  auto fits = [n](const PeekPipe& pipe, size_t i) {
    return i == 0 || n <= pipe.capacity / 4;
  };
  const unsigned first = next_peek_pipe_.fetch_add(1, std::memory_order_relaxed);
  for (unsigned i = 0; i < kPeekPipes; ++i) {
    const size_t at = (first + i) % kPeekPipes;
    PeekPipe& pipe = peek_pipes_[at];
    if (!fits(pipe, at)) continue;
    std::unique_lock lock(pipe.mu, std::try_to_lock);
    if (lock) return peek_through(pipe, fifo, buf, n);
  }
  const size_t own = first % kPeekPipes;
  PeekPipe& pipe = fits(peek_pipes_[own], own) ? peek_pipes_[own] : peek_pipes_[0];
  std::lock_guard lock(pipe.mu);
  return peek_through(pipe, fifo, buf, n);
}

LogStream::Peek FifoPipes::peek_through(PeekPipe& pipe, int fifo, char* buf, size_t n) {
  ssize_t copied;
  do {
    copied = ::tee(fifo, pipe.write.get(), n, SPLICE_F_NONBLOCK);
  } while (copied < 0 && errno == EINTR);
  if (copied < 0) {
    if (errno == EAGAIN) return {0, false};
    throw_errno("tee of the log stream");
  }
  if (copied == 0) return {0, true};  // empty, and no writer left
  size_t got = 0;
  while (got < static_cast<size_t>(copied)) {
    ssize_t r = ::read(pipe.read.get(), buf + got, static_cast<size_t>(copied) - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw_errno("reading the peeked log stream");
    got += static_cast<size_t>(r);
  }
  return {got, false};
}

bool FifoPipes::take_large() {
  if (capacity_ < kLargePipe) return false;  // peeks could not see more
  int in_use = large_in_use_.load();
  do {
    if (in_use >= kMaxLargePipes) return false;
  } while (!large_in_use_.compare_exchange_weak(in_use, in_use + 1));
  return true;
}

void FifoPipes::give_back_large() { large_in_use_.fetch_sub(1); }

bool is_fifo(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

FifoStream::FifoStream(const std::string& path, FifoPipes& pipes) : pipes_(pipes) {
  fifo_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (fifo_.get() < 0) throw_errno("opening the log stream " + path);
  struct stat st {};
  if (::fstat(fifo_.get(), &st) != 0) throw_errno("fstat " + path);
  if (!S_ISFIFO(st.st_mode)) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "the log stream " + path + " is not a FIFO");
  }
  const int fifo_size = ::fcntl(fifo_.get(), F_GETPIPE_SZ);
  if (fifo_size <= 0) throw_errno("F_GETPIPE_SZ " + path);
  base_capacity_ = static_cast<size_t>(fifo_size);
  capacity_ = std::min(base_capacity_, pipes_.capacity());
}

FifoStream::~FifoStream() {
  if (large_) pipes_.give_back_large();
}

void FifoStream::use_large_pipe(bool large) {
  if (large == large_) return;
  if (!large) {
    // Fails (EBUSY) while the FIFO holds more than the small pipe takes:
    // then it stays large until the next try.
    if (resize_fifo(base_capacity_)) {
      large_ = false;
      pipes_.give_back_large();
    }
    return;
  }
  if (!pipes_.take_large()) return;
  if (resize_fifo(FifoPipes::kLargePipe)) {
    large_ = true;
  } else {
    pipes_.give_back_large();
  }
}

// False if the kernel refused: EPERM to grow over the user's pipe limit,
// EBUSY to shrink below what the FIFO holds.
bool FifoStream::resize_fifo(size_t bytes) {
  const int size = set_pipe_size(fifo_.get(), bytes);
  if (size < 0) return false;
  capacity_ = std::min(static_cast<size_t>(size), pipes_.capacity());
  return true;
}

size_t FifoStream::available() const {
  int n = 0;
  if (::ioctl(fifo_.get(), FIONREAD, &n) != 0 || n < 0) return capacity_;
  return static_cast<size_t>(n);
}

bool FifoStream::hung_up() const {
  pollfd fd{fifo_.get(), POLLIN, 0};
  return ::poll(&fd, 1, 0) == 1 && (fd.revents & POLLHUP) != 0;
}

LogStream::Peek FifoStream::peek(char* buf, size_t n) {
  return pipes_.peek(fifo_.get(), buf, std::min(n, capacity_));
}

void FifoStream::consume(size_t n, std::span<char> scratch) {
  // A few lines (a quiet container's turn) are cheaper to read again than to
  // splice: splice wakes the pipe's writers every time, read only when the
  // pipe was full, and in a virtual machine every wake-up is dear.
  if (n > kReadToConsume) n -= splice_out(n);
  while (n > 0) n -= read_out(n, scratch);
}

// Up to n bytes spliced to /dev/null; 0 where the kernel cannot (then they
// are read).
size_t FifoStream::splice_out(size_t n) {
  size_t moved = 0;
  while (moved < n) {
    const ssize_t r =
        ::splice(fifo_.get(), nullptr, pipes_.null_fd(), nullptr, n - moved, SPLICE_F_NONBLOCK);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    moved += static_cast<size_t>(r);
  }
  return moved;
}

// Reads up to n bytes into scratch (the peek saw them: they are there).
size_t FifoStream::read_out(size_t n, std::span<char> scratch) {
  for (;;) {
    const ssize_t r = ::read(fifo_.get(), scratch.data(), std::min(n, scratch.size()));
    if (r > 0) return static_cast<size_t>(r);
    if (r < 0 && errno == EINTR) continue;
    throw_errno("consuming the log stream");
  }
}

}  // namespace logguard
