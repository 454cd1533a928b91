// The disk guard on an in-memory file system: the cap and the free-space
// floor, the eviction order, and refusing records once nothing more may go.
#include "logguard/node/disk_guard.h"

#include <gtest/gtest.h>

#include "kube_test_labels.h"
#include "log_root_fixture.h"
#include "logguard/storage/pod_links.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

class DiskGuardTest : public ::testing::Test, public testing::LogRootFixture {
 protected:
  // A filesystem of space_.total bytes with space_.available free.
  void make_guard(DiskAmount max_disk, DiskAmount min_free, PodLinks* pod_links = nullptr) {
    NodeSettings s;
    s.max_disk = max_disk;
    s.min_free = min_free;
    guard_ = std::make_unique<DiskGuard>(
        s, kRoot, fs_, directories_, nullptr,
        [this] { return std::optional<FsSpace>(space_); }, pod_links);
  }

  FsSpace space_{1000'000'000, 900'000'000};
  std::unique_ptr<DiskGuard> guard_;
};

TEST_F(DiskGuardTest, OverTheCapTheOldestFilesOfEndedContainersGoFirst) {
  // Container a has a live session; b and c ended. 100 bytes a file.
  put(file('a', ".2"), 100, 9 * kHour);  // the oldest file of all, but a is live
  put(file('a', ".1"), 100, 5 * kHour);
  put(file('a'), 100, 0);
  put(file('b', ".1"), 100, 4 * kHour);
  put(file('b'), 100, 3 * kHour);
  put(file('c'), 100, 1 * kHour);
  auto session = live('a');
  make_guard({false, 350}, {false, 0});
  guard_->check();
  // 600 bytes, cap 350 (less a margin): b and c go entirely, then a's
  // rotations, oldest first; a's current file stays.
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_FALSE(fs_.exists(file('c')));
  EXPECT_FALSE(fs_.exists(file('a', ".2")));
  EXPECT_FALSE(fs_.exists(file('a', ".1")));
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_EQ(guard_->state(), DiskGuard::State::kOk);
}

// A session made (or reattached) but whose files are not open yet holds its
// directory: its current file is not "a container without a session".
TEST_F(DiskGuardTest, ASessionWhoseFilesAreNotOpenYetKeepsItsCurrentFile) {
  put(file('a'), 100, 9 * kHour);
  put(file('b'), 100, 1 * kHour);
  auto held = directories_.acquire(container_log_dir(kRoot, id('a')), log_base_name(id('a')));
  held->hold();
  make_guard({false, 50}, {false, 0});
  guard_->check();
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('b')));
  held->release();
  guard_->check();
  EXPECT_FALSE(fs_.exists(file('a')));
}

