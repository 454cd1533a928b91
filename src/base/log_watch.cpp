#include "logguard/base/log_watch.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace logguard {
namespace {

// Makes fd readable. The eventfd is non-blocking and its counter cannot
// realistically overflow, so this never waits on a follower.
void signal(int fd) {
  const uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

}  // namespace

LogWatch::Subscription::~Subscription() {
  watch_->unsubscribe(fd_);
  ::close(fd_);
}

void LogWatch::Subscription::consume() {
  uint64_t count = 0;
  while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

std::shared_ptr<LogWatch> LogWatch::create() {
  std::shared_ptr<LogWatch> watch(new LogWatch());
  watch->self_ = watch;
  return watch;
}

void LogWatch::notify() {
  // Called after every write: with nobody following it is one uncontended
  // lock and an empty loop.
  std::lock_guard lock(mu_);
  for (int fd : fds_) signal(fd);
}

void LogWatch::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (int fd : fds_) signal(fd);
}

bool LogWatch::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool LogWatch::has_followers() const {
  std::lock_guard lock(mu_);
  return !fds_.empty();
}

std::unique_ptr<LogWatch::Subscription> LogWatch::subscribe() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  std::lock_guard lock(mu_);
  fds_.push_back(fd);
  // A follower arriving after the end must still wake up once to see it.
  if (closed_) signal(fd);
  return std::unique_ptr<Subscription>(new Subscription(self_.lock(), fd));
}

void LogWatch::unsubscribe(int fd) {
  std::lock_guard lock(mu_);
  fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
}

}  // namespace logguard
