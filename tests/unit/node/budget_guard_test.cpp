// The budget guard: in auto mode the budget stays between 30 and 50 % of
// the rate the disk takes the write-back's chunks at, while that is known; the write-back is
// paced at the budget; a fixed budget is the operator's.
#include "logguard/node/budget_guard.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

constexpr uint64_t kMB = 1'000'000;

class BudgetGuardTest : public ::testing::Test {
 protected:
  BudgetGuardTest()
      : write_back_(clock_,
                    [this](int, uint64_t, uint64_t length) {
                      clock_.advance(static_cast<int64_t>(static_cast<double>(length) /
                                                          disk_rate_ * 1e9));
                    },
                    [](int) { return true; }) {}

  // The disk takes 20 MB of chunks at disk_rate_: the write-back measures it.
  void measure_the_disk() {
    auto file = write_back_.track(std::make_shared<UniqueFd>(), 0);
    file->wrote(20 * kMB);
    while (write_back_.step() == 0) {
    }
  }

  testing::FakeFileSystem fs_;
  FakeClock clock_;
  double disk_rate_ = 20e6;
  WriteBack write_back_;
};

TEST_F(BudgetGuardTest, AutoKeepsTheBudgetWithinSharesOfWhatTheDiskTakes) {
  NodeSettings settings;  // auto, ceiling 256 MB/s
  BudgetGuard guard(settings, "/logs", fs_, write_back_, clock_, nullptr);
  EXPECT_EQ(guard.budget().rate(), 256e6);  // open until the disk is known
  measure_the_disk();
  guard.tick(clock_.monotonic_nanos());
  EXPECT_DOUBLE_EQ(guard.budget().rate(), 0.5 * write_back_.service_rate());
  EXPECT_NEAR(write_back_.service_rate(), 20e6, 0.5e6);
}

// Measured while something else held the disk: once the measurement is old,
// it no longer holds the budget down.
TEST_F(BudgetGuardTest, AStaleMeasurementNoLongerBoundsTheBudget) {
  NodeSettings settings;
  BudgetGuard guard(settings, "/logs", fs_, write_back_, clock_, nullptr);
  disk_rate_ = 2e6;
  measure_the_disk();
  guard.tick(clock_.monotonic_nanos());
  EXPECT_NEAR(guard.budget().rate(), 1e6, 0.1e6);
  for (int i = 0; i < 200; ++i) {  // 20 s of quick probes, nothing measured
    clock_.advance(NodeBudget::kIntervalNanos);
    guard.tick(clock_.monotonic_nanos());
  }
  EXPECT_GT(guard.budget().rate(), 20e6);
}

TEST_F(BudgetGuardTest, AFixedBudgetIsBoundedOnlyByTheDiskForTheShares) {
  NodeSettings settings;
  settings.rate_mode = NodeSettings::RateMode::kFixed;
  settings.rate = 50e6;
  BudgetGuard guard(settings, "/logs", fs_, write_back_, clock_, nullptr);
  measure_the_disk();
  guard.tick(clock_.monotonic_nanos());
  // Shares of what the node sustains: the disk is slower than the setting.
  EXPECT_NEAR(guard.budget().rate(), 20e6, 0.5e6);
}

}  // namespace
}  // namespace logguard
