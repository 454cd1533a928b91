// The node budget: bursts taken whole while the backlog is calm, fair shares
// among floods once it fills, quiet writers never held back, the backlog
// bounded by the allowance. Simulated time, 1 ms steps, with a write-back
// that drains the backlog at a given rate.
#include "logguard/node/node_budget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <numeric>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr uint64_t kRecord = 160;
constexpr uint64_t kMB = 1'000'000;

TEST(FairLevel, WaterFillsTheDemands) {
  const double r = 100;
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({-1, -1, -1, -1}, r), 25);
  // Small demands are served in full, the floods split the rest.
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({10, -1, -1}, r), 45);
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({10, 20, 60, -1}, r), 35);
  // A demand above the level is capped at it like a flood.
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({10, 80, -1}, r), 45);
  // Everyone served with room to spare: no one is held back.
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({10, 20}, r), r);
  EXPECT_DOUBLE_EQ(NodeBudget::fair_level_for({}, r), r);
  // The small demands take everything: the level keeps a floor.
  EXPECT_GT(NodeBudget::fair_level_for({99.9, -1}, r), 0);
}

// Drives writers against one budget whose backlog a write-back drains at
// `drain` bytes a second: each flood offers records while they are admitted,
// up to `per_ms` a millisecond; quiet writers offer one every `quiet_every`
// ms; a burst offers its bytes as fast as they are admitted.
struct Simulation {
  explicit Simulation(double rate, uint64_t allowance = 64 * kMB, double drain = -1)
      : budget(NodeBudget::create(rate, allowance, backlog, now)),
        drain(drain < 0 ? rate : drain) {}

  struct Writer {
    std::shared_ptr<NodeBudget::Share> share;
    bool flooding = true;
    int quiet_every = 0;     // > 0: a quiet writer
    uint64_t to_write = 0;   // > 0: a burst of this many bytes left
    uint64_t admitted = 0;
    uint64_t refused = 0;
  };

  Writer& add_flood() {
    writers.push_back({budget->join("flood", now)});
    return writers.back();
  }
  Writer& add_quiet(int every_ms) {
    writers.push_back({budget->join("quiet", now), true, every_ms});
    return writers.back();
  }
  Writer& add_burst(uint64_t bytes) {
    writers.push_back({budget->join("burst", now), true, 0, bytes});
    return writers.back();
  }

  void run(int64_t nanos, int per_ms = 200) {
    for (int64_t end = now + nanos; now < end; now += kMs) {
      if ((now - start) % NodeBudget::kIntervalNanos == 0) budget->rebalance(now);
      const uint64_t drained = static_cast<uint64_t>(drain / 1000);
      backlog -= std::min<uint64_t>(backlog, drained);
      for (auto& w : writers) {
        if (!w.flooding) continue;
        if (w.quiet_every > 0) {
          if ((now / kMs) % w.quiet_every == 0) offer(w);
          continue;
        }
        const int records = w.to_write > 0 ? 1'000'000 : per_ms;
        for (int i = 0; i < records && offer(w); ++i) {
          if (w.to_write > 0 && (w.to_write -= std::min(w.to_write, kRecord)) == 0) {
            w.flooding = false;
            break;
          }
        }
      }
      max_backlog = std::max<uint64_t>(max_backlog, backlog);
    }
  }

  bool offer(Writer& w) {
    bool ok = w.share->admit(now, kRecord).admitted;
    (ok ? w.admitted : w.refused) += kRecord;
    if (ok) backlog += kRecord;
    return ok;
  }

  uint64_t total() const {
    uint64_t sum = 0;
    for (auto& w : writers) sum += w.admitted;
    return sum;
  }

  int64_t start = 7 * kSecond;
  int64_t now = start;
  std::atomic<uint64_t> backlog{0};
  std::shared_ptr<NodeBudget> budget;
  double drain;
  uint64_t max_backlog = 0;
  std::deque<Writer> writers;
};

TEST(NodeBudget, ABurstWhileTheBacklogIsCalmIsTakenWhole) {
  // A slow disk's budget, 2 MB/s, and a burst far faster than that.
  Simulation sim(2e6);
  Simulation::Writer& burst = sim.add_burst(8 * kMB);
  sim.run(10 * kMs);
  EXPECT_EQ(burst.admitted, 8 * kMB);
  EXPECT_EQ(burst.refused, 0u);
}

