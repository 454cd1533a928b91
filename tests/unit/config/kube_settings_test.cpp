// The Kubernetes plugin settings: defaults, forms, errors that name the
// setting, and the max-size cap for linked containers.
#include "logguard/config/kube_settings.h"

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace logguard {
namespace {

KubeSettings from(const std::map<std::string, std::string>& env) {
  return kube_settings_from_env(testing::env_of(env));
}

std::string error_of(const std::map<std::string, std::string>& env) {
  return testing::option_error([&] { from(env); });
}

TEST(KubeSettings, DefaultsMirrorKubelet) {
  KubeSettings s = from({});
  EXPECT_TRUE(s.pod_links);
  EXPECT_EQ(s.pod_logs_dir, "/var/log/pods");
  EXPECT_EQ(s.logroot_source, "/var/log/logguard");
  EXPECT_EQ(s.log_max_size, 10u * 1024 * 1024);
  EXPECT_EQ(s.describe(),
            "KUBE_POD_LINKS=on KUBE_POD_LOGS_DIR=/var/log/pods "
            "KUBE_LOGROOT_SOURCE=/var/log/logguard KUBE_LOG_MAX_SIZE=10MiB");
}

TEST(KubeSettings, EveryForm) {
  KubeSettings s = from({{"KUBE_POD_LINKS", "off"},
                         {"KUBE_POD_LOGS_DIR", "/data/pods"},
                         {"KUBE_LOGROOT_SOURCE", "/data/logs"},
                         {"KUBE_LOG_MAX_SIZE", "50Mi"}});
  EXPECT_FALSE(s.pod_links);
  EXPECT_EQ(s.pod_logs_dir, "/data/pods");
  EXPECT_EQ(s.logroot_source, "/data/logs");
  EXPECT_EQ(s.log_max_size, 50u * 1024 * 1024);
  EXPECT_TRUE(from({{"KUBE_POD_LINKS", "ON"}}).pod_links);
  EXPECT_EQ(from({{"KUBE_LOG_MAX_SIZE", "off"}}).log_max_size, 0u);
}

TEST(KubeSettings, ErrorsNameTheSetting) {
  EXPECT_EQ(error_of({{"KUBE_POD_LINKS", "maybe"}}),
            "logguard: invalid plugin setting KUBE_POD_LINKS \"maybe\": want on or off");
  for (const char* bad : {"var/log/pods", "/var/log/../pods", "/var/log/pods/", "/", "/a//b",
                          "/a/./b"}) {
    EXPECT_NE(error_of({{"KUBE_POD_LOGS_DIR", bad}}).find("KUBE_POD_LOGS_DIR"), std::string::npos)
        << bad;
    EXPECT_NE(error_of({{"KUBE_LOGROOT_SOURCE", bad}}).find("KUBE_LOGROOT_SOURCE"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(error_of({{"KUBE_LOG_MAX_SIZE", "big"}}),
            "logguard: invalid plugin setting KUBE_LOG_MAX_SIZE \"big\": want kubelet's "
            "containerLogMaxSize such as 10Mi (at least 12k), or off");
  EXPECT_NE(error_of({{"KUBE_LOG_MAX_SIZE", "11k"}}), "");
  EXPECT_EQ(error_of({{"KUBE_LOG_MAX_SIZE", "12k"}}), "");
}

// kubelet rotates a file that reaches containerLogMaxSize; logguard's file
// passes its max-size by at most one record.
TEST(KubeSettings, LinkedContainersRotateAtNineTenthsOfKubeletsSize) {
  KubeSettings s;
  EXPECT_EQ(s.linked_max_size(20'000'000), 9'437'184u);  // 10Mi / 10 * 9
  EXPECT_EQ(s.linked_max_size(1'000'000), 1'000'000u);   // already below
  EXPECT_EQ(s.linked_max_size(0), 9'437'184u);           // never rotated: capped too
  s.log_max_size = 0;                                    // kubelet does not rotate
  EXPECT_EQ(s.linked_max_size(20'000'000), 20'000'000u);
}

}  // namespace
}  // namespace logguard
