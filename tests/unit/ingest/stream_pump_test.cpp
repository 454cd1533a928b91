// The session's work across plugin crashes: whatever operation the process
// dies after, every line the engine wrote ends up in the log exactly once or
// counted in a drop notice exactly once. A fake stream and a file system
// that crashes after any operation; a fake clock.
#include "logguard/format/json_record_parser.h"
#include "logguard/ingest/stream_pump.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "fake_file_system.h"
#include "fake_stream.h"
#include "logguard/format/log_names.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeCrash;
using testing::FakeFileSystem;
using testing::FakeStream;

const std::string kId(64, 'c');
const std::string kRoot = "/logs";
const std::string kFifo = "/run/docker/logging/" + std::string(64, 'f');
constexpr int64_t kTurnNanos = 300'000'000;

std::string line_text(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "line %06d %s", i, std::string(i % 7 * 11, 'x').c_str());
  return buf;
}

// 100 lines a second, a burst of 10.
LimitOptions line_limits(OnLimit on_limit = OnLimit::kDrop) {
  LimitOptions o;
  o.lines_per_sec = 100;
  o.burst_lines = 10;
  o.on_limit = on_limit;
  return o;
}

LimitOptions tight_limits() {
  LimitOptions o;
  o.bytes_per_sec = 400;
  o.burst_bytes = 600;
  return o;
}

// One plugin process: its view of the files, its limiter and its pump.
struct Process {
  Process(FakeFileSystem& fs, FakeStream& stream, Clock& clock, const LimitOptions& limits,
          bool reattach)
      : dirs(fs),
        log(std::make_shared<ContainerLog>(
            fs, dirs.acquire(container_log_dir(kRoot, kId), log_base_name(kId)),
            RotationOptions{2000, 1000, Codec::kNone}, nullptr)),
        store(fs, "/state/sessions"),
        progress(store.progress(kFifo)),
        limiter(limits),
        pump({kFifo, &stream, log.get(), &limiter, progress.get(), &clock, nullptr}) {
    log->open();
    if (reattach) pump.reattach(log->tail(1 << 20));
  }

  LogDirectories dirs;
  std::shared_ptr<ContainerLog> log;
  SessionStore store;
  std::unique_ptr<ProgressLog> progress;
  Limiter limiter;
  StreamPump pump;
};

// A process that never crashes, with its disk, stream and clock.
struct OneProcess {
  explicit OneProcess(const LimitOptions& limits) : p(fs, stream, clock, limits, false) {}

  FakeFileSystem fs;
  FakeStream stream;
  FakeClock clock;
  Process p;
};

// What the log holds: lines written (by number, in order) and the drops
// announced.
struct Outcome {
  std::vector<int> written;
  uint64_t announced_lines = 0;
};

Outcome read_outcome(FakeFileSystem& fs) {
  Outcome out;
  const std::string dir = container_log_dir(kRoot, kId);
  for (const auto& file : list_log_files(fs, dir, log_base_name(kId))) {
    std::string content = fs.read_all(dir + "/" + file.name);
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      auto record = parse_json_record(std::string_view(content).substr(pos, nl - pos));
      EXPECT_TRUE(record) << content.substr(pos, nl - pos);
      pos = nl + 1;
      if (!record) continue;
      bool notice = false;
      for (const auto& [k, v] : record->attrs) {
        if (k == "logguard.dropped_lines") {
          out.announced_lines += std::stoull(v);
          notice = true;
        }
      }
      if (!notice) out.written.push_back(std::stoi(record->log.substr(5, 6)));
    }
  }
  return out;
}

// The engine writes `per_turn` lines before each turn (none every 7th turn,
// so floods pause and notices come due); `turns` turns.
class Scenario {
 public:
  static constexpr int kTurns = 40;
  static constexpr int kPerTurn = 6;

  explicit Scenario(FakeStream& stream) : stream_(stream) {}

