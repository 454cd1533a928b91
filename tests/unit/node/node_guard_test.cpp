// The node guard's composition: a session's gate asks the disk, then its
// share of the budget; notices name the limit; and a failing duty (the
// first disk check at start included) is logged, never the end of the guard.
#include "logguard/node/node_guard.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "fake_file_system.h"
#include "logguard/format/log_names.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kRoot = "/logs";

class NoSessions : public LiveSessions {
 public:
  std::set<std::string> live_containers() override { return {}; }
};

// A log root whose listing fails: every disk check throws. The second
// listing is the event a test waits for: the guard checked again.
class UnlistableFileSystem : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  std::vector<std::string> list_dir(const std::string& dir) override {
    if (++listings >= 2) listed_again.set();
    throw std::system_error(EIO, std::generic_category(), "list " + dir);
  }
  std::atomic<int> listings{0};
  testing::Event listed_again;
};

class NodeGuardTest : public ::testing::Test {
 protected:
  NodeGuardTest() : directories_(fs_), write_back_(clock_) {}

  void make_guard(NodeSettings settings, FileSystem& fs,
                  std::chrono::nanoseconds tick = std::chrono::nanoseconds(NodeBudget::kIntervalNanos)) {
    NodeGuardConfig config{kRoot, settings, ""};
    config.tick = tick;
    guard_ = std::make_unique<NodeGuard>(config, fs, engine_,
                                         directories_, write_back_, clock_,
                                         [this] { return std::optional<FsSpace>(space_); });
  }

  FakeFileSystem fs_;
  FakeFileSystem engine_;
  FakeClock clock_;
  LogDirectories directories_;
  WriteBack write_back_;
  FsSpace space_{1000'000'000, 900'000'000};
  std::unique_ptr<NodeGuard> guard_;
};

TEST_F(NodeGuardTest, AGateAsksTheDiskThenTheBudget) {
  NodeSettings s;
  s.rate_mode = NodeSettings::RateMode::kFixed;
  s.rate = 1e6;
  s.max_disk = {false, 1'000'000};
  make_guard(s, fs_);
  guard_->disk().check();
  auto gate = guard_->gate_for(std::string(64, 'a'));
  const int64_t now = clock_.monotonic_nanos();
  EXPECT_EQ(gate->admit(now, 400'000).limit, NodeGate::Limit::kNone);
  EXPECT_EQ(gate->admit(now, 400'000).limit, NodeGate::Limit::kNone);
  EXPECT_EQ(gate->admit(now, 400'000).limit, NodeGate::Limit::kDisk);  // over the 1 MB cap
  EXPECT_NE(gate->describe(NodeGate::Limit::kDisk).find("node-disk="), std::string::npos);
  EXPECT_NE(gate->describe(NodeGate::Limit::kRate).find("node-rate=1MB/s"), std::string::npos);
}

TEST_F(NodeGuardTest, ARefusalByTheBudgetGivesTheDiskHeadroomBack) {
  NodeSettings s;
  s.rate_mode = NodeSettings::RateMode::kFixed;
  s.rate = 1e6;
  s.write_burst = 2'000'000;
  s.max_disk = {false, 100'000'000};
  make_guard(s, fs_);
  guard_->disk().check();
  const int64_t headroom = guard_->disk().headroom();
  auto gate = guard_->gate_for(std::string(64, 'a'));
  // A backlog at the allowance: the budget refuses.
  auto file = write_back_.track(std::make_shared<UniqueFd>(), 0);
  file->wrote(3'000'000);
  EXPECT_EQ(gate->admit(clock_.monotonic_nanos(), 1000).limit, NodeGate::Limit::kRate);
  EXPECT_EQ(guard_->disk().headroom(), headroom);
  file->synced();
}

TEST_F(NodeGuardTest, AFailingDiskCheckIsLoggedAndTheGuardGoesOn) {
  testing::QuietLogs quiet;
  UnlistableFileSystem broken(fs_);
  NodeSettings s;
  s.rate_mode = NodeSettings::RateMode::kOff;
  // The next check is 50 ticks on (the headroom is unknown, so roomy):
  // 1 ms ticks make that 50 ms, not 5 s.
  make_guard(s, broken, std::chrono::milliseconds(1));
  NoSessions sessions;
  guard_->start(sessions);  // its first check throws at once
  EXPECT_TRUE(broken.listed_again.wait());  // it checked again: the thread lives
  guard_->stop();
}

}  // namespace
}  // namespace logguard
