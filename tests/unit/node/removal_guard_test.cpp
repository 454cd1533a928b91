// Logs follow `docker rm`, and never a container with a live session: the
// engine's containers directory is believed only when it holds every live
// container; without it (or while it is not believed), RETAIN. In-memory
// file systems for the log root and the engine's directory.
#include "logguard/node/removal_guard.h"

#include <gtest/gtest.h>

#include "kube_test_labels.h"
#include "log_root_fixture.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;
const std::string kContainers = "/engine/containers";

class RemovalGuardTest : public ::testing::Test, public testing::LogRootFixture {
 protected:
  RemovalGuardTest() { engine_.create_dirs(kContainers); }

  void make_guard(std::string containers_dir, int64_t retain = 0) {
    guard_ = std::make_unique<RemovalGuard>(kRoot, fs_, directories_, std::move(containers_dir),
                                            engine_, retain, clock_);
  }
  void engine_has(char c) { engine_.create_dirs(kContainers + "/" + id(c)); }
  void engine_removes(char c) { engine_.remove_dir(kContainers + "/" + id(c)); }

  FakeFileSystem engine_;
  std::unique_ptr<RemovalGuard> guard_;
};

TEST_F(RemovalGuardTest, LogsFollowDockerRm) {
  put(file('a'), 10, 0);
  put(file('b', ".1"), 10, 0);
  put(file('b'), 10, 0);
  fs_.put(container_log_dir(kRoot, id('b')) + "/not-ours", "x");
  engine_has('a');
  engine_has('b');
  make_guard(kContainers);
  guard_->follow({});
  EXPECT_TRUE(fs_.exists(file('b')));  // both still exist
  engine_removes('b');
  guard_->follow({});
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_FALSE(fs_.exists(file('b', ".1")));
  EXPECT_TRUE(fs_.exists(container_log_dir(kRoot, id('b')) + "/not-ours"));  // only ours go
  EXPECT_TRUE(fs_.exists(file('a')));
}

TEST_F(RemovalGuardTest, KubernetesLinksGoWithTheLogs) {
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
  make_guard(kContainers);
  engine_removes('b');
  guard_->follow({});
  EXPECT_TRUE(fs_.read_symlink(kRoot + "/containers/pa_ns_c-" + id('a') + ".log"));
  EXPECT_FALSE(fs_.read_symlink(kRoot + "/containers/pb_ns_c-" + id('b') + ".log"));
  EXPECT_FALSE(fs_.read_symlink(kRoot + "/containers/pc_ns_c-" + id('c') + ".log"));
}

// A stale copy of the engine's directory (a data root moved, a mount source
// not set again after an upgrade) holds an old container but not the ones
// running now: it must not make them look removed.
TEST_F(RemovalGuardTest, ADirectoryMissingALiveContainerIsNotBelieved) {
  put(file('e'), 10, 0);  // the old container the stale copy holds
  put(file('a'), 10, 0);  // running, started after the copy was made
  put(file('d'), 10, 0);  // gone meanwhile, but the copy cannot say so
  engine_has('e');
  make_guard(kContainers);
  guard_->follow({id('a')});
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_TRUE(fs_.exists(file('d')));
  EXPECT_TRUE(fs_.exists(file('e')));
  // Once the mount is right (it holds every live container), it is believed.
  engine_has('a');
  guard_->follow({id('a')});
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('d')));
}

TEST_F(RemovalGuardTest, ALiveContainersLogsStayEvenIfTheEngineForgotIt) {
  put(file('a'), 10, 0);
  put(file('b'), 10, 0);
  engine_has('b');
  auto session = live('a');
  make_guard(kContainers);
  guard_->follow({});  // even if the driver's list missed it, its writer holds the directory
  EXPECT_TRUE(fs_.exists(file('a')));
}

TEST_F(RemovalGuardTest, ADirectoryHoldingNoneOfOurContainersIsNotTrusted) {
  // A wrong or empty mount must not delete every log.
  put(file('a'), 10, 2 * kHour);
  put(file('b'), 10, 2 * kHour);
  make_guard(kContainers, 24 * kHour);
  guard_->follow({});
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_TRUE(fs_.exists(file('b')));
  // RETAIN still applies.
  put(file('b'), 10, 25 * kHour);
  guard_->follow({});
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('b')));
}

TEST_F(RemovalGuardTest, WithoutTheContainersDirectoryRetainApplies) {
  put(file('a', ".1"), 10, 200 * kHour);
  put(file('a'), 10, 100 * kHour);  // the newest file counts: 100 h < 168 h
  put(file('b'), 10, 169 * kHour);
  put(file('c'), 10, 500 * kHour);
  put(file('d'), 10, 500 * kHour);
  auto session = live('c');  // a live session is never removed
  make_guard("", 168 * kHour);
  guard_->follow({id('d')});  // nor one the driver says is live
  EXPECT_TRUE(fs_.exists(file('a')));
  EXPECT_FALSE(fs_.exists(file('b')));
  EXPECT_TRUE(fs_.exists(file('c')));
  EXPECT_TRUE(fs_.exists(file('d')));
}

TEST_F(RemovalGuardTest, RetainOffKeepsEverything) {
  put(file('b'), 10, 10'000 * kHour);
  make_guard("", 0);
  guard_->follow({});
  EXPECT_TRUE(fs_.exists(file('b')));
}

}  // namespace
}  // namespace logguard
