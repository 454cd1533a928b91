#include "logguard/read_pacer.h"

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

TEST(ReadPacer, AFastStreamWaitsUntilAQuarterOfThePipeWouldFill) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  // 64 KiB arrived in the 10 ms since the pipe was emptied (6.5 MB/s): a
  // quarter of 1 MiB takes 40 ms.
  EXPECT_EQ(pacer.after_turn(1010 * kMs, 1011 * kMs, 64 * 1024, kPipe), 40 * kMs);
  // It settles: 256 KiB in those 40 ms keeps the wait at 40 ms.
  EXPECT_NEAR(pacer.after_turn(1051 * kMs, 1052 * kMs, 256 * 1024, kPipe), 40 * kMs, kMs);
}

TEST(ReadPacer, ThePipeFillingIsMeasuredFromItsLastEmptying) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  // A turn that took 10 ms to write what it took: 64 KiB came in the 1 ms
  // since it ended (65 MB/s), not in the 11 ms since it started.
  pacer.after_turn(1010 * kMs, 1020 * kMs, 100, kPipe);
  EXPECT_EQ(pacer.after_turn(1021 * kMs, 1022 * kMs, 64 * 1024, kPipe), 4 * kMs);
}

TEST(ReadPacer, ASmallTurnRightAfterABigOneKeepsTheFloodsPace) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  EXPECT_EQ(pacer.after_turn(1004 * kMs, 1010 * kMs, 256 * 1024, kPipe), 4 * kMs);  // 65 MB/s
  // The writer had been held by a full pipe: little came in the next 0.3 ms.
  EXPECT_LT(pacer.after_turn(1010300000, 1010400000, 3000, kPipe), 5 * kMs);
  // 400 ms later the remembered rate has decayed to 0.76 of it: 5.25 ms.
  EXPECT_NEAR(pacer.after_turn(1404 * kMs, 1405 * kMs, 100, kPipe), 5.25 * kMs, 0.2 * kMs);
}

TEST(ReadPacer, APipeHalfFullIsReadAtOnce) {
  ReadPacer pacer;
  pacer.after_turn(1000 * kMs, 1000 * kMs, 100, kPipe);
  EXPECT_EQ(pacer.after_turn(1001 * kMs, 1002 * kMs, kPipe / 2, kPipe), 0);
  EXPECT_EQ(pacer.after_turn(1003 * kMs, 1004 * kMs, kPipe, kPipe), 0);
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
