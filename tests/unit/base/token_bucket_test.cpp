#include "logguard/base/token_bucket.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kStart = 5 * kSec;  // an arbitrary monotonic origin

TEST(TokenBucket, StartsFullAndAdmitsTheBurstAtOnce) {
  TokenBucket bucket(1000, 2000);
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += bucket.try_take(kStart, 100);
  EXPECT_EQ(admitted, 20);
  EXPECT_EQ(bucket.tokens(), 0.0);
}

TEST(TokenBucket, FloodOfSmallRecordsGetsExactCount) {
  // 2000 at start, +1 per ms: 21 records by 20 ms, then one per 100 ms
  // (at 101, 201, ..., 9901 ms): 99 more. The bound is 2000 + 10000 + 100.
  TokenBucket bucket(1000, 2000);
  int admitted = 0;
  for (int i = 0; i < 10'000; ++i) admitted += bucket.try_take(kStart + i * kMs, 100);
  EXPECT_EQ(admitted, 120);
}

TEST(TokenBucket, AdmitsWhilePositiveThenGoesIntoDebt) {
  TokenBucket bucket(1000, 100);
  EXPECT_TRUE(bucket.try_take(kStart, 1000));
  EXPECT_EQ(bucket.tokens(), -900.0);
  // 900 tokens take exactly 0.9 s; positive needs one nano-token more.
  EXPECT_EQ(bucket.nanos_until_positive(kStart), 900 * kMs + 1);
  EXPECT_FALSE(bucket.has_tokens(kStart + 900 * kMs));
  EXPECT_EQ(bucket.nanos_until_positive(kStart + 900 * kMs), 1);
  EXPECT_TRUE(bucket.has_tokens(kStart + 900 * kMs + 1));
  EXPECT_EQ(bucket.nanos_until_positive(kStart + 900 * kMs + 1), 0);
}

TEST(TokenBucket, RefillStopsAtCapacity) {
  TokenBucket bucket(1000, 500);
  EXPECT_TRUE(bucket.try_take(kStart, 500));
  EXPECT_TRUE(bucket.has_tokens(kStart + 100 * kSec));
  EXPECT_EQ(bucket.tokens(), 500.0);
}

TEST(TokenBucket, FractionalRateRefillsWithoutDrift) {
  // 0.3 tokens/s refilled in 1 ms steps (0.0003 each, not exact in binary
  // floating point): after 10 s exactly 3 tokens are back.
  TokenBucket bucket(0.3, 10);
  bucket.try_take(kStart, 10);
  for (int i = 1; i <= 10'000; ++i) bucket.has_tokens(kStart + i * kMs);
  EXPECT_EQ(bucket.tokens(), 3.0);
}

TEST(TokenBucket, SameRefillWhateverTheCallPattern) {
  TokenBucket often(7, 100), once(7, 100);
  often.charge(100);
  once.charge(100);
  once.has_tokens(kStart);
  often.has_tokens(kStart);
  for (int64_t t = kStart; t <= kStart + 3 * kSec; t += 333'333) often.has_tokens(t);
  once.has_tokens(kStart + 3 * kSec);
  often.has_tokens(kStart + 3 * kSec);
  EXPECT_EQ(often.tokens(), once.tokens());
  EXPECT_EQ(once.tokens(), 21.0);
}

TEST(TokenBucket, ClockSteppingBackAddsNothing) {
  TokenBucket bucket(1000, 1000);
  bucket.try_take(kStart + kSec, 1000);
  EXPECT_FALSE(bucket.has_tokens(kStart));
  EXPECT_FALSE(bucket.has_tokens(kStart + kSec));
  EXPECT_TRUE(bucket.has_tokens(kStart + kSec + kMs));
  EXPECT_EQ(bucket.tokens(), 1.0);
}

TEST(TokenBucket, HugeValuesAndLongIdleStayInRange) {
  TokenBucket bucket(1e18, 1e18);  // clamped to 1e15
  EXPECT_TRUE(bucket.try_take(0, UINT64_MAX));
  EXPECT_EQ(bucket.tokens(), 0.0);
  EXPECT_TRUE(bucket.has_tokens(INT64_MAX));
  EXPECT_EQ(bucket.tokens(), 1e15);
}

// Refill is compared by multiplication up to 1e14 ns since the last call
// and by division beyond: both must give the same tokens.
TEST(TokenBucket, LongIdleRefillsAsShortStepsDo) {
  for (const int64_t idle : {int64_t{99'999'999'999'999}, int64_t{100'000'000'000'000},
                             int64_t{100'000'000'000'001}, int64_t{300'000'000'000'000}}) {
    // 1e-6 tokens/s: a day and more of idle refills only a fraction of a token.
    TokenBucket slow(1e-6, 1), stepped(1e-6, 1);
    slow.try_take(kStart, 1);
    stepped.try_take(kStart, 1);
    slow.has_tokens(kStart + idle);
    for (int i = 1; i <= 4; ++i) stepped.has_tokens(kStart + idle / 4 * i);
    stepped.has_tokens(kStart + idle);
    EXPECT_EQ(slow.tokens(), stepped.tokens()) << idle;
    // 1e-6 tokens/s is 1e-6 nano-tokens a nanosecond.
    EXPECT_EQ(slow.tokens(), static_cast<double>(idle / 1'000'000) / 1e9) << idle;
    // A fast bucket is full again after any of these.
    TokenBucket fast(1000, 10);
    fast.try_take(kStart, 1'000'000);
    EXPECT_TRUE(fast.has_tokens(kStart + idle)) << idle;
    EXPECT_EQ(fast.tokens(), 10.0) << idle;
  }
}

// A refill of up to 2^64 (1.8e19) 1e-18 tokens is divided in 64 bits, a
// larger one in 128: at 1e9 tokens/s, steps of 10 ns add 1e19, of 20 ns 2e19.
TEST(TokenBucket, RefillIsTheSameInSmallAndLargeSteps) {
  TokenBucket small_steps(1e9, 1e12), large_steps(1e9, 1e12);
  small_steps.try_take(kStart, 1'000'000'000'000);
  large_steps.try_take(kStart, 1'000'000'000'000);
  for (int64_t t = 10; t <= 1'000'000; t += 10) small_steps.has_tokens(kStart + t);
  for (int64_t t = 20; t <= 1'000'000; t += 20) large_steps.has_tokens(kStart + t);
  EXPECT_EQ(small_steps.tokens(), 1'000'000.0);
  EXPECT_EQ(large_steps.tokens(), 1'000'000.0);
}

TEST(TokenBucket, SustainedFloodGetsWithinTwoPercentOfTheBound) {
  // rate 1 MB/s, burst 10 MB, records of 1..4000 bytes every 100 µs for 60 s.
  const double rate = 1e6, burst = 10e6;
  TokenBucket bucket(rate, burst);
  std::mt19937 rng(42);
  std::uniform_int_distribution<uint64_t> size(1, 4000);
  const int64_t step = 100'000, duration = 60 * kSec;
  uint64_t admitted = 0, admitted_late = 0;
  for (int64_t t = 0; t < duration; t += step) {
    uint64_t cost = size(rng);
    if (bucket.try_take(kStart + t, cost)) {
      admitted += cost;
      if (t >= 30 * kSec) admitted_late += cost;
    }
  }
  const double bound = burst + rate * 60 + 4000;
  EXPECT_LE(admitted, bound);
  EXPECT_GE(admitted, 0.98 * bound);
  // Any later window gets no burst back: at most rate*T + debt + one record.
  EXPECT_LE(admitted_late, rate * 30 + 2 * 4000);
  EXPECT_GE(admitted_late, 0.98 * rate * 30);
}

}  // namespace
}  // namespace logguard

namespace logguard {
namespace {

// dry() answers "no tokens" without refilling until it knows tokens come
// back; it must answer exactly as has_tokens() on a bucket that refills on
// every question, and tokens_at() must see what such a bucket holds.
TEST(TokenBucket, DryAnswersAsABucketRefilledOnEveryQuestion) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 50; ++round) {
    const double rate = 1 + static_cast<double>(rng() % 100'000);
    const double capacity = 1 + static_cast<double>(rng() % 50'000);
    TokenBucket fast(rate, capacity), reference(rate, capacity);
    int64_t now = 1'000'000'000;
    int64_t wait = 0;  // when the reference last said it holds tokens again
    int64_t latest = now;
    for (int i = 0; i < 2000; ++i) {
      if (wait > 0 && rng() % 2 == 0) {
        now += wait - static_cast<int64_t>(rng() % 2);  // right at the edge, or 1 ns before
      } else {
        now += static_cast<int64_t>(rng() % 3'000'000);
        if (rng() % 50 == 0) now -= 1'000'000;  // a clock that steps back a little
      }
      const bool dry = fast.dry(now);
      ASSERT_EQ(dry, !reference.has_tokens(now)) << "round " << round << " step " << i;
      // (After a step back the reference holds a refill the fast bucket skipped:
      // the same again from the next time beyond it.)
      latest = std::max(latest, now);
      if (now == latest) {
        ASSERT_EQ(fast.tokens_at(now), reference.tokens());
      }
      wait = reference.nanos_until_positive(now);
      const uint64_t cost = rng() % 2000;
      if (!dry || rng() % 4 == 0) {  // debt also grows without asking (a line's later chunks)
        fast.charge(cost);
        reference.charge(cost);
      }
    }
  }
}

}  // namespace
}  // namespace logguard
