// The CRI log path a container is linked at: only kubelet's own shape for the
// container's own labels, under the pods directory.
#include "logguard/config/pod_log_link.h"

#include <gtest/gtest.h>

#include "kube_test_labels.h"

namespace logguard {
namespace {

using testing::cri_log_path;
using testing::pod_labels;

const std::string kId = "3f1c0a9e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const std::string kPodDir = std::string("shop_web-0_") + testing::kPodUid;

std::map<std::string, std::string> with_logpath(const std::string& logpath) {
  return pod_labels("web-0", "shop", "app", logpath);
}

TEST(PodLogLink, IsTheLabelsPathLinkedToTheCurrentFileOnTheHost) {
  auto link = pod_log_link(with_logpath(cri_log_path("web-0", "shop", "app", 3)), kId, {});
  ASSERT_TRUE(link);
  EXPECT_EQ(link->path, kPodDir + "/app/3.log");
  EXPECT_EQ(link->target, "/var/log/logguard/" + kId + "/" + kId + "-json.log");
}

TEST(PodLogLink, FollowsTheHostPathsInTheSettings) {
  KubeSettings settings;
  settings.pod_logs_dir = "/data/pods";
  settings.logroot_source = "/srv/logs";
  auto link = pod_log_link(with_logpath("/data/pods/" + kPodDir + "/app/0.log"), kId, settings);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->target, "/srv/logs/" + kId + "/" + kId + "-json.log");
  EXPECT_FALSE(pod_log_link(with_logpath(cri_log_path("web-0", "shop")), kId, settings));
}

TEST(PodLogLink, NoneForAPathKubeletWouldNotBuild) {
  const std::string pods = "/var/log/pods/";
  for (const std::string& bad :
       {std::string(""), kPodDir + "/app/0.log",                   // relative
        pods + kPodDir + "/app/../app/0.log", pods + kPodDir + "/../x/app/0.log",
        pods + "../" + kPodDir + "/app/0.log", "/var/log/podsx/" + kPodDir + "/app/0.log",
        "/etc/" + kPodDir + "/app/0.log", pods + kPodDir + "/app/0.log.1",
        pods + kPodDir + "/app/x.log", pods + kPodDir + "/app/.log", pods + kPodDir + "/app/-1.log",
        pods + kPodDir + "/app/12345678901.log", pods + kPodDir + "/app//0.log",
        pods + kPodDir + "/app/0.log/", pods + kPodDir + "/app/sub/0.log",
        pods + kPodDir + "/0.log",
        pods + "shop_web-1_" + testing::kPodUid + "/app/0.log",  // another pod's directory
        pods + kPodDir + "/other/0.log",                          // another container's
        pods + "default_web-0_" + testing::kPodUid + "/app/0.log"}) {
    EXPECT_FALSE(pod_log_link(with_logpath(bad), kId, {})) << bad;
  }
}

TEST(PodLogLink, NoneWithoutThePodsMarkersOrForABadId) {
  auto labels = with_logpath(cri_log_path("web-0", "shop"));
  EXPECT_TRUE(pod_log_link(labels, kId, {}));
  EXPECT_FALSE(pod_log_link(labels, "../" + kId, {}));
  labels["io.kubernetes.docker.type"] = "podsandbox";
  EXPECT_FALSE(pod_log_link(labels, kId, {}));
}

TEST(PodLogLink, TemporaryNameMatchesNoGlobOfKubeletOrCollectors) {
  const std::string temp = pod_log_link_temp_name(kId);
  EXPECT_EQ(temp, ".logguard-" + kId + ".tmp");
  EXPECT_FALSE(temp.ends_with(".log"));            // collectors: *.log
  EXPECT_FALSE(temp.starts_with("0.log"));         // kubelet: <n>.log.* and <n>.log*
  EXPECT_EQ(temp.find(".log."), std::string::npos);
}

TEST(PodLogLinkOwner, OnlyLogguardsOwnTargets) {
  EXPECT_EQ(pod_log_link_owner("/var/log/logguard/" + kId + "/" + kId + "-json.log", {}), kId);
  for (const std::string& other :
       {"/var/lib/docker/containers/" + kId + "/" + kId + "-json.log",
        "/var/log/logguard/" + kId + "/" + kId + "-json.log.1",
        "/var/log/logguard/" + kId + "/other-json.log", "/var/log/logguard/../" + kId,
        std::string("/var/log/logguard/x/x-json.log"), std::string("relative")}) {
    EXPECT_EQ(pod_log_link_owner(other, {}), std::nullopt) << other;
  }
}

TEST(IsPodLogLinkPath, ThreeComponentsEndingInARestartLog) {
  EXPECT_TRUE(is_pod_log_link_path(kPodDir + "/app/0.log"));
  for (const char* bad : {"../../etc/passwd", "a/../0.log", "a/b/c/0.log", "a/b/x", "/a/b/0.log",
                          "a//0.log", "./b/0.log"}) {
    EXPECT_FALSE(is_pod_log_link_path(bad)) << bad;
  }
}

}  // namespace
}  // namespace logguard