  // Runs turns from `turn` on until they are done (then closes the stream
  // and ends the session) or the process dies. Returns the turn it died in.
  int run(Process& p, FakeClock& clock, int turn) {
    for (; turn < kTurns; ++turn) {
      if (!written_[turn]) {
        written_[turn] = true;
        if (turn % 7 != 6) {
          for (int i = 0; i < kPerTurn; ++i) {
            const int n = next_++;
            stream_.write(testing::frame(n % 5 ? "stdout" : "stderr", line_text(n),
                                          clock.wall_nanos() + int64_t{i} * 1000));
          }
        }
      }
      clock.advance(kTurnNanos);
      p.pump.turn();
      p.pump.write_notices(false);
    }
    stream_.close();
    while (p.pump.turn().kind != StreamPump::Turn::kEof) {
    }
    p.pump.write_notices(true);
    return turn;
  }
  int lines() const { return next_; }

 private:
  FakeStream& stream_;
  std::map<int, bool> written_;
  int next_ = 0;
};

void expect_exactly_once(const Outcome& out, int lines) {
  // Written lines are distinct and in order...
  for (size_t i = 1; i < out.written.size(); ++i) {
    ASSERT_LT(out.written[i - 1], out.written[i]) << "repeated or reordered at " << i;
  }
  // ...and with the announced drops they are every line, exactly.
  EXPECT_EQ(out.written.size() + out.announced_lines, static_cast<uint64_t>(lines));
}

TEST(StreamPump, WithoutACrashEveryLineIsWrittenOrAnnounced) {
  FakeFileSystem fs;
  FakeStream stream(512);
  FakeClock clock;
  Process p(fs, stream, clock, tight_limits(), false);
  Scenario scenario(stream);
  scenario.run(p, clock, 0);
  Outcome out = read_outcome(fs);
  EXPECT_GT(out.announced_lines, 50u);  // the limits bit
  EXPECT_GT(out.written.size(), 20u);
  expect_exactly_once(out, scenario.lines());
  EXPECT_EQ(stream.unconsumed(), 0u);
}

// Kill -9 after every file system operation in turn; a new process goes on.
TEST(StreamPump, ACrashAfterAnyOperationLosesAndRepeatsNothing) {
  testing::QuietLogs quiet;
  int total = 0;
  {
    FakeFileSystem fs;
    FakeStream stream(512);
    stream.crash_with(&fs);
    FakeClock clock;
    Process p(fs, stream, clock, tight_limits(), false);
    Scenario(stream).run(p, clock, 0);
    total = fs.mutations();
  }
  ASSERT_GT(total, 50);
  for (int k = 0; k < total; ++k) {
    SCOPED_TRACE("crash after operation " + std::to_string(k));
    FakeFileSystem fs;
    FakeStream stream(512);
    stream.crash_with(&fs);
    FakeClock clock;
    Scenario scenario(stream);
    int died_in = 0;
    fs.crash_after(k);
    try {
      Process p(fs, stream, clock, tight_limits(), false);
      died_in = scenario.run(p, clock, 0);
    } catch (const FakeCrash&) {
      ASSERT_TRUE(fs.crashed());
    }
    if (!fs.crashed()) continue;  // k past the end
    auto disk = FakeFileSystem::recovered_from(fs);
    stream.crash_with(disk.get());
    Process p(*disk, stream, clock, tight_limits(), true);
    scenario.run(p, clock, died_in);
    Outcome out = read_outcome(*disk);
    expect_exactly_once(out, scenario.lines());
    if (::testing::Test::HasFailure()) return;
  }
}

