// The node guard's disk duties on an in-memory file system: the cap and the
// free-space floor (eviction order, refusing records once nothing more may
// go), and logs following `docker rm` or RETAIN.
#include "logguard/node_guard.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fake_file_system.h"
#include "kube_test_labels.h"
#include "logguard/log_file.h"
#include "logguard/log_names.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kRoot = "/logs";
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kHour = 3600 * kSec;

std::string id(char c) { return std::string(64, c); }
std::string file(char c, const std::string& suffix = "") {
  return container_log_dir(kRoot, id(c)) + "/" + log_base_name(id(c)) + suffix;
}

class NodeGuardTest : public ::testing::Test {
 protected:
  NodeGuardTest() : directories_(fs_) {}

  // A filesystem of `total` bytes with `available` free.
  void make_guard(NodeSettings settings, std::string containers_dir = "") {
    settings.rate_mode = NodeSettings::RateMode::kOff;
    guard_ = std::make_unique<NodeGuard>(NodeGuardConfig{kRoot, settings, containers_dir}, fs_,
                                         directories_, clock_, [this] {
                                           return std::optional<FsSpace>(space_);
                                         });
  }
  // A file of `bytes`, last written `age` ago.
  void put(const std::string& path, size_t bytes, int64_t age) {
    fs_.put(path, std::string(bytes - 1, 'x') + "\n");
    fs_.set_modified(path, clock_.wall_nanos() - age);
  }
  // A live session's writer on container c.
  std::unique_ptr<LogFile> live(char c) {
    auto log = std::make_unique<LogFile>(
        fs_, directories_.acquire(container_log_dir(kRoot, id(c)), log_base_name(id(c))),
        RotationOptions{0, 100, Codec::kNone}, nullptr, nullptr);
    log->open();
    return log;
  }

  FakeFileSystem fs_;
  FakeClock clock_;
  LogDirectories directories_;
  FsSpace space_{1000'000'000, 900'000'000};
  std::unique_ptr<NodeGuard> guard_;
};

NodeSettings disk_settings(DiskAmount max_disk, DiskAmount min_free) {
  NodeSettings s;
  s.max_disk = max_disk;
  s.min_free = min_free;
  s.retain_nanos = 0;
  return s;
}

TEST_F(NodeGuardTest, OverTheCapTheOldestFilesOfEndedContainersGoFirst) {
  // Container a has a live session; b and c ended. 100 bytes a file.
  put(file('a', ".2"), 100, 9 * kHour);  // the oldest file of all, but a is live
  put(file('a', ".1"), 100, 5 * kHour);
  put(file('a'), 100, 0);
  put(file('b', ".1"), 100, 4 * kHour);
  put(file('b'), 100, 3 * kHour);
  put(file('c'), 100, 1 * kHour);
  auto session = live('a');
  make_guard(disk_settings({false, 350}, {false, 0}));
  guard_->check_disk();
  // 600 bytes, cap 350 (less a margin): b and c go entirely, then a's
  // rotations, oldest first; a's current file stays.
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_FALSE(fs_.exists(file('c')));
  EXPECT_FALSE(fs_.exists(file('a', ".2")));
  EXPECT_FALSE(fs_.exists(file('a', ".1")));
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_EQ(guard_->disk_state(), NodeGuard::DiskState::kOk);
}

TEST_F(NodeGuardTest, EvictsNoMoreThanNeeded) {
  put(file('b', ".1"), 400'000, 4 * kHour);
  put(file('b'), 400'000, 3 * kHour);
  put(file('c'), 400'000, 1 * kHour);
  make_guard(disk_settings({false, 2'000'000}, {false, 0}));
  guard_->check_disk();
  EXPECT_TRUE(fs_.exists(file('b', ".1")));  // 1.2 MB is under the 2 MB cap
  make_guard(disk_settings({false, 1'100'000}, {false, 0}));
  guard_->check_disk();  // must free 100 kB and a small margin: b's older file
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(file('b')));
  EXPECT_TRUE(fs_.exists(file('c')));
}

TEST_F(NodeGuardTest, UnderTheFreeSpaceFloorWhoeverFilledTheDiskLogsMakeRoom) {
  put(file('b', ".1"), 5'000'000, 4 * kHour);
  put(file('b'), 5'000'000, 3 * kHour);
  space_ = {100'000'000, 14'000'000};  // something else filled the disk
  make_guard(disk_settings({true, 100}, {true, 15}));
  guard_->check_disk();
  EXPECT_FALSE(fs_.exists(file('b', ".1")));  // freeing 1 MB + margin takes the oldest
  EXPECT_TRUE(fs_.exists(file('b')));
}

TEST_F(NodeGuardTest, WhenNothingMayGoRecordsAreRefusedUntilSpaceReturns) {
  put(file('a'), 100, 0);
  auto session = live('a');
  space_ = {100'000'000, 10'000'000};  // under the 15 % floor, and only a live current file
  make_guard(disk_settings({true, 100}, {true, 15}));
  auto gate = guard_->gate_for(id('a'));
  guard_->check_disk();
  EXPECT_EQ(guard_->disk_state(), NodeGuard::DiskState::kLowFree);
  EXPECT_EQ(gate->admit(clock_.monotonic_nanos(), 100).limit, NodeGate::Limit::kFree);
  EXPECT_NE(gate->describe(NodeGate::Limit::kFree).find("node-free=15%"), std::string::npos);
  space_ = {100'000'000, 40'000'000};
  guard_->check_disk();
  EXPECT_EQ(guard_->disk_state(), NodeGuard::DiskState::kOk);
  EXPECT_EQ(gate->admit(clock_.monotonic_nanos(), 100).limit, NodeGate::Limit::kNone);
}

TEST_F(NodeGuardTest, WritersStopExactlyAtTheCapNotAtTheNextCheck) {
  put(file('a'), 1000, 0);
  auto session = live('a');
  make_guard(disk_settings({false, 1'000'000}, {false, 0}));
  auto gate = guard_->gate_for(id('a'));
  guard_->check_disk();
  uint64_t admitted = 0;
  while (gate->admit(clock_.monotonic_nanos(), 1000).limit == NodeGate::Limit::kNone) {
    admitted += 1000;
  }
  EXPECT_EQ(admitted, 999'000u);  // 1000 bytes on disk + 999 records = the cap
  EXPECT_EQ(gate->admit(clock_.monotonic_nanos(), 1000).limit, NodeGate::Limit::kDisk);
}

class RemovalTest : public NodeGuardTest {
 protected:
  void SetUp() override {
    containers_ = tmp_.path() + "/containers";
    std::filesystem::create_directories(containers_);
  }
  void engine_has(char c) { std::filesystem::create_directories(containers_ + "/" + id(c)); }
  void engine_removes(char c) { std::filesystem::remove_all(containers_ + "/" + id(c)); }

  testing::TempDir tmp_;
  std::string containers_;
};

TEST_F(RemovalTest, LogsFollowDockerRm) {
  put(file('a'), 10, 0);
  put(file('b', ".1"), 10, 0);
  put(file('b'), 10, 0);
  fs_.put(container_log_dir(kRoot, id('b')) + "/not-ours", "x");
  engine_has('a');
  engine_has('b');
  make_guard(disk_settings({true, 100}, {true, 0}), containers_);
  std::vector<std::string> told;
  guard_->on_container_removed([&](const std::string& c) { told.push_back(c); });
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('b')));  // both still exist
  engine_removes('b');
  guard_->follow_removals();
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(container_log_dir(kRoot, id('b')) + "/not-ours"));  // only ours go
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_EQ(told, std::vector<std::string>{id('b')});
}

