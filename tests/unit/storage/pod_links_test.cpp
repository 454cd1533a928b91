// The links at CRI log paths over a fake file system: made only where kubelet
// made the directory, never over anything that is not a stale logguard link,
// kept until the logs go, removed only while still logguard's.
#include "logguard/storage/pod_links.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"
#include "kube_test_labels.h"
#include "logguard/config/pod_log_link.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kId = "3f1c0a9e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const std::string kOtherId = "0000000000000000000000000000000000000000000000000000000000000001";
const std::string kPods = "/var/log/pods";
const std::string kRoot = "/logs";
const std::string kPodDir = kPods + "/shop_web-0_" + testing::kPodUid + "/app";
const std::string kLink = kPodDir + "/0.log";

std::string target_of(const std::string& id) {
  return "/var/log/logguard/" + id + "/" + id + "-json.log";
}

std::map<std::string, std::string> labels(int restart = 0) {
  return testing::pod_labels("web-0", "shop", "app",
                             testing::cri_log_path("web-0", "shop", "app", restart));
}

class PodLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_.create_dirs(kPodDir);  // kubelet makes it
    fs_.create_dirs(kRoot + "/" + kId);
  }
  void ensure(const std::string& id = kId, int restart = 0) {
    links_.ensure(id, labels(restart), [&](const std::string& other) { return live_ == other; });
  }

  FakeFileSystem fs_;
  PodLinks links_{fs_, kPods, fs_, kRoot, KubeSettings{}};
  std::string live_;  // the container (other than the one linked) with a live session
};

TEST_F(PodLinksTest, LinksTheCriLogPathToTheCurrentFile) {
  ensure();
  EXPECT_EQ(fs_.read_symlink(kLink), target_of(kId));
  EXPECT_EQ(fs_.list_dir(kPodDir), std::vector<std::string>{"0.log"});  // no temporary left
  ensure();  // again (a reattach): kept as it is
  EXPECT_EQ(fs_.list_dir(kPodDir), std::vector<std::string>{"0.log"});
}

TEST_F(PodLinksTest, NothingWhereKubeletMadeNoDirectory) {
  links_.ensure(kId,
                testing::pod_labels("web-9", "shop", "app", testing::cri_log_path("web-9", "shop")),
                [](const std::string&) { return false; });
  EXPECT_EQ(fs_.entry_type(kPods + "/shop_web-9_" + testing::kPodUid), EntryType::kMissing);
  EXPECT_TRUE(fs_.list_dir(kRoot + "/.pod-links").empty());
}

TEST_F(PodLinksTest, NothingForContainersWithoutAValidLogPath) {
  links_.ensure(kId, testing::pod_labels("web-0", "shop", "app", kPods + "/../etc/0.log"),
                [](const std::string&) { return false; });
  links_.ensure(kId, testing::pod_labels("web-0", "shop", "app"),
                [](const std::string&) { return false; });
  EXPECT_TRUE(fs_.list_dir(kPodDir).empty());
}

TEST_F(PodLinksTest, NeverReplacesAFileOrALinkThatIsNotLogguards) {
  testing::QuietLogs quiet;
  fs_.put(kLink, "kubelet's own");
  ensure();
  EXPECT_EQ(fs_.read_all(kLink), "kubelet's own");
  fs_.remove(kLink);
  fs_.create_symlink("/var/lib/docker/containers/x/x-json.log", kLink);
  ensure();
  EXPECT_EQ(fs_.read_symlink(kLink), "/var/lib/docker/containers/x/x-json.log");
  EXPECT_EQ(fs_.list_dir(kPodDir), std::vector<std::string>{"0.log"});
}

TEST_F(PodLinksTest, TakesALinkOfAContainerThatNoLongerLogsNotOfOneThatDoes) {
  testing::QuietLogs quiet;
  fs_.create_symlink(target_of(kOtherId), kLink);
  live_ = kOtherId;
  ensure();
  EXPECT_EQ(fs_.read_symlink(kLink), target_of(kOtherId));
  live_.clear();
  ensure();
  EXPECT_EQ(fs_.read_symlink(kLink), target_of(kId));
}