// Evicting an ended container's last file takes its links with it: the one
// in the log root's containers/ and kubelet's CRI log path, which would
// otherwise dangle.
TEST_F(DiskGuardTest, EvictingAContainersLastFileRemovesItsLinks) {
  const std::string pods = "/var/log/pods";
  PodLinks pod_links(fs_, pods, fs_, kRoot, KubeSettings{});
  KubeLinks kube_links(fs_, kRoot);
  auto none_live = [](const std::string&) { return false; };
  std::map<std::string, std::string> labels[2];
  std::string cri_paths[2];
  for (char c : {'a', 'b'}) {
    int i = c - 'a';
    cri_paths[i] = testing::cri_log_path("web-" + std::string(1, c), "shop", "app");
    labels[i] = testing::pod_labels("web-" + std::string(1, c), "shop", "app", cri_paths[i]);
    fs_.create_dirs(cri_paths[i].substr(0, cri_paths[i].rfind('/')));  // kubelet makes it
    put(file(c), 400'000, (i + 1) * kHour);
    kube_links.ensure(id(c), labels[i], none_live);
    pod_links.ensure(id(c), labels[i], none_live);
  }
  ASSERT_TRUE(fs_.read_symlink(cri_paths[1]));
  make_guard({false, 600'000}, {false, 0}, &pod_links);
  guard_->check();  // b's file is the older: it goes, a's stays
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_EQ(fs_.entry_type(cri_paths[1]), EntryType::kMissing);
  EXPECT_FALSE(fs_.read_symlink(kRoot + "/containers/web-b_shop_app-" + id('b') + ".log"));
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_TRUE(fs_.read_symlink(cri_paths[0]));
  EXPECT_TRUE(fs_.read_symlink(kRoot + "/containers/web-a_shop_app-" + id('a') + ".log"));
}

TEST_F(DiskGuardTest, EvictsNoMoreThanNeeded) {
  put(file('b', ".1"), 400'000, 4 * kHour);
  put(file('b'), 400'000, 3 * kHour);
  put(file('c'), 400'000, 1 * kHour);
  make_guard({false, 2'000'000}, {false, 0});
  guard_->check();
  EXPECT_TRUE(fs_.exists(file('b', ".1")));  // 1.2 MB is under the 2 MB cap
  make_guard({false, 1'100'000}, {false, 0});
  guard_->check();  // must free 100 kB and a small margin: b's older file
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(file('b')));
  EXPECT_TRUE(fs_.exists(file('c')));
}

TEST_F(DiskGuardTest, UnderTheFreeSpaceFloorWhoeverFilledTheDiskLogsMakeRoom) {
  put(file('b', ".1"), 5'000'000, 4 * kHour);
  put(file('b'), 5'000'000, 3 * kHour);
  space_ = {100'000'000, 14'000'000};  // something else filled the disk
  make_guard({true, 100}, {true, 15});
  guard_->check();
  EXPECT_FALSE(fs_.exists(file('b', ".1")));  // freeing 1 MB + margin takes the oldest
  EXPECT_TRUE(fs_.exists(file('b')));
}

TEST_F(DiskGuardTest, WhenNothingMayGoRecordsAreRefusedUntilSpaceReturns) {
  put(file('a'), 100, 0);
  auto session = live('a');
  space_ = {100'000'000, 10'000'000};  // under the 15 % floor, and only a live current file
  make_guard({true, 100}, {true, 15});
  guard_->check();
  EXPECT_EQ(guard_->state(), DiskGuard::State::kLowFree);
  EXPECT_EQ(guard_->take(100, false), DiskGuard::State::kLowFree);
  EXPECT_NE(guard_->describe(DiskGuard::State::kLowFree).find("node-free=15%"), std::string::npos);
  space_ = {100'000'000, 40'000'000};
  guard_->check();
  EXPECT_EQ(guard_->state(), DiskGuard::State::kOk);
  EXPECT_EQ(guard_->take(100, false), DiskGuard::State::kOk);
}

TEST_F(DiskGuardTest, WritersStopExactlyAtTheCapNotAtTheNextCheck) {
  put(file('a'), 1000, 0);
  auto session = live('a');
  make_guard({false, 1'000'000}, {false, 0});
  guard_->check();
  uint64_t admitted = 0;
  while (guard_->take(1000, false) == DiskGuard::State::kOk) admitted += 1000;
  EXPECT_EQ(admitted, 999'000u);  // 1000 bytes on disk + 999 records = the cap
  EXPECT_EQ(guard_->take(1000, false), DiskGuard::State::kOverCap);
  guard_->give_back(1000);
  EXPECT_EQ(guard_->take(1000, false), DiskGuard::State::kOk);
}

// A session decides a batch, then writes it: a check in between must not
// forget the batch (the disk does not show it yet).
TEST_F(DiskGuardTest, ACheckCountsWhatWasAdmittedButIsNotInTheFilesYet) {
  make_guard({false, 1'000'000}, {false, 0});
  guard_->check();
  ASSERT_EQ(guard_->take(600'000, false), DiskGuard::State::kOk);
  guard_->check();  // the 600 kB are on their way, not on the disk
  EXPECT_EQ(guard_->headroom(), 400'000);
  EXPECT_EQ(guard_->take(600'000, false), DiskGuard::State::kOverCap);
  put(file('a'), 600'000, 0);  // now they are
  guard_->landed(600'000);
  guard_->check();
  EXPECT_EQ(guard_->headroom(), 400'000);
}

TEST_F(DiskGuardTest, AccountingIsRebuiltFromTheFilesAtStart) {
  put(file('b', ".1"), 600, kHour);
  put(file('b'), 600, 0);
  fs_.put(kRoot + "/containers/x.log", std::string(5000, 'k'));  // not a log: not counted
  make_guard({false, 1000}, {false, 0});
  guard_->check();  // 1200 > 1000: b's older file goes
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(kRoot + "/containers/x.log"));
}

}  // namespace
}  // namespace logguard
