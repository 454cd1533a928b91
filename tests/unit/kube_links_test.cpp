#include "logguard/kube_links.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;

const std::string kId = "3f1c0a9e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const std::string kOtherId = "0000000000000000000000000000000000000000000000000000000000000001";
const std::string kRoot = "/logs";
const std::string kLinks = "/logs/containers";

std::map<std::string, std::string> kube_labels(const std::string& pod) {
  return {{"io.kubernetes.pod.name", pod},
          {"io.kubernetes.pod.namespace", "default"},
          {"io.kubernetes.container.name", "app"}};
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
  FakeFileSystem fs_;
  KubeLinks links_{fs_, kRoot};
};

TEST_F(KubeLinksTest, LinksTheCurrentFileUnderKubeletsName) {
  links_.ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.read_symlink(link_of("web-1", kId)), "../" + kId + "/" + kId + "-json.log");
  EXPECT_EQ(fs_.list_dir(kLinks).size(), 1u);  // no temporary left behind
}

TEST_F(KubeLinksTest, NoLinkWithoutKubeletsLabels) {
  links_.ensure(kId, {{"team", "pay"}});
  EXPECT_TRUE(fs_.list_dir(kLinks).empty());
}

TEST_F(KubeLinksTest, EnsureAgainKeepsOneLinkAndRepairsAWrongOne) {
  links_.ensure(kId, kube_labels("web-1"));
  links_.ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.list_dir(kLinks).size(), 1u);

  fs_.remove(link_of("web-1", kId));
  fs_.create_symlink("../elsewhere", link_of("web-1", kId));
  links_.ensure(kId, kube_labels("web-1"));
  EXPECT_EQ(fs_.read_symlink(link_of("web-1", kId)), "../" + kId + "/" + kId + "-json.log");
}

TEST_F(KubeLinksTest, RemoveForTakesOnlyThatContainersLinks) {
  links_.ensure(kId, kube_labels("web-1"));
  links_.ensure(kOtherId, kube_labels("web-2"));
  links_.remove_for(kId);
  EXPECT_FALSE(fs_.read_symlink(link_of("web-1", kId)));
  EXPECT_TRUE(fs_.read_symlink(link_of("web-2", kOtherId)));
}

TEST_F(KubeLinksTest, RemoveForFindsACutNameByItsTarget) {
  const std::string pod(240, 'p');  // the name is cut inside the ID
  links_.ensure(kId, kube_labels(pod));
  ASSERT_EQ(fs_.list_dir(kLinks).size(), 1u);
  links_.remove_for(kId);
  EXPECT_TRUE(fs_.list_dir(kLinks).empty());
}

TEST_F(KubeLinksTest, PruneRemovesLinksWhoseLogsAreGone) {
  links_.ensure(kId, kube_labels("web-1"));
  links_.ensure(kOtherId, kube_labels("web-2"));
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
