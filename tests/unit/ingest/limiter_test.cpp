#include "logguard/ingest/limiter.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMono0 = 7 * kSec;
constexpr int64_t kWall0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z

using V = Limiter::Verdict;

// A whole line whose record costs `encoded` and whose text is `raw` bytes.
Chunk line(std::string_view stream, size_t encoded, size_t raw = 0) {
  return Chunk{stream, encoded, nullptr, raw ? raw : encoded, true, true};
}
Chunk part(std::string_view stream, size_t encoded, bool starts, bool ends) {
  return Chunk{stream, encoded, nullptr, encoded, starts, ends};
}

LimitOptions byte_limit(double rate, double burst) {
  LimitOptions o;
  o.bytes_per_sec = rate;
  o.burst_bytes = burst;
  return o;
}

LimitOptions line_limit(double rate, double burst) {
  LimitOptions o;
  o.lines_per_sec = rate;
  o.burst_lines = burst;
  return o;
}

// Offers at kMono0 + t; wall time moves with it.
V offer(Limiter& l, const Chunk& c, int64_t t) {
  return l.offer(c, kMono0 + t, kWall0 + t).verdict;
}

std::vector<Notice> collect(Limiter& l, int64_t t, bool ending = false) {
  std::vector<Notice> out;
  l.collect_notices(kMono0 + t, kWall0 + t, ending, out);
  return out;
}

std::string attr(const Notice& n, const std::string& key) {
  for (const auto& [k, v] : n.attrs) {
    if (k == key) return v;
  }
  return "<missing>";
}

TEST(Limiter, UnlimitedAdmitsEverything) {
  Limiter l(LimitOptions{});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(offer(l, line("stdout", 100000), 0), V::kAdmit);
  Limiter::Totals t = l.totals();
  EXPECT_EQ(t.lines_received, 1000u);
  EXPECT_EQ(t.lines_admitted, 1000u);
  EXPECT_EQ(t.bytes_admitted, 100'000'000u);
  EXPECT_EQ(t.lines_dropped, 0u);
}

