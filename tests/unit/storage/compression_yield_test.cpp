#include "logguard/storage/compression_yield.h"

#include <gtest/gtest.h>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

// Samples of a 2-CPU node: `idle_cpus` idle over each step of `step` nanos,
// the compressor using `self_cpus` of them.
class Node {
 public:
  CpuSample step(int64_t nanos, double idle_cpus, double self_cpus = 0) {
    at_ += nanos;
    idle_ += static_cast<int64_t>(idle_cpus * static_cast<double>(nanos));
    self_ += static_cast<int64_t>(self_cpus * static_cast<double>(nanos));
    return {at_, idle_, self_};
  }

 private:
  int64_t at_ = 5 * kSec, idle_ = 1000 * kSec, self_ = 0;
};

TEST(CompressionYield, LooksBeforeTheFirstPieceThenGoesOnIdleCpu) {
  CompressionYield yield;
  Node node;
  EXPECT_FALSE(yield.may_go(node.step(0, 0), 0));  // a look begins
  EXPECT_FALSE(yield.may_go(node.step(50 * kMs, 1.0), 0));  // not over yet
  EXPECT_TRUE(yield.may_go(node.step(50 * kMs, 1.0), 0));  // 1 idle CPU over 100 ms
  EXPECT_DOUBLE_EQ(yield.idle_cpus(), 1.0);
}

TEST(CompressionYield, WaitsWhileTheNodeIsBusy) {
  CompressionYield yield;
  Node node;
  yield.may_go(node.step(0, 0), 0);
  EXPECT_FALSE(yield.may_go(node.step(100 * kMs, 0.2), kSec));
  EXPECT_NEAR(yield.idle_cpus(), 0.2, 1e-9);
  EXPECT_FALSE(yield.may_go(node.step(100 * kMs, 0.49), 2 * kSec));
  EXPECT_TRUE(yield.may_go(node.step(100 * kMs, 0.5), 3 * kSec));
  // A flood begins: the next full look says wait.
  EXPECT_TRUE(yield.may_go(node.step(60 * kMs, 0.0), 3 * kSec));  // the last answer stands
  EXPECT_FALSE(yield.may_go(node.step(60 * kMs, 0.0), 3 * kSec));
}

// The compressor's own CPU time is what it gives back by waiting: a node
// busy only with compression is an idle node.
TEST(CompressionYield, CountsItsOwnCpuAsIdle) {
  CompressionYield yield;
  Node node;
  yield.may_go(node.step(0, 0), 0);
  EXPECT_TRUE(yield.may_go(node.step(100 * kMs, 0.1, 0.9), 0));
  EXPECT_NEAR(yield.idle_cpus(), 1.0, 1e-9);
  EXPECT_FALSE(yield.may_go(node.step(100 * kMs, 0.1, 0.2), 0));
}

TEST(CompressionYield, AJobThatWaitedLongEnoughGoesOnAnyway) {
  CompressionYield yield({.max_defer_nanos = 30 * kSec});
  Node node;
  yield.may_go(node.step(0, 0), 0);
  EXPECT_FALSE(yield.may_go(node.step(100 * kMs, 0), 30 * kSec - 1));
  EXPECT_TRUE(yield.may_go(node.step(100 * kMs, 0), 30 * kSec));
  EXPECT_TRUE(yield.go_stands(0, 30 * kSec));  // no sample needed for it
  EXPECT_FALSE(yield.go_stands(0, 30 * kSec - 1));
}

TEST(CompressionYield, AStaleWindowBeginsANewLook) {
  CompressionYield yield;
  Node node;
  yield.may_go(node.step(0, 0), 0);
  EXPECT_TRUE(yield.may_go(node.step(100 * kMs, 2.0), 0));
  // Nothing to compress for a minute, mostly idle; a flood in its last second.
  EXPECT_FALSE(yield.may_go(node.step(60 * kSec, 1.9), 0));  // says nothing about now: look
  EXPECT_FALSE(yield.may_go(node.step(100 * kMs, 0.0), 0));  // the look: busy
}

TEST(CompressionYield, AGoStandsForOneLook) {
  CompressionYield yield;
  Node node;
  EXPECT_FALSE(yield.go_stands(node.step(0, 0).at_nanos, 0));
  yield.may_go(node.step(0, 0), 0);
  EXPECT_FALSE(yield.go_stands(node.step(0, 0).at_nanos, 0));  // a look runs: sample again
  const CpuSample go = node.step(100 * kMs, 1.0);
  EXPECT_TRUE(yield.may_go(go, 0));
  EXPECT_TRUE(yield.go_stands(go.at_nanos + 99 * kMs, 0));
  EXPECT_FALSE(yield.go_stands(go.at_nanos + 100 * kMs, 0));
}

TEST(CompressionYield, GoesOnWhenTheNodeCannotBeRead) {
  CompressionYield yield;
  EXPECT_TRUE(yield.may_go(std::nullopt, 0));
}

}  // namespace
}  // namespace logguard
