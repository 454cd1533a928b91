#include "logguard/base/thread_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <system_error>

namespace logguard {
namespace {

TEST(ThreadRegistryTest, RunsWorkAndJoins) {
  std::atomic<int> ran{0};
  ThreadRegistry registry;
  for (int i = 0; i < 10; ++i) registry.spawn([&] { ++ran; });
  registry.join_all();
  EXPECT_EQ(ran, 10);
}

// Issue 10.7: a thread that cannot start must be reported to the caller, not
// leave a half-made entry behind.
TEST(ThreadRegistryTest, AFailedStartThrowsAndLeavesTheRegistryUsable) {
  int starts = 0;
  ThreadRegistry registry([&](std::function<void()> body) {
    if (++starts == 2) throw std::system_error(EAGAIN, std::generic_category(), "thread");
    return std::thread(std::move(body));
  });
  std::atomic<int> ran{0};
  registry.spawn([&] { ++ran; });
  try {
    registry.spawn([&] { ran += 100; });
    ADD_FAILURE() << "spawn did not report the failure";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::resource_unavailable_try_again);
  }
  registry.spawn([&] { ++ran; });
  registry.join_all();
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace logguard
