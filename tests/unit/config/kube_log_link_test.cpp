#include "logguard/config/kube_log_link.h"

#include <gtest/gtest.h>

#include "kube_test_labels.h"

namespace logguard {
namespace {

const std::string kId = "3f1c0a9e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468";
const std::string kOtherId = "0000000000000000000000000000000000000000000000000000000000000001";

std::map<std::string, std::string> kube_labels(std::string pod, std::string ns,
                                               std::string container) {
  return testing::pod_labels(pod, ns, container);
}

TEST(KubeLogLinkName, IsPodNamespaceContainerAndId) {
  EXPECT_EQ(kube_log_link_name(kube_labels("web-7d4b9c6f8-x2x9z", "default", "nginx"), kId),
            "web-7d4b9c6f8-x2x9z_default_nginx-" + kId + ".log");
  // Pod names are DNS subdomains and may contain dots.
  EXPECT_EQ(kube_log_link_name(kube_labels("etcd.node-1.example", "kube-system", "etcd"), kId),
            "etcd.node-1.example_kube-system_etcd-" + kId + ".log");
}

TEST(KubeLogLinkName, OtherLabelsDoNotMatter) {
  auto labels = kube_labels("web-0", "shop", "app");
  labels["annotation.io.kubernetes.container.hash"] = "abc";
  labels["io.kubernetes.container.logpath"] = "/elsewhere";
  EXPECT_EQ(kube_log_link_name(labels, kId), "web-0_shop_app-" + kId + ".log");
}

// Issue 20: `docker run -l io.kubernetes.pod.namespace=kube-system ...` made
// a link collectors file under kube-system.
TEST(KubeLogLinkName, NoneForLabelsSetByHand) {
  const std::map<std::string, std::string> by_hand{{"io.kubernetes.pod.name", "web-0"},
                                                   {"io.kubernetes.pod.namespace", "kube-system"},
                                                   {"io.kubernetes.container.name", "app"}};
  EXPECT_EQ(kube_log_link_name(by_hand, kId), std::nullopt);
}

// "<pod>_<ns>_<container>-<id>" is cut to 251 bytes before ".log" is added, so
// names are at most 255 bytes; with namespace "default" and container "app"
// the stem is the pod name's length plus 77.
TEST(KubeLogLinkName, CutAt255BytesLikeKubelet) {
  auto name_for_stem = [](size_t stem_length) {
    return *kube_log_link_name(kube_labels(std::string(stem_length - 77, 'p'), "default", "app"),
                               kId);
  };
  std::string n250 = name_for_stem(250);
  EXPECT_EQ(n250.size(), 254u);
  EXPECT_TRUE(n250.ends_with("_default_app-" + kId + ".log"));

  std::string n251 = name_for_stem(251);
  EXPECT_EQ(n251.size(), 255u);
  EXPECT_TRUE(n251.ends_with("_default_app-" + kId + ".log"));  // exactly fits: nothing cut

  std::string n252 = name_for_stem(252);
  EXPECT_EQ(n252.size(), 255u);
  EXPECT_TRUE(n252.ends_with("_default_app-" + kId.substr(0, 63) + ".log"));  // last hex digit gone

  std::string n300 = name_for_stem(300);
  EXPECT_EQ(n300.size(), 255u);
  EXPECT_TRUE(n300.ends_with("_default_app-" + kId.substr(0, 15) + ".log"));
}

TEST(KubeLogLinkName, CutIsAPrefixOfTheFullNameForEveryPodLength) {
  for (size_t pod_length = 1; pod_length <= 253; ++pod_length) {
    std::string pod(pod_length, 'a');
    std::string full = pod + "_monitoring_sidecar-" + kId;
    auto name = kube_log_link_name(kube_labels(pod, "monitoring", "sidecar"), kId);
    ASSERT_TRUE(name) << pod_length;
    EXPECT_EQ(*name, full.substr(0, 251) + ".log") << pod_length;
    EXPECT_LE(name->size(), kKubeLinkNameMax);
  }
}

TEST(KubeLogLinkName, LongestNamesKeepOnlyThePodName) {
  std::string pod(253, 'x');
  auto name = kube_log_link_name(kube_labels(pod, std::string(63, 'n'), std::string(63, 'c')), kId);
  EXPECT_EQ(name, pod.substr(0, 251) + ".log");
}

TEST(KubeLogLinkName, NoneWithoutAllThreeLabels) {
  for (const char* key :
       {"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.container.name"}) {
    auto missing = kube_labels("web-0", "shop", "app");
    missing.erase(key);
    EXPECT_EQ(kube_log_link_name(missing, kId), std::nullopt) << key;
    auto empty = kube_labels("web-0", "shop", "app");
    empty[key] = "";
    EXPECT_EQ(kube_log_link_name(empty, kId), std::nullopt) << key;
  }
  EXPECT_EQ(kube_log_link_name({}, kId), std::nullopt);
}

TEST(KubeLogLinkName, NoneForThePodSandbox) {
  auto sandbox = kube_labels("web-0", "shop", "app");
  sandbox["io.kubernetes.docker.type"] = "podsandbox";
  EXPECT_EQ(kube_log_link_name(sandbox, kId), std::nullopt);
  // The sandbox's container-name label is "POD", not a valid name either.
  EXPECT_EQ(kube_log_link_name(kube_labels("web-0", "shop", "POD"), kId), std::nullopt);
}

TEST(KubeLogLinkName, NoneForValuesKubernetesNeverAllows) {
  const std::string ok_pod = "web-0", ok_ns = "shop", ok_container = "app";
  for (const std::string& bad :
       {std::string("a_b"), std::string("a/b"), std::string(".."), std::string("../etc"),
        std::string("Web"), std::string("-web"), std::string("web-"), std::string("we b"),
        std::string("caf\xc3\xa9"), std::string("a\nb"), std::string("a*b"), std::string("a?b"),
        std::string("a[0]"), std::string("a\0b", 3)}) {
    EXPECT_EQ(kube_log_link_name(kube_labels(bad, ok_ns, ok_container), kId), std::nullopt) << bad;
    EXPECT_EQ(kube_log_link_name(kube_labels(ok_pod, bad, ok_container), kId), std::nullopt) << bad;
    EXPECT_EQ(kube_log_link_name(kube_labels(ok_pod, ok_ns, bad), kId), std::nullopt) << bad;
  }
  // Dots: allowed between labels of a pod name only.
  for (const char* bad_pod : {".web", "web.", "web..0"}) {
    EXPECT_EQ(kube_log_link_name(kube_labels(bad_pod, ok_ns, ok_container), kId), std::nullopt)
        << bad_pod;
  }
  EXPECT_EQ(kube_log_link_name(kube_labels(ok_pod, "team.a", ok_container), kId), std::nullopt);
  EXPECT_EQ(kube_log_link_name(kube_labels(ok_pod, ok_ns, "app.v2"), kId), std::nullopt);
}

TEST(KubeLogLinkName, NoneBeyondKubernetesLengthLimits) {
  EXPECT_TRUE(kube_log_link_name(kube_labels(std::string(253, 'p'), "ns", "c"), kId));
  EXPECT_EQ(kube_log_link_name(kube_labels(std::string(254, 'p'), "ns", "c"), kId), std::nullopt);
  EXPECT_TRUE(kube_log_link_name(kube_labels("p", std::string(63, 'n'), "c"), kId));
  EXPECT_EQ(kube_log_link_name(kube_labels("p", std::string(64, 'n'), "c"), kId), std::nullopt);
  EXPECT_TRUE(kube_log_link_name(kube_labels("p", "ns", std::string(63, 'c')), kId));
  EXPECT_EQ(kube_log_link_name(kube_labels("p", "ns", std::string(64, 'c')), kId), std::nullopt);
}

TEST(KubeLogLinkName, NoneForAnIdThatIsNoPathComponent) {
  auto labels = kube_labels("web-0", "shop", "app");
  for (const std::string& bad_id :
       {std::string(), std::string("xyz"), std::string("../" + kId), std::string(129, 'a')}) {
    EXPECT_EQ(kube_log_link_name(labels, bad_id), std::nullopt) << bad_id;
  }
  EXPECT_EQ(kube_log_link_name(labels, "abc123"), "web-0_shop_app-abc123.log");
}

TEST(KubeLogLinkTarget, IsTheCurrentFileRelativeToTheLinkDirectory) {
  EXPECT_EQ(kube_log_link_target(kId), "../" + kId + "/" + kId + "-json.log");
}

TEST(IsKubeLogLinkFor, OwnLinkByNameAndTarget) {
  std::string name = *kube_log_link_name(kube_labels("web-0", "shop", "app"), kId);
  EXPECT_TRUE(is_kube_log_link_for(name, kube_log_link_target(kId), kId));
  // Another container's link, or one that points elsewhere, is not this container's.
  EXPECT_FALSE(is_kube_log_link_for(name, kube_log_link_target(kOtherId), kId));
  EXPECT_FALSE(is_kube_log_link_for(name, kube_log_link_target(kId), kOtherId));
  EXPECT_FALSE(is_kube_log_link_for(name, "/var/log/pods/shop_web-0_uid/app/0.log", kId));
}

TEST(IsKubeLogLinkFor, UncutNameMustEndWithTheId) {
  std::string other = *kube_log_link_name(kube_labels("web-0", "shop", "app"), kOtherId);
  EXPECT_FALSE(is_kube_log_link_for(other, kube_log_link_target(kId), kId));
  std::string long_other =
      *kube_log_link_name(kube_labels(std::string(173, 'p'), "default", "app"), kOtherId);
  ASSERT_EQ(long_other.size(), 254u);  // the longest name that is never cut
  EXPECT_FALSE(is_kube_log_link_for(long_other, kube_log_link_target(kId), kId));
  EXPECT_FALSE(is_kube_log_link_for("notes.txt", kube_log_link_target(kId), kId));
  EXPECT_FALSE(is_kube_log_link_for(".log", kube_log_link_target(kId), kId));
  EXPECT_FALSE(is_kube_log_link_for("a/b-" + kId + ".log", kube_log_link_target(kId), kId));
}

TEST(IsKubeLogLinkFor, CutNameIsRecognisedByItsTarget) {
  std::string cut = *kube_log_link_name(kube_labels(std::string(253, 'p'), "shop", "app"), kId);
  ASSERT_EQ(cut.find(kId.substr(0, 8)), std::string::npos);  // the ID is gone from the name
  EXPECT_TRUE(is_kube_log_link_for(cut, kube_log_link_target(kId), kId));
  EXPECT_FALSE(is_kube_log_link_for(cut, kube_log_link_target(kOtherId), kId));
  std::string too_long = cut.substr(0, 251) + "x.log";  // 256 bytes
  EXPECT_FALSE(is_kube_log_link_for(too_long, kube_log_link_target(kId), kId));
}

}  // namespace
}  // namespace logguard
