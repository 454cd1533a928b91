#include "logguard/storage/compression_yield.h"

#include <gtest/gtest.h>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

// A node's CPU samples: each step of `nanos` with `idle_cpus` idle over it.
class Node {
 public:
  CpuSample now() const { return {at_, idle_}; }
  CpuSample step(int64_t nanos, double idle_cpus) {
    at_ += nanos;
    idle_ += static_cast<int64_t>(idle_cpus * static_cast<double>(nanos));
    return now();
  }

 private:
  int64_t at_ = 5 * kSec, idle_ = 1000 * kSec;
};

TEST(CompressionYield, LooksFirstAndGoesOnWhenACpuSatIdle) {
  CompressionYield yield;
  Node node;
  EXPECT_FALSE(yield.may_go_on(node.now().at_nanos, 0));  // no stint yet: look
  const CpuSample before = node.now();
  const CpuSample after = node.step(100 * kMs, 1.2);
  EXPECT_TRUE(yield.look(before, after, after.at_nanos, 0));
  EXPECT_NEAR(yield.idle_cpus(), 1.2, 1e-9);
}

TEST(CompressionYield, WaitsWhileLessThanACpuIsIdle) {
  CompressionYield yield;
  Node node;
  for (double idle : {0.0, 0.3, 0.89}) {
    const CpuSample before = node.now();
    const CpuSample after = node.step(100 * kMs, idle);
    EXPECT_FALSE(yield.look(before, after, after.at_nanos, kSec)) << idle;
    EXPECT_FALSE(yield.may_go_on(after.at_nanos, kSec));
  }
  const CpuSample before = node.now();
  const CpuSample after = node.step(100 * kMs, 0.9);
  EXPECT_TRUE(yield.look(before, after, after.at_nanos, kSec));
}

// A stint lasts stint_nanos; then the next look decides again, so a flood
// that begins while the compressor works gets the CPUs back within a stint.
TEST(CompressionYield, AStintEndsAndTheNextLookDecides) {
  CompressionYield yield({.look_nanos = 100 * kMs, .stint_nanos = kSec});
  Node node;
  CpuSample before = node.now();
  CpuSample after = node.step(100 * kMs, 2.0);
  ASSERT_TRUE(yield.look(before, after, after.at_nanos, 0));
  EXPECT_TRUE(yield.may_go_on(after.at_nanos + 999 * kMs, 0));
  EXPECT_FALSE(yield.may_go_on(after.at_nanos + kSec, 0));
  node.step(kSec, 0.0);  // the stint: the compressor and a flood beginning
  before = node.now();
  after = node.step(100 * kMs, 0.1);
  EXPECT_FALSE(yield.look(before, after, after.at_nanos, 2 * kSec));
}

TEST(CompressionYield, AJobThatWaitedLongEnoughGoesOnAnyway) {
  CompressionYield yield({.max_defer_nanos = 30 * kSec});
  Node node;
  const CpuSample before = node.now();
  const CpuSample after = node.step(100 * kMs, 0.0);
  EXPECT_FALSE(yield.look(before, after, after.at_nanos, 30 * kSec - 1));
  EXPECT_TRUE(yield.look(before, after, after.at_nanos, 30 * kSec));
  EXPECT_TRUE(yield.may_go_on(0, 30 * kSec));  // no look needed for it
}

TEST(CompressionYield, GoesOnWhenTheNodeCannotBeRead) {
  CompressionYield yield;
  Node node;
  EXPECT_TRUE(yield.look(std::nullopt, std::nullopt, 7 * kSec, 0));
  EXPECT_TRUE(yield.look(node.now(), std::nullopt, 7 * kSec, 0));
  EXPECT_TRUE(yield.may_go_on(7 * kSec + 999 * kMs, 0));  // a stint: not a read per piece
}

}  // namespace
}  // namespace logguard
