// The write controller against a simulated disk whose write latency rises
// with the rate written to it: it must settle below the disk's capacity and
// recover when the disk gets faster. 100 ms ticks, a probe every 250 ms.
#include "logguard/node/write_controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;

// A disk that writes `capacity` bytes per second; what is written faster
// waits in its queue, and a probe waits behind the queue.
struct Disk {
  double capacity;
  double queue = 0;  // bytes
  int64_t latency(double base_ms = 3) const {
    return static_cast<int64_t>((base_ms / 1e3 + queue / capacity) * 1e9);
  }
  void write(double bytes, double seconds) {
    queue = std::max(0.0, queue + bytes - capacity * seconds);
  }
};

struct Trace {
  std::vector<double> rates;
  std::vector<int64_t> latencies;
  double mean_rate() const {
    double sum = 0;
    for (double r : rates) sum += r;
    return sum / static_cast<double>(rates.size());
  }
  int64_t p99_latency() const {
    auto sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() * 99 / 100];
  }
};

// `seconds` of a flood that uses all of the budget.
Trace simulate(WriteController& c, Disk& disk, int64_t& now, int seconds, double demand = 1e12) {
  Trace run;
  for (int tick = 0; tick < seconds * 10; ++tick) {
    now += 100 * kMs;
    const double used = std::min(c.rate(), demand);
    disk.write(used * 0.1, 0.1);
    if (tick % 2 == 0) {  // a probe every 200 ms
      c.on_probe(now, disk.latency());
      run.latencies.push_back(disk.latency());
    }
    c.on_tick(now, 0);
    run.rates.push_back(used);
  }
  return run;
}

WriteControllerConfig config(double ceiling = 256e6, double floor = 1e6) {
  return {floor, ceiling, 50 * kMs};
}

TEST(WriteController, StartsOpen) {
  WriteController c(config());
  EXPECT_EQ(c.rate(), 256e6);
}

TEST(WriteController, ASingleSlowProbeDoesNotCutTwoInTheWindowDo) {
  WriteController c(config());
  int64_t now = 1'000'000'000;
  c.on_probe(now, 3 * kMs);
  c.on_probe(now += 200 * kMs, 400 * kMs);  // one slow fdatasync: a journal commit, say
  c.on_probe(now += 200 * kMs, 3 * kMs);
  EXPECT_EQ(c.rate(), 256e6);
  c.on_probe(now += 200 * kMs, 100 * kMs);  // a second one within 2 s: the disk is behind
  EXPECT_EQ(c.rate(), 128e6);               // cut by target / latency (100 ms: a half)
}

TEST(WriteController, SlowProbesFartherApartThanTheWindowDoNotCut) {
  WriteController c(config());
  int64_t now = 1'000'000'000;
  for (int i = 0; i < 10; ++i) {
    c.on_probe(now += 2500 * kMs, 300 * kMs);  // ext4's commit every few seconds
    c.on_tick(now, 0);
  }
  EXPECT_EQ(c.rate(), 256e6);
}

// Probes between half the target and the target: no cut, and the budget a
// cut left grows back (it grew only under half the target, and every cut
// stuck on such a disk).
TEST(WriteController, ProbesUnderTheTargetLetACutBudgetGrowBack) {
  WriteController c(config(64e6));
  int64_t now = 1'000'000'000;
  c.on_probe(now, 60 * kMs);
  c.on_probe(now += 200 * kMs, 60 * kMs);
  ASSERT_EQ(c.rate(), 32e6);
  for (int tick = 0; tick < 300; ++tick) {  // 30 s of probes at 35 ms
    now += 100 * kMs;
    if (tick % 2 == 0) c.on_probe(now, 35 * kMs);
    c.on_tick(now, 0);
  }
  EXPECT_EQ(c.rate(), 64e6);
}

// The node guard narrows the range to shares of what the disk takes: the
// budget neither leaves it by growing nor by cuts, however slow the probes.
TEST(WriteController, StaysWithinTheBoundsItIsGiven) {
  WriteController c(config());
  c.set_bounds(10e6, 16e6);
  EXPECT_EQ(c.rate(), 16e6);  // moved into them
  // The log says why: not the latency (none yet), the disk's share.
  EXPECT_NE(c.take_report().value_or("").find("at most 16MB/s, a share of what the disk takes"),
            std::string::npos);
  int64_t now = 1'000'000'000;
  for (int i = 0; i < 20; ++i) c.on_probe(now += 200 * kMs, 5000 * kMs);
  EXPECT_EQ(c.rate(), 10e6);
  c.set_bounds(0, 1e12);  // never beyond the configured ones
  EXPECT_EQ(c.rate(), 10e6);
  for (int i = 0; i < 400; ++i) c.on_tick(now += 100 * kMs, 0);
  EXPECT_EQ(c.rate(), 256e6);
}

