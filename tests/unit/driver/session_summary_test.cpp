// The line a session logs when its container stops.
#include "logguard/driver/session_summary.h"

#include <gtest/gtest.h>

namespace logguard {
namespace {

TEST(SessionSummary, SaysWhatWasReceivedAndWrittenAndThatNothingWasDropped) {
  Limiter::Totals t;
  t.lines_received = t.lines_admitted = 12;
  t.bytes_received = t.bytes_admitted = 1234;
  EXPECT_EQ(describe_totals(t), "received 12 lines (1.234kB), wrote 12, dropped none");
}

TEST(SessionSummary, NamesEachLimitThatDroppedLines) {
  Limiter::Totals t;
  t.lines_received = 1200;
  t.bytes_received = 130000;
  t.lines_admitted = 1000;
  t.lines_dropped = 200;
  t.lines_dropped_by[Limiter::kCauseRate] = 150;
  t.lines_dropped_by[Limiter::kCauseNodeRate] = 45;
  t.lines_dropped_by[Limiter::kCauseWriteError] = 5;
  EXPECT_EQ(describe_totals(t), "received 1200 lines (130kB), wrote 1000, dropped 200 "
                                "(rate 150, node-rate 45, write-error 5)");
}

}  // namespace
}  // namespace logguard