TEST(Limiter, ByteRateAdmitsExactCount) {
  // Same arithmetic as the bucket: 21 records in the first 20 ms, then one
  // every 100 ms from 101 ms on.
  Limiter l(byte_limit(1000, 2000));
  int admitted = 0;
  for (int i = 0; i < 10'000; ++i)
    admitted += offer(l, line("stdout", 100, 60), i * kMs) == V::kAdmit;
  EXPECT_EQ(admitted, 120);
  Limiter::Totals t = l.totals();
  EXPECT_EQ(t.lines_received, 10'000u);
  EXPECT_EQ(t.lines_admitted, 120u);
  EXPECT_EQ(t.lines_dropped, 9'880u);
  EXPECT_EQ(t.bytes_admitted, 120u * 60);  // raw bytes, not the record size
  EXPECT_EQ(t.bytes_dropped, 9'880u * 60);
}

TEST(Limiter, BurstIsAdmittedAtOnce) {
  Limiter l(byte_limit(1000, 5000));
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += offer(l, line("stdout", 100), 0) == V::kAdmit;
  EXPECT_EQ(admitted, 50);
}

TEST(Limiter, LineRateAdmitsExactCount) {
  // 20 lines of burst, +0.01 per ms: 21 by 20 ms, then at 101, 201 ... 901 ms.
  Limiter l(line_limit(10, 20));
  int admitted = 0;
  for (int i = 0; i < 1000; ++i)
    admitted += offer(l, line("stdout", 1'000'000), i * kMs) == V::kAdmit;
  EXPECT_EQ(admitted, 30);
}

TEST(Limiter, BothBucketsMustHoldTokens) {
  LimitOptions o = byte_limit(1000, 1000);
  o.lines_per_sec = 1;
  o.burst_lines = 1;
  Limiter l(o);
  EXPECT_EQ(offer(l, line("stdout", 10), 0), V::kAdmit);
  EXPECT_EQ(offer(l, line("stdout", 10), 0), V::kDrop);        // lines empty, bytes not
  EXPECT_EQ(offer(l, line("stderr", 2000), kSec), V::kAdmit);  // both refilled
  EXPECT_EQ(offer(l, line("stderr", 10), kSec), V::kDrop);     // both empty
  std::vector<Notice> n = collect(l, 0, true);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(attr(n[0], "logguard.limit"), "line-rate");
  EXPECT_EQ(attr(n[1], "logguard.limit"), "rate,line-rate");
  EXPECT_EQ(n[1].text.substr(n[1].text.find("; limit")),
            "; limit rate=1kB/s burst=1kB, line-rate=1/s line-burst=1");
}

TEST(Limiter, SplitLineIsAdmittedWholeAndChargedAsDebt) {
  Limiter l(byte_limit(1000, 1000));
  EXPECT_EQ(offer(l, part("stdout", 16400, true, false), 0), V::kAdmit);
  EXPECT_EQ(offer(l, part("stdout", 16400, false, false), 0), V::kAdmit);
  EXPECT_EQ(offer(l, part("stdout", 200, false, true), 0), V::kAdmit);
  // 1000 - 33000 = -32000 tokens: 32 s until the bucket is positive again.
  EXPECT_EQ(offer(l, line("stdout", 1), 32 * kSec), V::kDrop);
  EXPECT_EQ(offer(l, line("stdout", 1), 32 * kSec + 1), V::kAdmit);
  EXPECT_EQ(l.totals().lines_received, 3u);
  EXPECT_EQ(l.totals().lines_admitted, 2u);
  EXPECT_EQ(l.totals().bytes_admitted, 33'001u);
}

TEST(Limiter, SplitLineIsDroppedWholeWhileOtherStreamInterleaves) {
  Limiter l(byte_limit(1000, 100));
  EXPECT_EQ(offer(l, line("stdout", 5000), 0), V::kAdmit);  // debt 4900
  EXPECT_EQ(offer(l, part("stderr", 16384, true, false), kSec), V::kDrop);
  // Tokens come back, yet the rest of the dropped stderr line stays dropped...
  EXPECT_EQ(offer(l, part("stderr", 16384, false, false), 10 * kSec), V::kDrop);
  // ...while stdout lines in between are decided on their own.
  EXPECT_EQ(offer(l, line("stdout", 10), 10 * kSec), V::kAdmit);
  EXPECT_EQ(offer(l, part("stderr", 0, false, true), 10 * kSec), V::kDrop);
  EXPECT_EQ(offer(l, line("stderr", 10), 20 * kSec), V::kAdmit);
  Limiter::Totals t = l.totals();
  EXPECT_EQ(t.lines_dropped, 1u);
  EXPECT_EQ(t.bytes_dropped, 32'768u);
  std::vector<Notice> n = collect(l, 20 * kSec);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].stream, "stderr");
  EXPECT_EQ(attr(n[0], "logguard.dropped_lines"), "1");
  EXPECT_EQ(attr(n[0], "logguard.dropped_bytes"), "32768");
}

TEST(Limiter, ContinuationWithoutOpenLineIsDecidedAsANewLine) {
  Limiter l(byte_limit(1000, 100));
  EXPECT_EQ(offer(l, part("stdout", 500, false, false), 0), V::kAdmit);
  EXPECT_EQ(offer(l, part("stdout", 500, false, true), 0), V::kAdmit);  // same line
  EXPECT_EQ(offer(l, part("stdout", 10, false, true), 0), V::kDrop);    // a new one
  EXPECT_EQ(l.totals().lines_received, 2u);
}

// Rate 1 B/s with lines of 1 MB: after the first line everything drops.
LimitOptions starved() { return byte_limit(1, 1); }

TEST(Limiter, NoticeEveryTenSecondsDuringARunAndOneSecondAfter) {
  Limiter l(starved());
  std::vector<std::pair<int64_t, Notice>> notices;
  for (int i = 0; i < 25'000; ++i) {
    V v = offer(l, line("stdout", 1'000'000, 101), i * kMs);
    EXPECT_EQ(v, i == 0 ? V::kAdmit : V::kDrop);
    for (Notice& n : collect(l, i * kMs)) notices.emplace_back(i * kMs, std::move(n));
  }
  ASSERT_EQ(l.next_notice_due(), kMono0 + 25'999 * kMs);  // last drop at 24.999 s
  EXPECT_TRUE(collect(l, 25'999 * kMs - 1).empty());
  for (Notice& n : collect(l, 25'999 * kMs)) notices.emplace_back(25'999 * kMs, std::move(n));
  EXPECT_EQ(l.next_notice_due(), std::nullopt);

  ASSERT_EQ(notices.size(), 3u);
  // First drop at 1 ms: reminder at 10.001 s covering drops 1..10001.
  EXPECT_EQ(notices[0].first, 10'001 * kMs);
  EXPECT_EQ(notices[0].second.stream, "stdout");
  EXPECT_EQ(notices[0].second.text,
            "logguard: dropped 10001 lines (1.01 MB) from stdout between "
            "2023-11-14T22:13:20.001Z and 2023-11-14T22:13:30.001Z; limit rate=1B/s burst=1B");
  Attrs want{{"logguard.dropped_bytes", "1010101"},
             {"logguard.dropped_lines", "10001"},
             {"logguard.limit", "rate"},
             {"logguard.since", "2023-11-14T22:13:20.001Z"}};
  EXPECT_EQ(notices[0].second.attrs, want);
  EXPECT_EQ(notices[1].first, 20'002 * kMs);
  EXPECT_EQ(attr(notices[1].second, "logguard.dropped_lines"), "10001");
  EXPECT_EQ(attr(notices[1].second, "logguard.since"), "2023-11-14T22:13:30.002Z");
  EXPECT_EQ(attr(notices[2].second, "logguard.dropped_lines"), "4997");
  EXPECT_EQ(notices[2].second.text,
            "logguard: dropped 4997 lines (504.7 kB) from stdout between "
            "2023-11-14T22:13:40.003Z and 2023-11-14T22:13:44.999Z; limit rate=1B/s burst=1B");
}

TEST(Limiter, NoticeOneSecondAfterTheLastDrop) {
  Limiter l(starved());
  offer(l, line("stdout", 1'000'000), 0);
  EXPECT_EQ(offer(l, line("stdout", 1'000'000, 5), 2 * kSec), V::kDrop);
  EXPECT_EQ(offer(l, line("stdout", 1'000'000, 5), 2500 * kMs), V::kDrop);
  EXPECT_EQ(l.next_notice_due(), kMono0 + 3500 * kMs);
  EXPECT_TRUE(collect(l, 3500 * kMs - 1).empty());
  std::vector<Notice> n = collect(l, 3500 * kMs);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].text,
            "logguard: dropped 2 lines (10 B) from stdout between 2023-11-14T22:13:22Z and "
            "2023-11-14T22:13:22.5Z; limit rate=1B/s burst=1B");
  EXPECT_TRUE(collect(l, 100 * kSec).empty());
}

TEST(Limiter, StreamEndFlushesEveryPendingNoticePerStream) {
  Limiter l(starved());
  offer(l, line("stdout", 1'000'000), 0);
  offer(l, line("stderr", 1, 3), kMs);
  offer(l, line("stdout", 1, 7), 2 * kMs);
  offer(l, line("stderr", 1, 3), 3 * kMs);
  EXPECT_EQ(l.next_notice_due(), kMono0 + 1002 * kMs);  // stdout's last drop + 1 s
  EXPECT_TRUE(collect(l, 4 * kMs).empty());
  std::vector<Notice> n = collect(l, 4 * kMs, true);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].stream, "stdout");
  EXPECT_EQ(n[0].text.rfind("logguard: dropped 1 line (7 B) from stdout between ", 0), 0u);
  EXPECT_EQ(n[1].stream, "stderr");
  EXPECT_EQ(attr(n[1], "logguard.dropped_lines"), "2");
  EXPECT_EQ(attr(n[1], "logguard.dropped_bytes"), "6");
  EXPECT_EQ(l.next_notice_due(), std::nullopt);
}

TEST(Limiter, WithoutDropNoticeOnlyCounts) {
  LimitOptions o = starved();
  o.drop_notice = false;
  Limiter l(o);
  for (int i = 0; i < 100; ++i) offer(l, line("stdout", 1'000'000, 4), i * kSec);
  EXPECT_EQ(l.totals().lines_dropped, 99u);
  EXPECT_EQ(l.totals().bytes_dropped, 396u);
  EXPECT_EQ(l.next_notice_due(), std::nullopt);
  EXPECT_TRUE(collect(l, 200 * kSec, true).empty());
}

TEST(Limiter, BlockModeSaysHowLongToWait) {
  LimitOptions o = byte_limit(1000, 1000);
  o.on_limit = OnLimit::kBlock;
  Limiter l(o);
  EXPECT_EQ(offer(l, line("stdout", 1500), 0), V::kAdmit);  // debt 500 tokens
  Limiter::Decision d = l.offer(line("stdout", 10), kMono0, kWall0);
  EXPECT_EQ(d.verdict, V::kWait);
  EXPECT_EQ(d.wait_nanos, 500 * kMs + 1);
  d = l.offer(line("stdout", 10), kMono0 + 200 * kMs, kWall0);
  EXPECT_EQ(d.verdict, V::kWait);
  EXPECT_EQ(d.wait_nanos, 300 * kMs + 1);
  EXPECT_EQ(offer(l, line("stdout", 10), 500 * kMs + 1), V::kAdmit);
  // Waits count nothing: each line is received once.
  EXPECT_EQ(l.totals().lines_received, 2u);
  EXPECT_EQ(l.totals().lines_dropped, 0u);
}

TEST(Limiter, BlockModeWaitsForTheSlowerBucket) {
  LimitOptions o = byte_limit(1000, 1000);
  o.lines_per_sec = 2;
  o.burst_lines = 1;
  o.on_limit = OnLimit::kBlock;
  Limiter l(o);
  EXPECT_EQ(offer(l, line("stdout", 1200), 0), V::kAdmit);  // bytes -200, lines 0
  EXPECT_EQ(l.offer(line("stdout", 1), kMono0, kWall0).wait_nanos, 200 * kMs + 1);
  EXPECT_EQ(offer(l, line("stdout", 1), 200 * kMs + 1), V::kAdmit);  // bytes ~-1, lines ~-0.6
  // Lines are short by 0.6 tokens less 2e-9 (refilled in that 1 ns): 0.3 s at 2/s.
  EXPECT_EQ(l.offer(line("stdout", 1), kMono0 + 200 * kMs + 1, kWall0).wait_nanos, 300 * kMs);
}

// Reads are paced, so a batch is decided well after the container logged
// it: the buckets refill up to when each line was logged, not to when it is
// decided, or a late batch would get the whole gather's refill for free.
TEST(Limiter, BucketsRefillUpToWhenTheLineWasLogged) {
  Limiter l(line_limit(100, 100));
  int admitted = 0;
  for (int i = 0; i < 5000; ++i) {  // logged within 10 ms, decided 400 ms later
    Chunk c = line("stdout", 10);
    c.logged_mono = kMono0 + i * 2'000;
    admitted += l.offer(c, kMono0 + 400 * kMs + i, kWall0).verdict == V::kAdmit;
  }
  EXPECT_EQ(admitted, 101);  // the burst, and 1 line of 10 ms at 100/s
  Chunk later = line("stdout", 10);
  later.logged_mono = kMono0 + 20 * kMs;  // 10 ms later: one more token
  EXPECT_EQ(l.offer(later, kMono0 + 400 * kMs, kWall0).verdict, V::kAdmit);
  EXPECT_EQ(l.offer(later, kMono0 + 400 * kMs, kWall0).verdict, V::kDrop);
}

TEST(Limiter, ALineLoggedAfterTheDecisionTimeCountsAsDecidedNow) {
  Limiter l(byte_limit(1000, 100));
  EXPECT_EQ(offer(l, line("stdout", 200), 0), V::kAdmit);  // debt 100 tokens
  Chunk c = line("stdout", 10);
  c.logged_mono = kMono0 + 10 * kSec;  // a clock that stepped: no refill beyond now
  EXPECT_EQ(l.offer(c, kMono0 + 50 * kMs, kWall0).verdict, V::kDrop);
  EXPECT_EQ(l.offer(c, kMono0 + 101 * kMs, kWall0).verdict, V::kAdmit);
}

// In block mode the plugin's reading is what is limited: a held line keeps
// its logged time, so waiting must count by the decision's clock.
TEST(Limiter, BlockModeRefillsByTheDecisionTime) {
  LimitOptions o = byte_limit(1000, 1000);
  o.on_limit = OnLimit::kBlock;
  Limiter l(o);
  Chunk c = line("stdout", 1500);
  c.logged_mono = kMono0;
  EXPECT_EQ(l.offer(c, kMono0, kWall0).verdict, V::kAdmit);  // debt 500 tokens
  c.encoded_bytes = 10;
  Limiter::Decision d = l.offer(c, kMono0 + 100 * kMs, kWall0);
  EXPECT_EQ(d.verdict, V::kWait);
  EXPECT_EQ(d.wait_nanos, 400 * kMs + 1);
  EXPECT_EQ(l.offer(c, kMono0 + 500 * kMs + 1, kWall0).verdict, V::kAdmit);
}

// A flood's drops do not refill the bucket (it knows how long it stays
// dry); what a restart carries must still be the tokens as of the snapshot.
TEST(Limiter, ASnapshotHoldsTheTokensAsOfItsTime) {
  Limiter l(byte_limit(1000, 1000));
  EXPECT_EQ(offer(l, line("stdout", 1500), 0), V::kAdmit);  // debt 500 tokens
  for (int i = 1; i <= 300; ++i) EXPECT_EQ(offer(l, line("stdout", 10), i * kMs), V::kDrop);
  EXPECT_DOUBLE_EQ(l.snapshot(kMono0 + 300 * kMs).byte_tokens, -200);
  EXPECT_DOUBLE_EQ(l.snapshot(kMono0 + 400 * kMs).byte_tokens, -100);
}

// For every stream, lines and raw bytes admitted plus those reported dropped
// in notices equal those received, whatever the input.
TEST(Limiter, NoticesAccountForEveryDroppedLineAndByte) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    LimitOptions o = byte_limit(std::uniform_int_distribution<int>(100, 20000)(rng),
                                std::uniform_int_distribution<int>(1, 200000)(rng));
    if (round % 2) {
      o.lines_per_sec = std::uniform_real_distribution<double>(0.5, 500)(rng);
      o.burst_lines = std::uniform_real_distribution<double>(0.5, 100)(rng);
    }
    Limiter l(o);
    const char* names[] = {"stdout", "stderr"};
    std::map<std::string, uint64_t> received_lines, received_bytes, kept_lines, kept_bytes,
        noticed_lines, noticed_bytes;
    bool open[2] = {false, false};
    auto tally = [&](const std::vector<Notice>& ns) {
      for (const Notice& n : ns) {
        noticed_lines[n.stream] += std::stoull(attr(n, "logguard.dropped_lines"));
        noticed_bytes[n.stream] += std::stoull(attr(n, "logguard.dropped_bytes"));
      }
    };
    int64_t t = 0;
    for (int i = 0; i < 20000; ++i) {
      t += std::uniform_int_distribution<int64_t>(0, 3 * kMs)(rng);
      if (i % 5000 == 4999) t += 2 * kSec;  // quiet spells end runs
      int s = rng() % 2;
      bool starts = !open[s] || rng() % 4 == 0;  // sometimes a line is cut off
      bool ends = rng() % 3 != 0;
      size_t raw = rng() % 300;
      Chunk c{names[s], raw + 40, nullptr, raw, starts, ends};
      if (starts) received_lines[names[s]]++;
      received_bytes[names[s]] += raw;
      V v = offer(l, c, t);
      ASSERT_NE(v, V::kWait);
      if (v == V::kAdmit) {
        kept_lines[names[s]] += starts;
        kept_bytes[names[s]] += raw;
      }
      open[s] = !ends;
      if (rng() % 10 == 0) tally(collect(l, t));
    }
    tally(collect(l, t, true));
    EXPECT_EQ(l.next_notice_due(), std::nullopt);
    for (const char* name : names) {
      EXPECT_EQ(kept_lines[name] + noticed_lines[name], received_lines[name]) << name;
      EXPECT_EQ(kept_bytes[name] + noticed_bytes[name], received_bytes[name]) << name;
      EXPECT_GT(noticed_lines[name], 0u);
    }
    Limiter::Totals tot = l.totals();
    EXPECT_EQ(tot.lines_received, received_lines["stdout"] + received_lines["stderr"]);
    EXPECT_EQ(tot.lines_admitted + tot.lines_dropped, tot.lines_received);
    EXPECT_EQ(tot.bytes_admitted + tot.bytes_dropped, tot.bytes_received);
  }
}

}  // namespace
}  // namespace logguard