TEST(WriteController, SettlesBelowTheDisksCapacity) {
  WriteController c(config());
  Disk disk{20e6};
  int64_t now = 1'000'000'000;
  simulate(c, disk, now, 10);  // converge
  Trace run = simulate(c, disk, now, 60);
  EXPECT_LE(run.mean_rate(), 20e6);
  EXPECT_GE(run.mean_rate(), 0.4 * 20e6);  // the guard does not starve logging
  EXPECT_LT(run.p99_latency(), 300 * kMs);
}

TEST(WriteController, CutsWhenTheDiskSlowsAndRecoversInSeconds) {
  WriteController c(config());
  Disk disk{100e6};
  int64_t now = 1'000'000'000;
  simulate(c, disk, now, 20);
  disk.capacity = 5e6;  // something else now uses the disk
  Trace slow = simulate(c, disk, now, 30);
  EXPECT_LE(slow.mean_rate(), 5e6 * 1.5);
  disk.capacity = 1e12;  // and is gone
  disk.queue = 0;
  simulate(c, disk, now, 15);  // seconds, not minutes
  EXPECT_EQ(c.rate(), 256e6);
}

TEST(WriteController, StaysBetweenFloorAndCeiling) {
  WriteController c(config(24e6, 2e6));
  Disk tiny{0.1e6};
  int64_t now = 1'000'000'000;
  simulate(c, tiny, now, 30);
  EXPECT_EQ(c.rate(), 2e6);
  Disk huge{1e12};
  simulate(c, huge, now, 60);
  EXPECT_EQ(c.rate(), 24e6);
}

TEST(WriteController, AStalledProbeCutsBeforeItReturns) {
  WriteController c(config(16e6));
  int64_t now = 1'000'000'000;
  c.on_probe(now, 5 * kMs);
  c.on_tick(now + 100 * kMs, 150 * kMs);  // slow, not stalled
  EXPECT_EQ(c.rate(), 16e6);
  c.on_tick(now + 200 * kMs, 250 * kMs);  // in flight for over 4x the target
  EXPECT_EQ(c.rate(), 3.2e6);             // cut by target / latency
  // Once per hold period, however long the stall lasts.
  c.on_tick(now + 300 * kMs, 350 * kMs);
  EXPECT_EQ(c.rate(), 3.2e6);
  c.on_tick(now + 3300 * kMs, 3350 * kMs);
  EXPECT_EQ(c.rate(), 1e6);  // an eighth at most, down to the floor
}

TEST(WriteController, CutsDeeperTheFurtherOverTheTarget) {
  WriteController c(config(64e6));
  int64_t now = 1'000'000'000;
  c.on_probe(now, 60 * kMs);
  c.on_probe(now + 200 * kMs, 60 * kMs);  // just over: halved
  EXPECT_EQ(c.rate(), 32e6);
  c.on_probe(now + 3000 * kMs, 200 * kMs);
  c.on_probe(now + 3200 * kMs, 200 * kMs);  // 4x over: a quarter left
  EXPECT_EQ(c.rate(), 8e6);
  c.on_probe(now + 6000 * kMs, 5000 * kMs);
  c.on_probe(now + 6200 * kMs, 5000 * kMs);  // a stall: an eighth left at most
  EXPECT_EQ(c.rate(), 1e6);
}

TEST(WriteController, ReportsMovesOfMoreThanHalfOnce) {
  WriteController c(config(16e6));
  int64_t now = 1'000'000'000;
  EXPECT_FALSE(c.take_report());
  c.on_probe(now, 60 * kMs);
  c.on_probe(now + 200 * kMs, 60 * kMs);  // 16 -> 8: exactly half, not more
  EXPECT_FALSE(c.take_report());
  c.on_probe(now + 3000 * kMs, 70 * kMs);
  c.on_probe(now + 3200 * kMs, 70 * kMs);  // -> 4
  auto report = c.take_report();
  ASSERT_TRUE(report);
  EXPECT_NE(report->find("cut from 16MB/s to 4MB/s"), std::string::npos) << *report;
  EXPECT_NE(report->find("70 ms"), std::string::npos) << *report;
  EXPECT_FALSE(c.take_report());
}

}  // namespace
}  // namespace logguard
