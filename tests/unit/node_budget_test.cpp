// The node budget: water-filling, fair shares among floods, quiet writers
// never held back, the sum bounded. Simulated time, 1 ms steps.
#include "logguard/node_budget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <numeric>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr uint64_t kRecord = 160;

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

// Drives writers against one budget: each flood offers a record whenever its
// last one was admitted, up to `per_ms` records a millisecond; quiet writers
// offer one record every `quiet_every` ms.
struct Simulation {
  explicit Simulation(double rate) : budget(NodeBudget::create(rate, now)) {}

  struct Writer {
    std::shared_ptr<NodeBudget::Share> share;
    bool flooding = true;
    int quiet_every = 0;  // > 0: a quiet writer
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

  void run(int64_t nanos, int per_ms = 200) {
    for (int64_t end = now + nanos; now < end; now += kMs) {
      if ((now - start) % NodeBudget::kIntervalNanos == 0) budget->rebalance(now);
      for (auto& w : writers) {
        if (!w.flooding) continue;
        if (w.quiet_every > 0) {
          if ((now / kMs) % w.quiet_every == 0) offer(w);
          continue;
        }
        for (int i = 0; i < per_ms && offer(w); ++i) {
        }
      }
    }
  }

  bool offer(Writer& w) {
    bool ok = w.share->admit(now, kRecord).admitted;
    (ok ? w.admitted : w.refused) += kRecord;
    return ok;
  }

  int64_t start = 7 * kSecond;
  int64_t now = start;
  std::shared_ptr<NodeBudget> budget;
  std::deque<Writer> writers;
};

TEST(NodeBudget, FloodsSplitTheBudgetEvenly) {
  for (int n : {2, 4, 20}) {
    SCOPED_TRACE(std::to_string(n) + " floods");
    const double rate = 4e6;
    Simulation sim(rate);
    for (int i = 0; i < n; ++i) sim.add_flood();
    sim.run(10 * kSecond);
    uint64_t total = 0;
    for (auto& w : sim.writers) total += w.admitted;
    const double mean = static_cast<double>(total) / n;
    for (auto& w : sim.writers) {
      EXPECT_NEAR(static_cast<double>(w.admitted), mean, 0.15 * mean);
    }
    // The sum stays within the budget plus its small bursts.
    EXPECT_LE(static_cast<double>(total), rate * 10 + 0.5 * rate);
    EXPECT_GE(static_cast<double>(total), rate * 10 * 0.9);
  }
}

TEST(NodeBudget, AQuietWriterIsNeverHeldBack) {
  const double rate = 4e6;
  Simulation sim(rate);
  for (int i = 0; i < 8; ++i) sim.add_flood();
  // 160 bytes every 2 ms = 80 kB/s, well below the fair share of 4e6 / 9.
  Simulation::Writer& quiet = sim.add_quiet(2);
  sim.run(10 * kSecond);
  EXPECT_EQ(quiet.refused, 0u);
  EXPECT_GT(quiet.admitted, 700'000u);
}

TEST(NodeBudget, ManyFloodsStartingAtOnceStayWithinTheBudget) {
  const double rate = 20e6;
  Simulation sim(rate);
  for (int i = 0; i < 20; ++i) sim.add_flood();
  sim.run(300 * kMs, 2000);  // 20 x 320 MB/s offered
  uint64_t total = 0;
  for (auto& w : sim.writers) total += w.admitted;
  // 0.3 s of budget plus the node burst and the quiet writers' overdraft.
  EXPECT_LE(static_cast<double>(total), rate * 0.3 + rate * 0.15 + 20 * 16 * 1024);
}

TEST(NodeBudget, AFloodThatStopsGivesItsShareBackAtOnce) {
  const double rate = 4e6;
  Simulation sim(rate);
  Simulation::Writer& a = sim.add_flood();
  Simulation::Writer& b = sim.add_flood();
  sim.run(2 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted), 4e6, 0.4e6);
  b.flooding = false;
  const uint64_t before = a.admitted;
  sim.run(200 * kMs);  // two rebalances later a has the whole budget
  const uint64_t mid = a.admitted;
  sim.run(1 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted - mid), rate, 0.1 * rate);
  EXPECT_GT(mid - before, 0u);
}

TEST(NodeBudget, ALoneWriterMayUseTheWholeBudgetAndNoMore) {
  const double rate = 4e6;
  Simulation sim(rate);
  Simulation::Writer& a = sim.add_flood();
  sim.run(5 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted), 5 * rate, 0.05 * 5 * rate);
}

TEST(NodeBudget, WithoutABudgetEverythingIsAdmitted) {
  Simulation sim(0);
  Simulation::Writer& a = sim.add_flood();
  sim.run(100 * kMs);
  EXPECT_EQ(a.refused, 0u);
  EXPECT_EQ(sim.budget->bytes_used(), a.admitted);
}

TEST(NodeBudget, ChargedBytesCountAndPutTheWriterInDebt) {
  const double rate = 1e6;
  Simulation sim(rate);
  auto share = sim.budget->join("compressor", sim.now);
  share->charge(sim.now, 2'000'000);  // wrote 2 MB without asking
  EXPECT_EQ(sim.budget->bytes_used(), 2'000'000u);
  const int64_t wait = share->nanos_until_clear(sim.now);
  EXPECT_GT(wait, 1 * kSecond);  // the debt is paid back at the budget's rate
  EXPECT_FALSE(share->admit(sim.now, kRecord).admitted);
  EXPECT_EQ(share->nanos_until_clear(sim.now + wait + kMs), 0);
}

TEST(NodeBudget, RaisingTheRateRaisesWhatFloodsGet) {
  Simulation sim(2e6);
  Simulation::Writer& a = sim.add_flood();
  sim.add_flood();
  sim.run(1 * kSecond);
  sim.budget->set_rate(8e6, sim.now);
  const uint64_t before = a.admitted;
  sim.run(2 * kSecond);
  EXPECT_NEAR(static_cast<double>(a.admitted - before), 8e6, 0.8e6);
}

}  // namespace
}  // namespace logguard
