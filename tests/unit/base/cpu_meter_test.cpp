#include "logguard/base/cpu_meter.h"

#include <gtest/gtest.h>

#include "host_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

// Niced tasks (a build at nice 19 beside the engine) count as spare: the
// compressor yields to the engine, not to work that yields to everyone.
TEST(CpuMeter, SpareIsNicePlusIdlePlusIowaitOfTheFirstLine) {
  const std::string stat =
      "cpu  100 5 50 1000 23 7 3 0 0 0\n"
      "cpu0 50 2 25 500 11 3 1 0 0 0\n"
      "intr 12345 0 0\n";
  EXPECT_EQ(spare_nanos_from_proc_stat(stat, 100), 10'280'000'000);
  EXPECT_EQ(spare_nanos_from_proc_stat(stat, 1000), 1'028'000'000);
  // Ticks of many CPUs over years (10^11 ticks, 10^18 ns) are not multiplied past int64.
  EXPECT_EQ(spare_nanos_from_proc_stat("cpu  1 1 1 100000000000 1 0\n", 100),
            1'000'000'000'020'000'000);
}

TEST(CpuMeter, RefusesWhatIsNotTheTotalLine) {
  for (const std::string bad : {"", "cpu0 1 2 3 4 5\n", "cpu  1 2 3 4\n", "cpu  1 2 x 4 5\n",
                                "intr 1 2 3\ncpu  1 2 3 4 5\n", "cpu  -1 2 3 4 5\n"}) {
    EXPECT_EQ(spare_nanos_from_proc_stat(bad, 100), std::nullopt) << bad;
  }
  EXPECT_EQ(spare_nanos_from_proc_stat("cpu  1 2 3 4 5\n", 0), std::nullopt);
}

TEST(CpuMeter, ReadsThisNode) {
  ProcCpuMeter meter(testing::host_file_system(), testing::real_clock());
  const std::optional<CpuSample> first = meter.sample();
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(first->spare_nanos, 0);  // a node that ran this far was idle at some point
  const std::optional<CpuSample> later = meter.sample();
  ASSERT_TRUE(later.has_value());
  EXPECT_GE(later->at_nanos, first->at_nanos);
  EXPECT_GE(later->spare_nanos, first->spare_nanos);
}

}  // namespace
}  // namespace logguard
