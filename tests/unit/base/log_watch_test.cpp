#include "logguard/base/log_watch.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <string>

#include "test_util.h"

namespace logguard {
namespace {

bool readable(int fd, int timeout_ms = 0) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST(LogWatch, SubscriptionIsIdleUntilNotified) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  EXPECT_FALSE(readable(sub->fd()));
  watch->notify();
  EXPECT_TRUE(readable(sub->fd()));
}

TEST(LogWatch, ConsumeClearsManyNotifications) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  for (int i = 0; i < 5; ++i) watch->notify();
  sub->consume();
  EXPECT_FALSE(readable(sub->fd()));
  watch->notify();
  EXPECT_TRUE(readable(sub->fd()));
}

TEST(LogWatch, NotifyWakesEverySubscriber) {
  auto watch = LogWatch::create();
  auto a = watch->subscribe();
  auto b = watch->subscribe();
  watch->notify();
  EXPECT_TRUE(readable(a->fd()));
  EXPECT_TRUE(readable(b->fd()));
}

TEST(LogWatch, NotifyWithoutSubscribersIsHarmless) {
  auto watch = LogWatch::create();
  watch->notify();
  {
    auto gone = watch->subscribe();
  }
  watch->notify();  // the destroyed subscription's fd is no longer signalled
  auto sub = watch->subscribe();
  EXPECT_FALSE(readable(sub->fd()));
}

TEST(LogWatch, CloseMarksClosedAndWakes) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  EXPECT_FALSE(watch->closed());
  watch->close();
  EXPECT_TRUE(watch->closed());
  EXPECT_TRUE(readable(sub->fd()));
}

TEST(LogWatch, SubscribingAfterCloseWakesAtOnce) {
  auto watch = LogWatch::create();
  watch->close();
  auto sub = watch->subscribe();
  EXPECT_TRUE(readable(sub->fd()));
}

// Whether thread `tid` of this process sleeps in poll() now, as the kernel
// tells (the number of the system call it is blocked in).
bool sleeps_in_poll(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  // Without /proc the wake-up is still tested, just not surely from the sleep.
  if (!in) return true;
  std::string call;  // "running" while it runs
  in >> call;
#ifdef SYS_poll
  if (call == std::to_string(SYS_poll)) return true;
#endif
  return call == std::to_string(SYS_ppoll);
}

TEST(LogWatch, WakesABlockedPollerFromAnotherThread) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  std::atomic<pid_t> poller{0};
  const int limit_ms = static_cast<int>(testing::kHangLimit.count());
  auto woke = std::async(std::launch::async, [&] {
    poller = ::gettid();
    return readable(sub->fd(), limit_ms);
  });
  // Notified only once the poller sleeps: a wake-up, not a poll that finds
  // the notification already there.
  ASSERT_TRUE(testing::eventually([&] { return poller != 0 && sleeps_in_poll(poller); }));
  watch->notify();
  ASSERT_EQ(woke.wait_for(testing::kHangLimit), std::future_status::ready);
  EXPECT_TRUE(woke.get());
}

TEST(LogWatch, SubscriptionKeepsTheWatchAlive) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  std::weak_ptr<LogWatch> weak = watch;
  watch.reset();
  EXPECT_FALSE(weak.expired());
  sub.reset();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace logguard