TEST(NodeBudget, TenBurstsAtOnceAreTakenWhole) {
  Simulation sim(2e6);
  std::vector<Simulation::Writer*> bursts;
  for (int i = 0; i < 10; ++i) bursts.push_back(&sim.add_burst(1'400'000));
  sim.run(50 * kMs);
  for (auto* b : bursts) {
    EXPECT_EQ(b->admitted, 1'400'000u);
    EXPECT_EQ(b->refused, 0u);
  }
}

TEST(NodeBudget, FloodsSplitWhatTheDiskTakesEvenly) {
  for (int n : {2, 4, 20}) {
    SCOPED_TRACE(std::to_string(n) + " floods");
    const double rate = 4e6;
    Simulation sim(rate, 8 * kMB);
    for (int i = 0; i < n; ++i) sim.add_flood();
    sim.run(2 * kSecond);  // the backlog fills; from here on the rate rules
    std::vector<uint64_t> before;
    for (auto& w : sim.writers) before.push_back(w.admitted);
    const uint64_t total_before = sim.total();
    sim.run(10 * kSecond);
    const double mean = static_cast<double>(sim.total() - total_before) / n;
    for (size_t i = 0; i < sim.writers.size(); ++i) {
      EXPECT_NEAR(static_cast<double>(sim.writers[i].admitted - before[i]), mean, 0.15 * mean);
    }
    // Together they get what the disk drains, no more.
    EXPECT_NEAR(static_cast<double>(sim.total() - total_before), rate * 10, 0.1 * rate * 10);
  }
}

// The kernel writes a flooded file's whole backlog out at once 30 s after it
// was first dirtied: a flood must not keep the allowance full that long.
TEST(NodeBudget, AFloodLongerThanABurstDrainsTheBacklogToTheLowWater) {
  const double rate = 10e6;
  Simulation sim(rate, 64 * kMB);
  for (int i = 0; i < 4; ++i) sim.add_flood();
  sim.run(3 * kSecond, 2000);
  EXPECT_FALSE(sim.budget->sustained());  // a burst so far: taken whole
  EXPECT_GE(sim.backlog.load(), 30 * kMB);
  sim.run(20 * kSecond, 2000);
  EXPECT_TRUE(sim.budget->sustained());
  const uint64_t low = static_cast<uint64_t>(rate * NodeBudget::kLowWaterSeconds);
  EXPECT_LE(sim.backlog.load(), 2 * low + 0.2 * rate);
  // Then the floods get the rate again, evenly.
  std::vector<uint64_t> before;
  for (auto& w : sim.writers) before.push_back(w.admitted);
  const uint64_t total_before = sim.total();
  sim.run(5 * kSecond, 2000);
  EXPECT_NEAR(static_cast<double>(sim.total() - total_before), rate * 5, 0.1 * rate * 5);
  for (size_t i = 0; i < sim.writers.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(sim.writers[i].admitted - before[i]), rate * 5 / 4,
                0.15 * rate * 5 / 4);
  }
  EXPECT_LE(sim.max_backlog, 64 * kMB + 0.05 * rate + kRecord);
}

TEST(NodeBudget, BurstsAreTakenWholeAgainOnceTheFloodsStop) {
  const double rate = 10e6;
  Simulation sim(rate, 64 * kMB);
  for (int i = 0; i < 4; ++i) sim.add_flood();
  sim.run(10 * kSecond, 2000);
  ASSERT_TRUE(sim.budget->sustained());
  for (auto& w : sim.writers) w.flooding = false;
  sim.run(6 * kSecond);
  EXPECT_FALSE(sim.budget->sustained());
  EXPECT_EQ(sim.budget->calm_below(), 32 * kMB);
  Simulation::Writer& burst = sim.add_burst(8 * kMB);
  sim.run(10 * kMs);
  EXPECT_EQ(burst.admitted, 8 * kMB);
  EXPECT_EQ(burst.refused, 0u);
}

TEST(NodeBudget, ABurstSlowToDrainIsNotAFlood) {
  // 8 MB at once on a 2 MB/s budget drains for 4 s: never sustained.
  Simulation sim(2e6, 64 * kMB);
  sim.add_burst(8 * kMB);
  sim.run(6 * kSecond);
  EXPECT_FALSE(sim.budget->sustained());
}

