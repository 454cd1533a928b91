#include "logguard/base/log_watch.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <future>
#include <thread>

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

TEST(LogWatch, WakesABlockedPollerFromAnotherThread) {
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  auto woke = std::async(std::launch::async, [&] { return readable(sub->fd(), 10'000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  watch->notify();
  ASSERT_EQ(woke.wait_for(std::chrono::seconds(5)), std::future_status::ready);
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