// A clean stop (the plugin disabled) in the middle of a flood: the next
// process goes on, with the limiter's tokens and unannounced drops.
TEST(StreamPump, AStopAndRestartCarriesTokensAndDrops) {
  FakeFileSystem fs;
  FakeStream stream(512);
  FakeClock clock;
  Limiter::Snapshot before;
  {
    Process p(fs, stream, clock, tight_limits(), false);
    for (int i = 0; i < 12; ++i) {
      stream.write(testing::frame("stdout", line_text(i), testing::kSomeTime + i));
    }
    p.pump.turn();
    p.pump.save_progress();
    before = p.limiter.snapshot(clock.monotonic_nanos());
  }
  // Tokens spent and drops pending: a fresh limiter would have a full bucket.
  ASSERT_LT(before.byte_tokens, tight_limits().burst_bytes - 100);
  ASSERT_EQ(before.pending.size(), 1u);
  Process p(fs, stream, clock, tight_limits(), true);
  Limiter::Snapshot carried = p.limiter.snapshot(clock.monotonic_nanos());
  EXPECT_NEAR(carried.byte_tokens, before.byte_tokens, 1.0);
  ASSERT_EQ(carried.pending.size(), 1u);
  EXPECT_EQ(carried.pending[0].lines, before.pending[0].lines);
}

// Lines stamped stamp(i, the wall clock now), decided in one turn `delay`
// later, under line_limits(): what the limiter counted.
Limiter::Totals one_late_turn(int lines, int64_t delay,
                              const std::function<int64_t(int, int64_t)>& stamp) {
  OneProcess run(line_limits());
  auto& [fs, stream, clock, p] = run;
  for (int i = 0; i < lines; ++i) {
    stream.write(testing::frame("stdout", line_text(i), stamp(i, clock.wall_nanos())));
  }
  clock.advance(delay);
  p.pump.turn();
  return p.limiter.totals();
}

