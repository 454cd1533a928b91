#include "logguard/storage/kube_links.h"

#include <gtest/gtest.h>

#include <set>

#include "fake_file_system.h"
#include "kube_test_labels.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kId = "3f1c0a9e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const std::string kOtherId = "0000000000000000000000000000000000000000000000000000000000000001";
const std::string kRoot = "/logs";
const std::string kLinks = "/logs/containers";

std::map<std::string, std::string> kube_labels(const std::string& pod) {
  return testing::pod_labels(pod);
}

std::string link_of(const std::string& pod, const std::string& id) {
  return kLinks + "/" + pod + "_default_app-" + id + ".log";
}

class KubeLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_.create_dirs(kRoot + "/" + kId);
    fs_.create_dirs(kRoot + "/" + kOtherId);
  }
  void ensure(const std::string& id, const std::map<std::string, std::string>& labels) {
    links_.ensure(id, labels, [&](const std::string& other) { return live_.count(other) > 0; });
  }

  FakeFileSystem fs_;
  KubeLinks links_{fs_, kRoot};
  std::set<std::string> live_;  // containers with a live session
};

TEST_F(KubeLinksTest, LinksTheCurrentFileUnderKubeletsName) {
  ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.read_symlink(link_of("web-1", kId)), "../" + kId + "/" + kId + "-json.log");
  EXPECT_EQ(fs_.list_dir(kLinks).size(), 1u);  // no temporary left behind
}

TEST_F(KubeLinksTest, NoLinkWithoutKubeletsLabels) {
  ensure(kId, {{"team", "pay"}});
  EXPECT_TRUE(fs_.list_dir(kLinks).empty());
}

TEST_F(KubeLinksTest, EnsureAgainKeepsOneLinkAndRepairsAWrongOne) {
  ensure(kId, kube_labels("web-1"));
  ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.list_dir(kLinks).size(), 1u);

  fs_.remove(link_of("web-1", kId));
  fs_.create_symlink("../elsewhere", link_of("web-1", kId));
  ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.read_symlink(link_of("web-1", kId)), "../" + kId + "/" + kId + "-json.log");
}

TEST_F(KubeLinksTest, RemoveForTakesOnlyThatContainersLinks) {
  ensure(kId, kube_labels("web-1"));
  ensure(kOtherId, kube_labels("web-2"));
  links_.remove_for(kId);
  EXPECT_FALSE(fs_.read_symlink(link_of("web-1", kId)));
  EXPECT_TRUE(fs_.read_symlink(link_of("web-2", kOtherId)));
}

TEST_F(KubeLinksTest, RemoveForFindsACutNameByItsTarget) {
  const std::string pod(240, 'p');  // the name is cut inside the ID
  ensure(kId, kube_labels(pod));
  ASSERT_EQ(fs_.list_dir(kLinks).size(), 1u);
  links_.remove_for(kId);
  EXPECT_TRUE(fs_.list_dir(kLinks).empty());
}

// Issue 20: two containers of a pod whose name is cut before their IDs share
// the link's name; neither may take it from the other while that one logs,
// nor remove the other's.
TEST_F(KubeLinksTest, ACutNameSharedByTwoContainersStaysWithTheOneThatLogs) {
  const std::string pod(253, 'p');
  const std::string name = kLinks + "/" + pod.substr(0, 251) + ".log";
  live_ = {kId};
  ensure(kId, kube_labels(pod));
  live_.insert(kOtherId);
  ensure(kOtherId, kube_labels(pod));
  EXPECT_EQ(fs_.read_symlink(name), "../" + kId + "/" + kId + "-json.log");
  links_.remove_for(kOtherId);
  EXPECT_EQ(fs_.read_symlink(name), "../" + kId + "/" + kId + "-json.log");
  live_.erase(kId);  // its session ended: the Driver offers the name again
  ensure(kOtherId, kube_labels(pod));
  EXPECT_EQ(fs_.read_symlink(name), "../" + kOtherId + "/" + kOtherId + "-json.log");
  links_.remove_for(kId);
  EXPECT_EQ(fs_.read_symlink(name), "../" + kOtherId + "/" + kOtherId + "-json.log");
}

TEST_F(KubeLinksTest, PruneRemovesLinksWhoseLogsAreGone) {
  ensure(kId, kube_labels("web-1"));
  ensure(kOtherId, kube_labels("web-2"));
  fs_.remove_dir(kRoot + "/" + kId);
  links_.prune();
  EXPECT_FALSE(fs_.read_symlink(link_of("web-1", kId)));
  EXPECT_TRUE(fs_.read_symlink(link_of("web-2", kOtherId)));
}

TEST_F(KubeLinksTest, PruneLeavesOtherFilesAlone) {
  fs_.create_dirs(kLinks);
  fs_.create_symlink("/var/lib/docker/containers/x/x-json.log", kLinks + "/other_ns_c-x.log");
  fs_.put(kLinks + "/notes.txt", "kept");
  links_.prune();
  EXPECT_EQ(fs_.list_dir(kLinks).size(), 2u);
}

TEST_F(KubeLinksTest, NothingToDoWithoutTheLinkDirectory) {
  links_.remove_for(kId);
  links_.prune();
  EXPECT_TRUE(fs_.list_dir(kLinks).empty());
}

}  // namespace
}  // namespace logguard