TEST(NodeBudget, TheBacklogStaysWithinTheAllowance) {
  const double rate = 20e6;
  const uint64_t allowance = 16 * kMB;
  Simulation sim(rate, allowance);
  for (int i = 0; i < 20; ++i) sim.add_flood();
  sim.add_quiet(2);
  sim.run(3 * kSecond, 2000);  // 20 x 320 MB/s offered
  // Beyond it only by the quiet writers' margin (50 ms of the rate at most).
  EXPECT_LE(sim.max_backlog, allowance + 0.05 * rate + kRecord);
  EXPECT_GE(sim.max_backlog, allowance / 2);
}

TEST(NodeBudget, ADiskSlowerThanTheBudgetStillBoundsTheBacklog) {
  // The budget says 40 MB/s, the disk drains 5: the allowance holds.
  Simulation sim(40e6, 16 * kMB, 5e6);
  for (int i = 0; i < 4; ++i) sim.add_flood();
  sim.run(5 * kSecond, 2000);
  EXPECT_LE(sim.max_backlog, 16 * kMB + 0.05 * 40e6 + kRecord);
  EXPECT_NEAR(static_cast<double>(sim.total()), 5e6 * 5 + 16e6, 0.1 * (5e6 * 5 + 16e6));
}

TEST(NodeBudget, AQuietWriterIsNeverHeldBack) {
  const double rate = 4e6;
  Simulation sim(rate, 8 * kMB);
  for (int i = 0; i < 8; ++i) sim.add_flood();
  // 160 bytes every 2 ms = 80 kB/s, well below the fair share of 4e6 / 9.
  Simulation::Writer& quiet = sim.add_quiet(2);
  sim.run(10 * kSecond);
  EXPECT_EQ(quiet.refused, 0u);
  EXPECT_GT(quiet.admitted, 700'000u);
}

TEST(NodeBudget, AFloodThatStopsGivesItsShareBackAtOnce) {
  const double rate = 4e6;
  Simulation sim(rate, 8 * kMB);
  Simulation::Writer& a = sim.add_flood();
  Simulation::Writer& b = sim.add_flood();
  sim.run(4 * kSecond);
  b.flooding = false;
  sim.run(200 * kMs);  // two rebalances later a has the whole budget
  const uint64_t mid = a.admitted;
  sim.run(1 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted - mid), rate, 0.1 * rate);
}

TEST(NodeBudget, WithoutABudgetEverythingIsAdmitted) {
  Simulation sim(0);
  Simulation::Writer& a = sim.add_flood();
  sim.run(100 * kMs);
  EXPECT_EQ(a.refused, 0u);
  EXPECT_EQ(sim.budget->bytes_used(), a.admitted);
}

TEST(NodeBudget, TheAllowanceIsAtMostFifteenSecondsOfTheRate) {
  Simulation sim(1e6, 64 * kMB);
  EXPECT_EQ(sim.budget->allowance(), 15 * kMB);
  sim.budget->set_rate(10e6, sim.now);
  EXPECT_EQ(sim.budget->allowance(), 64 * kMB);
}

TEST(NodeBudget, ChargedBytesCountAndPutTheWriterInDebtUnderPressure) {
  const double rate = 1e6;
  Simulation sim(rate, 8 * kMB);
  auto share = sim.budget->join("compressor", sim.now);
  share->charge(sim.now, 2'000'000);  // wrote 2 MB without asking
  EXPECT_EQ(sim.budget->bytes_used(), 2'000'000u);
  EXPECT_EQ(share->nanos_until_clear(sim.now), 0);  // calm: no wait
  sim.backlog = 5 * kMB;                             // pressed: the debt is paid at its share
  const int64_t wait = share->nanos_until_clear(sim.now);
  EXPECT_GT(wait, 1 * kSecond);
  EXPECT_FALSE(share->admit(sim.now, kRecord).admitted);
  EXPECT_EQ(share->nanos_until_clear(sim.now + wait + kMs), 0);
}

TEST(NodeBudget, RaisingTheRateRaisesWhatFloodsGet) {
  Simulation sim(2e6, 4 * kMB);
  Simulation::Writer& a = sim.add_flood();
  sim.add_flood();
  sim.run(3 * kSecond);
  sim.budget->set_rate(8e6, sim.now);
  sim.drain = 8e6;
  const uint64_t before = a.admitted;
  sim.run(2 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted - before), 8e6, 0.8e6);
}

}  // namespace
}  // namespace logguard
