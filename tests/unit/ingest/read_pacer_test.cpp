#include "logguard/ingest/read_pacer.h"

#include <gtest/gtest.h>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr size_t kPipe = 1 << 20;

TEST(ReadPacer, AStreamThatSpeaksAfterAQuietIsLookedAtAgainSoon) {
  ReadPacer pacer;
  EXPECT_EQ(pacer.after_turn(1000 * kMs, 1001 * kMs, 100, kPipe), ReadPacer::kWakeGatherNanos);
  // Quiet for more than twice the longest gather: it may be a burst starting.
  const int64_t later = 1001 * kMs + 2 * ReadPacer::kMaxGatherNanos + kMs;
  EXPECT_EQ(pacer.after_turn(later, later + kMs, 100, kPipe), ReadPacer::kWakeGatherNanos);
}

TEST(ReadPacer, ASlowStreamWaitsTheLongestGather) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1001 * kMs, 100, kPipe);
  // 10 lines of 100 bytes a second: far from a quarter of the pipe.
  EXPECT_EQ(pacer.after_turn(1100 * kMs, 1101 * kMs, 100, kPipe), ReadPacer::kMaxGatherNanos);
  EXPECT_EQ(pacer.after_turn(1501 * kMs, 1502 * kMs, 400, kPipe), ReadPacer::kMaxGatherNanos);
}

TEST(ReadPacer, AFastStreamWaitsUntilHalfOfALargePipeWouldFill) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  // 64 KiB arrived in the 10 ms since the pipe was emptied (6.5 MB/s): half
  // of 1 MiB takes 80 ms.
  EXPECT_EQ(pacer.after_turn(1010 * kMs, 1011 * kMs, 64 * 1024, kPipe), 80 * kMs);
  // It settles: 512 KiB in those 80 ms keeps the wait at 80 ms.
  EXPECT_NEAR(pacer.after_turn(1091 * kMs, 1092 * kMs, 512 * 1024, kPipe), 80 * kMs, kMs);
}

TEST(ReadPacer, ASmallPipeIsLetFillAQuarter) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe / 2);
  // 6.5 MB/s: a quarter of 512 KiB takes 20 ms.
  EXPECT_EQ(pacer.after_turn(1010 * kMs, 1011 * kMs, 64 * 1024, kPipe / 2), 20 * kMs);
}

TEST(ReadPacer, ThePipeFillingIsMeasuredFromItsLastEmptying) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  // Turns that take 10 ms to write what they took: 64 KiB came in the 10 ms
  // since the last one ended (6.5 MB/s), not in the 20 ms since it started.
  pacer.after_turn(1010 * kMs, 1020 * kMs, 64 * 1024, kPipe);
  EXPECT_NEAR(pacer.after_turn(1030 * kMs, 1040 * kMs, 64 * 1024, kPipe), 80 * kMs, kMs);
}

TEST(ReadPacer, ABurstOfTheEngineDoesNotSetThePace) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  // A flood at 26 MB/s: 512 KiB every 20 ms.
  int64_t t = 1000 * kMs;
  for (int i = 0; i < 20; ++i) {
    t += 20 * kMs;
    pacer.after_turn(t, t, 512 * 1024, kPipe);
  }
  // The engine wrote 16 KiB within 0.1 ms of the last turn (164 MB/s for
  // that instant): the wait stays near the flood's 20 ms (by that instant's
  // rate it would be 3.2 ms), and so it does after the next regular turn.
  EXPECT_GT(pacer.after_turn(t + kMs / 10, t + kMs / 10, 16 * 1024, kPipe), 18 * kMs);
  EXPECT_NEAR(pacer.after_turn(t + 20 * kMs, t + 20 * kMs, 512 * 1024, kPipe), 20 * kMs, kMs);
}

TEST(ReadPacer, ARateChangeTakesOverWithinAFewHundredMilliseconds) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  int64_t t = 1000 * kMs;
  for (int i = 0; i < 20; ++i) {  // 26 MB/s
    t += 10 * kMs;
    pacer.after_turn(t, t, 256 * 1024, kPipe);
  }
  int64_t gather = 0;
  for (int i = 0; i < 6; ++i) {  // then 1 MB/s: 100 KB per 100 ms
    t += 100 * kMs;
    gather = pacer.after_turn(t, t, 100'000, kPipe);
  }
  EXPECT_GT(gather, 200 * kMs);  // half the pipe at 1 MB/s: 524 ms, at most 400
}

TEST(ReadPacer, AStreamThatWouldFillAQuarterOfItsPipeWithin10MsIsBusy) {
  constexpr size_t kSmall = 64 * 1024;
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kSmall);
  EXPECT_FALSE(pacer.busy());  // a quiet stream's first words
  EXPECT_NEAR(pacer.after_turn(1001 * kMs, 1001 * kMs, 7000, kSmall), 2.34 * kMs, 0.01 * kMs);  // 7 MB/s
  EXPECT_TRUE(pacer.busy());
  // At 100 kB/s it is not.
  ReadPacer slow;
  slow.after_turn(1000 * kMs, 1000 * kMs, 100, kSmall);
  slow.after_turn(1100 * kMs, 1100 * kMs, 10'000, kSmall);
  EXPECT_FALSE(slow.busy());
  // A turn that finds the pipe half full is.
  slow.after_turn(1101 * kMs, 1101 * kMs, kSmall / 2, kSmall);
  EXPECT_TRUE(slow.busy());
}

TEST(ReadPacer, APipeFilledAQuarterBeyondTheAimIsReadAtOnce) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe / 2);
  EXPECT_EQ(pacer.after_turn(1001 * kMs, 1002 * kMs, kPipe / 4, kPipe / 2), 0);  // half
  ReadPacer burst;  // the first turn after a quiet: a burst that filled the pipe
  EXPECT_EQ(burst.after_turn(1000 * kMs, 1000 * kMs, kPipe / 2, kPipe / 2), 0);
  EXPECT_TRUE(burst.busy());
  ReadPacer large;
  large.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  EXPECT_GT(large.after_turn(1001 * kMs, 1002 * kMs, kPipe / 2, kPipe), 0);  // its aim
  EXPECT_EQ(large.after_turn(1003 * kMs, 1004 * kMs, kPipe / 4 * 3, kPipe), 0);
  EXPECT_EQ(large.after_turn(1005 * kMs, 1006 * kMs, kPipe, kPipe), 0);
}

TEST(ReadPacer, NothingTakenMeansNoWait) {
  ReadPacer pacer;
  EXPECT_EQ(pacer.after_turn(1000 * kMs, 1000 * kMs, 0, kPipe), 0);
}

TEST(ReadPacer, AFollowedStreamGathersLessLong) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe, ReadPacer::kFollowedGatherNanos);
  EXPECT_EQ(pacer.after_turn(1010 * kMs, 1010 * kMs, 100, kPipe, ReadPacer::kFollowedGatherNanos),
            ReadPacer::kFollowedGatherNanos);
}

}  // namespace
}  // namespace logguard