TEST_F(RemovalTest, KubernetesLinksGoWithTheLogs) {
  put(file('a'), 10, 0);
  put(file('b'), 10, 0);
  engine_has('a');
  engine_has('b');
  KubeLinks links(fs_, kRoot);
  auto labels = [](const std::string& pod) { return testing::pod_labels(pod, "ns", "c"); };
  auto none_live = [](const std::string&) { return false; };
  links.ensure(id('a'), labels("pa"), none_live);
  links.ensure(id('b'), labels("pb"), none_live);
  links.ensure(id('c'), labels("pc"), none_live);  // its logs went while no plugin ran
  make_guard(disk_settings({true, 100}, {true, 0}), containers_);
  engine_removes('b');
  guard_->follow_removals();
  EXPECT_TRUE(fs_.read_symlink(kRoot + "/containers/pa_ns_c-" + id('a') + ".log"));
  EXPECT_FALSE(fs_.read_symlink(kRoot + "/containers/pb_ns_c-" + id('b') + ".log"));
  EXPECT_FALSE(fs_.read_symlink(kRoot + "/containers/pc_ns_c-" + id('c') + ".log"));
}

TEST_F(RemovalTest, ALiveContainersLogsStayEvenIfTheEngineForgotIt) {
  put(file('a'), 10, 0);
  put(file('b'), 10, 0);
  engine_has('b');
  auto session = live('a');
  make_guard(disk_settings({true, 100}, {true, 0}), containers_);
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('a')));
}

TEST_F(RemovalTest, ADirectoryHoldingNoneOfOurContainersIsNotTrusted) {
  // A wrong or empty mount must not delete every log.
  put(file('a'), 10, 2 * kHour);
  put(file('b'), 10, 2 * kHour);
  NodeSettings s = disk_settings({true, 100}, {true, 0});
  s.retain_nanos = 24 * kHour;
  make_guard(s, containers_);
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_TRUE(fs_.exists(file('b')));
  // RETAIN still applies.
  put(file('b'), 10, 25 * kHour);
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('b')));
}

TEST_F(NodeGuardTest, WithoutTheContainersDirectoryRetainApplies) {
  put(file('a', ".1"), 10, 200 * kHour);
  put(file('a'), 10, 100 * kHour);  // the newest file counts: 100 h < 168 h
  put(file('b'), 10, 169 * kHour);
  put(file('c'), 10, 500 * kHour);
  auto session = live('c');          // a live session is never removed
  NodeSettings s = disk_settings({true, 100}, {true, 0});
  s.retain_nanos = 168 * kHour;
  make_guard(s);
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_TRUE(fs_.exists(file('c')));
}

TEST_F(NodeGuardTest, RetainOffKeepsEverything) {
  put(file('b'), 10, 10'000 * kHour);
  make_guard(disk_settings({true, 100}, {true, 0}));  // retain 0
  guard_->follow_removals();
  EXPECT_TRUE(fs_.exists(file('b')));
}

TEST_F(NodeGuardTest, AccountingIsRebuiltFromTheFilesAtStart) {
  put(file('b', ".1"), 600, kHour);
  put(file('b'), 600, 0);
  fs_.put(kRoot + "/containers/x.log", std::string(5000, 'k'));  // not a log: not counted
  make_guard(disk_settings({false, 1000}, {false, 0}));
  auto gate = guard_->gate_for(id('a'));
  guard_->check_disk();  // 1200 > 1000: b's older file goes
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(kRoot + "/containers/x.log"));
}

}  // namespace
}  // namespace logguard
