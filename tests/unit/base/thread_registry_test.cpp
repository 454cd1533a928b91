#include "logguard/base/thread_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

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

// Ended threads are joined without waiting for a new one to start (issue
// 23): an ended, unjoined thread keeps its stack, and a node where hundreds
// of containers ended and none started kept them all.
TEST(ThreadRegistryTest, EndedThreadsAreJoinedWithoutANewOne) {
  ThreadRegistry registry;
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  for (int i = 0; i < 5; ++i) {
    registry.spawn([&] {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return released; });  // all end together, in any order
    });
  }
  EXPECT_EQ(registry.held(), 5u);
  {
    std::lock_guard lock(mu);
    released = true;
  }
  cv.notify_all();
  // Whichever ends last took and joined every other.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (registry.held() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(registry.held(), 1u);
}

}  // namespace
}  // namespace logguard