// kubelet's rotation renames the link away, fails to have it reopened, and
// renames it back (pkg/kubelet/logs/container_log_manager.go).
TEST_F(PodLinksTest, ALinkRenamedAwayAndBackIsStillOurs) {
  ensure();
  fs_.rename(kLink, kLink + ".20261206-220205");
  fs_.rename(kLink + ".20261206-220205", kLink);
  ensure();
  EXPECT_EQ(fs_.list_dir(kPodDir), std::vector<std::string>{"0.log"});
  links_.remove_for(kId);
  EXPECT_EQ(fs_.entry_type(kLink), EntryType::kMissing);
}

TEST_F(PodLinksTest, RestartedContainersKeepTheirOwnLinks) {
  ensure(kId, 0);
  fs_.create_dirs(kRoot + "/" + kOtherId);
  ensure(kOtherId, 1);
  EXPECT_EQ(fs_.read_symlink(kLink), target_of(kId));  // for --previous
  EXPECT_EQ(fs_.read_symlink(kPodDir + "/1.log"), target_of(kOtherId));
  links_.remove_for(kId);
  EXPECT_EQ(fs_.entry_type(kLink), EntryType::kMissing);
  EXPECT_EQ(fs_.read_symlink(kPodDir + "/1.log"), target_of(kOtherId));
}

TEST_F(PodLinksTest, RemovalLeavesWhatIsNoLongerOurs) {
  ensure();
  fs_.remove(kLink);
  fs_.put(kLink, "written by someone else since");
  links_.remove_for(kId);
  EXPECT_EQ(fs_.read_all(kLink), "written by someone else since");
  EXPECT_TRUE(fs_.list_dir(kRoot + "/.pod-links").empty());
}

TEST_F(PodLinksTest, PruneRemovesLinksWhoseLogsAreGone) {
  ensure();
  fs_.create_dirs(kRoot + "/" + kOtherId);
  ensure(kOtherId, 1);
  fs_.remove_dir(kRoot + "/" + kId);
  links_.prune();
  EXPECT_EQ(fs_.entry_type(kLink), EntryType::kMissing);
  EXPECT_TRUE(fs_.read_symlink(kPodDir + "/1.log"));
}

TEST_F(PodLinksTest, APlantedRecordCannotPointOutsideThePodsDirectory) {
  fs_.put("/etc/precious", "x");
  fs_.create_dirs(kRoot + "/.pod-links");
  fs_.create_symlink("../../../etc/precious", kRoot + "/.pod-links/" + kId);
  links_.remove_for(kId);
  EXPECT_EQ(fs_.read_all("/etc/precious"), "x");
  EXPECT_EQ(fs_.entry_type(kRoot + "/.pod-links/" + kId), EntryType::kMissing);
}

// Something appears at the path between the look and the rename: it stays.
class AppearingFileSystem : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  void create_symlink(const std::string& target, const std::string& path) override {
    FileSystemWrapper::create_symlink(target, path);
    if (path.ends_with(".tmp")) static_cast<FakeFileSystem&>(this->target()).put(kLink, "late");
  }
};

TEST_F(PodLinksTest, NeverReplacesWhatAppearedMeanwhile) {
  testing::QuietLogs quiet;
  AppearingFileSystem appearing(fs_);
  PodLinks links(appearing, kPods, fs_, kRoot, KubeSettings{});
  links.ensure(kId, labels(), [](const std::string&) { return false; });
  EXPECT_EQ(fs_.read_all(kLink), "late");
  EXPECT_EQ(fs_.list_dir(kPodDir), std::vector<std::string>{"0.log"});
}

}  // namespace
}  // namespace logguard
