// Which containers count as a pod's: kubelet's labels plus the markers
// dockershim and cri-dockerd add, with values Kubernetes produces.
#include "logguard/config/kube_labels.h"

#include <gtest/gtest.h>

#include "kube_test_labels.h"

namespace logguard {
namespace {

using testing::pod_labels;

TEST(KubeContainer, NamesThePodsContainer) {
  const auto labels = pod_labels("web-0", "shop", "app");
  auto kube = kube_container(labels);
  ASSERT_TRUE(kube);
  EXPECT_EQ(kube->pod, "web-0");
  EXPECT_EQ(kube->ns, "shop");
  EXPECT_EQ(kube->uid, std::string(testing::kPodUid));
  EXPECT_EQ(kube->container, "app");
}

TEST(KubeContainer, NeedsEveryMarkerAndName) {
  for (const char* key :
       {"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid",
        "io.kubernetes.container.name", "io.kubernetes.docker.type", "io.kubernetes.sandbox.id"}) {
    auto missing = pod_labels("web-0");
    missing.erase(key);
    EXPECT_FALSE(kube_container(missing)) << key;
    auto empty = pod_labels("web-0");
    empty[key] = "";
    EXPECT_FALSE(kube_container(empty)) << key;
  }
}

TEST(KubeContainer, NotThePodSandbox) {
  auto sandbox = pod_labels("web-0");
  sandbox["io.kubernetes.docker.type"] = "podsandbox";
  EXPECT_FALSE(kube_container(sandbox));
}

TEST(KubeContainer, PodUidsAsKubeletMakesThem) {
  auto with_uid = [](const std::string& uid) {
    auto labels = pod_labels("web-0");
    labels["io.kubernetes.pod.uid"] = uid;
    return kube_container(labels).has_value();
  };
  EXPECT_TRUE(with_uid("6b7d3c1e-2f4a-4b8c-9d0e-1a2b3c4d5e6f"));
  EXPECT_TRUE(with_uid("0123456789abcdef0123456789abcdef"));  // a static pod's
  for (const char* bad :
       {"6B7D3C1E-2F4A-4B8C-9D0E-1A2B3C4D5E6F", "6b7d3c1e2f4a4b8c9d0e1a2b3c4d5e6f0",
        "6b7d3c1e-2f4a-4b8c-9d0e_1a2b3c4d5e6f", "../../etc", "uid",
        "6b7d3c1e-2f4a-4b8c-9d0e-1a2b3c4d5e6g"}) {
    EXPECT_FALSE(with_uid(bad)) << bad;
  }
}

TEST(KubeContainer, SandboxIdIsAContainerId) {
  auto labels = pod_labels("web-0");
  labels["io.kubernetes.sandbox.id"] = "not-an-id";
  EXPECT_FALSE(kube_container(labels));
}

}  // namespace
}  // namespace logguard
