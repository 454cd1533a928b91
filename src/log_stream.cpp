#include "logguard/log_stream.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace logguard {

bool is_fifo(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

FifoStream::FifoStream(const std::string& path) {
  fifo_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (fifo_.get() < 0) throw_errno("opening the log stream " + path);
  struct stat st {};
  if (::fstat(fifo_.get(), &st) != 0) throw_errno("fstat " + path);
  if (!S_ISFIFO(st.st_mode)) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "the log stream " + path + " is not a FIFO");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe");
  scratch_read_ = UniqueFd(fds[0]);
  scratch_write_ = UniqueFd(fds[1]);
  const int fifo_size = ::fcntl(fifo_.get(), F_GETPIPE_SZ);
  if (fifo_size <= 0) throw_errno("F_GETPIPE_SZ " + path);
  // tee copies at most what the private pipe can take: make it as large.
  const int scratch_size = ::fcntl(scratch_write_.get(), F_SETPIPE_SZ, fifo_size);
  if (scratch_size < fifo_size) throw_errno("F_SETPIPE_SZ");
  capacity_ = static_cast<size_t>(fifo_size);
  null_ = UniqueFd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (null_.get() < 0) throw_errno("open /dev/null");
}

size_t FifoStream::available() const {
  int n = 0;
  if (::ioctl(fifo_.get(), FIONREAD, &n) != 0 || n < 0) return capacity_;
  return static_cast<size_t>(n);
}

LogStream::Peek FifoStream::peek(char* buf, size_t n) {
  n = std::min(n, capacity_);
  ssize_t copied;
  do {
    copied = ::tee(fifo_.get(), scratch_write_.get(), n, SPLICE_F_NONBLOCK);
  } while (copied < 0 && errno == EINTR);
  if (copied < 0) {
    if (errno == EAGAIN) return {0, false};
    throw_errno("tee of the log stream");
  }
  if (copied == 0) return {0, true};  // empty, and no writer left
  size_t got = 0;
  while (got < static_cast<size_t>(copied)) {
    ssize_t r = ::read(scratch_read_.get(), buf + got, static_cast<size_t>(copied) - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw_errno("reading the peeked log stream");
    got += static_cast<size_t>(r);
  }
  return {got, false};
}

void FifoStream::consume(size_t n) {
  while (n > 0) {
    ssize_t moved = ::splice(fifo_.get(), nullptr, null_.get(), nullptr, n, SPLICE_F_NONBLOCK);
    if (moved < 0 && errno == EINTR) continue;
    if (moved <= 0) {
      // The bytes were seen by peek: they are there. A kernel without
      // splice to /dev/null gets a plain read.
      char sink[16 * 1024];
      ssize_t r = ::read(fifo_.get(), sink, std::min(n, sizeof sink));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw_errno("consuming the log stream");
      moved = r;
    }
    n -= static_cast<size_t>(moved);
  }
}

}  // namespace logguard