// The engine's stamp on each line, not the turn's clock, is when the
// container logged it: a batch read 400 ms late gets no refill for the wait.
TEST(StreamPump, ABatchReadLateIsLimitedAtTheRateItWasLogged) {
  // 50 lines within 5 ms.
  const Limiter::Totals t =
      one_late_turn(50, 400'000'000, [](int i, int64_t now) { return now + i * 100'000LL; });
  // The burst and one more (admitted on the 0.1 token refilled in 1 ms); by
  // the turn's clock 40 tokens would have come back and all 50 got in.
  EXPECT_EQ(t.lines_admitted, 11u);
  EXPECT_EQ(t.lines_dropped, 39u);
}

// Stamps from before the monotonic clock began (a clock set wrong, a bogus
// frame) count as its beginning: no refill for them, and no overflow.
TEST(StreamPump, AStampFromLongAgoCountsAsTheBeginning) {
  const Limiter::Totals t = one_late_turn(21, 1'000'000, [](int i, int64_t now) {
    return i < 20 ? INT64_MIN + 1 + i * 1'000'000'000LL : now;
  });
  // The burst, then the line stamped now: a bucket refilled from the
  // beginning of time is full again.
  EXPECT_EQ(t.lines_admitted, 11u);
  EXPECT_EQ(t.lines_dropped, 10u);
}

// Block mode: a frame the limiter holds stays in the stream and is offered
// again after the wait; nothing is dropped, repeated or reordered.
TEST(StreamPump, BlockModeTakesEveryLineOnceInOrder) {
  OneProcess run(line_limits(OnLimit::kBlock));
  auto& [fs, stream, clock, p] = run;
  for (int i = 0; i < 30; ++i) {
    stream.write(testing::frame("stdout", line_text(i), clock.wall_nanos()));
  }
  stream.close();
  StreamPump::Turn turn = p.pump.turn();
  EXPECT_EQ(turn.kind, StreamPump::Turn::kWait);
  EXPECT_EQ(p.limiter.totals().lines_admitted, 10u);
  int turns = 1;
  for (; turn.kind != StreamPump::Turn::kEof; ++turns) {
    clock.advance(std::max<int64_t>(turn.wait_nanos, 1));
    turn = p.pump.turn();
  }
  EXPECT_EQ(read_outcome(fs).written, testing::range(0, 30));
  EXPECT_EQ(p.limiter.totals().lines_received, 30u);  // a wait is not a second receipt
  EXPECT_EQ(p.limiter.totals().lines_dropped, 0u);
  EXPECT_GE(turns, 20);  // 20 lines beyond the burst, one per 10 ms wait
}

// The engine gone in the middle of a frame: the stream ends, with what was
// whole written, instead of waiting forever for the rest.
TEST(StreamPump, AStreamCutInsideAFrameEnds) {
  testing::QuietLogs quiet;
  OneProcess run(LimitOptions{});
  auto& [fs, stream, clock, p] = run;
  stream.write(testing::frame("stdout", "line 000001 whole"));
  const std::string cut = testing::frame("stdout", "line 000002 cut");
  stream.write(cut.substr(0, cut.size() - 3));
  EXPECT_EQ(p.pump.turn().kind, StreamPump::Turn::kProgress);
  EXPECT_EQ(p.pump.turn().kind, StreamPump::Turn::kIdle);  // the rest may be on its way
  stream.close();
  EXPECT_EQ(p.pump.turn().kind, StreamPump::Turn::kEof);
  EXPECT_EQ(stream.unconsumed(), 0u);
  EXPECT_EQ(read_outcome(fs).written, (std::vector<int>{1}));
}

// A stream that shows at most 8 KiB at once (a pipe made while root's pipes
// were over fs.pipe-user-pages-soft) and a line of 12 KiB in it, among others.
struct SmallPeek {
  SmallPeek() : stream(8 * 1024), p(fs, stream, clock, LimitOptions{}, false) {
    stream.write(testing::frame("stdout", "line 000001 before"));
    stream.write(testing::frame("stdout", "line 000002 " + std::string(12 * 1024, 'x')));
    stream.write(testing::frame("stdout", "line 000003 after"));
  }
  FakeFileSystem fs;
  FakeStream stream;
  FakeClock clock;
  Process p;
};

// The long line's frame can never be seen whole: it is skipped, not waited
// for (that would hold the container for good).
TEST(StreamPump, AFrameLongerThanAPeekShowsIsSkippedAndTheStreamGoesOn) {
  testing::QuietLogs quiet;
  SmallPeek run;
  for (int turn = 0; turn < 100 && run.stream.unconsumed() > 0; ++turn) run.p.pump.turn();
  EXPECT_EQ(run.stream.unconsumed(), 0u);
  EXPECT_EQ(read_outcome(run.fs).written, (std::vector<int>{1, 3}));
  run.stream.close();
  EXPECT_EQ(run.p.pump.turn().kind, StreamPump::Turn::kEof);
}

// The same once the writer is gone (the container exited): the end of what
// a peek shows is not a stream cut inside a frame, and the line after the
// long one is written.
TEST(StreamPump, AFrameLongerThanAPeekShowsIsNotTakenForACutStream) {
  testing::QuietLogs quiet;
  SmallPeek run;
  run.stream.close();
  int turns = 0;
  while (run.p.pump.turn().kind != StreamPump::Turn::kEof && ++turns < 100) {
  }
  EXPECT_LT(turns, 100);
  EXPECT_EQ(run.stream.unconsumed(), 0u);
  EXPECT_EQ(read_outcome(run.fs).written, (std::vector<int>{1, 3}));
}

TEST(StreamPump, ABadFrameIsSkippedAndTheStreamGoesOn) {
  testing::QuietLogs quiet;
  OneProcess run(LimitOptions{});
  auto& [fs, stream, clock, p] = run;
  stream.write(testing::frame("stdout", "line 000001 before"));
  stream.write(std::string("\0\0\0\7garbage", 11));  // a frame that is no LogEntry
  stream.write(testing::frame("stdout", "line 000002 after"));
  stream.close();
  while (p.pump.turn().kind != StreamPump::Turn::kEof) {
  }
  EXPECT_EQ(read_outcome(fs).written, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace logguard
