// The node guard's plugin settings: defaults, every form, and errors that
// name the setting.
#include "logguard/config/node_settings.h"

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace logguard {
namespace {

NodeSettings from(const std::map<std::string, std::string>& env) {
  return node_settings_from_env(testing::env_of(env));
}

std::string error_of(const std::map<std::string, std::string>& env) {
  return testing::option_error([&] { from(env); });
}

TEST(NodeSettings, DefaultsAreAutoTenAndFifteenPercentAWeek) {
  NodeSettings s = from({});
  EXPECT_EQ(s.rate_mode, NodeSettings::RateMode::kAuto);
  EXPECT_EQ(s.write_burst, 64'000'000u);
  EXPECT_EQ(s.latency_target_nanos, 50'000'000);
  EXPECT_EQ(s.max_disk.resolve(1000), 100u);
  EXPECT_EQ(s.min_free.resolve(1000), 150u);
  EXPECT_EQ(s.retain_nanos, int64_t{168} * 3600 * 1'000'000'000);
  EXPECT_EQ(s.describe(),
            "NODE_WRITE_RATE=auto (ceiling 256MB/s, latency target 50ms) NODE_WRITE_BURST=64MB "
            "NODE_MAX_DISK=10% NODE_MIN_FREE=15% RETAIN=168h");
}

TEST(NodeSettings, WriteBurstIsASizeOfAtLeastAMegabyte) {
  EXPECT_EQ(from({{"NODE_WRITE_BURST", "200MiB"}}).write_burst, 200u << 20);
  EXPECT_EQ(error_of({{"NODE_WRITE_BURST", "100k"}}),
            "logguard: invalid plugin setting NODE_WRITE_BURST \"100k\": want a size of at least "
            "1m such as 64m");
  EXPECT_NE(error_of({{"NODE_WRITE_BURST", "lots"}}).find("NODE_WRITE_BURST"), std::string::npos);
}

TEST(NodeSettings, WriteRateForms) {
  EXPECT_EQ(from({{"NODE_WRITE_RATE", "32m"}}).rate_mode, NodeSettings::RateMode::kFixed);
  EXPECT_EQ(from({{"NODE_WRITE_RATE", "32m"}}).rate, 32e6);
  EXPECT_EQ(from({{"NODE_WRITE_RATE", "off"}}).rate_mode, NodeSettings::RateMode::kOff);
  EXPECT_EQ(from({{"NODE_WRITE_RATE", "0"}}).rate_mode, NodeSettings::RateMode::kOff);
  NodeSettings capped = from({{"NODE_WRITE_RATE", "Auto:64m"}});
  EXPECT_EQ(capped.rate_mode, NodeSettings::RateMode::kAuto);
  EXPECT_EQ(capped.rate, 64e6);
}

TEST(NodeSettings, SizesAndPercentages) {
  NodeSettings s = from({{"NODE_MAX_DISK", "5g"}, {"NODE_MIN_FREE", "2.5%"}});
  EXPECT_EQ(s.max_disk.resolve(1), 5'000'000'000u);
  EXPECT_EQ(s.min_free.resolve(1000), 25u);
  EXPECT_EQ(s.max_disk.describe(), "5GB");
}

TEST(NodeSettings, Durations) {
  EXPECT_EQ(parse_duration("300ms"), 300'000'000);
  EXPECT_EQ(parse_duration("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(parse_duration("2h45m"), 9'900'000'000'000);
  EXPECT_EQ(parse_duration("7d"), 604'800'000'000'000);
  EXPECT_EQ(parse_duration("0"), 0);
  for (const char* bad : {"", "h", "5", "5x", "-1h", "1h-", "abc"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(from({{"RETAIN", "off"}}).retain_nanos, 0);
  EXPECT_EQ(from({{"RETAIN", "72h"}}).retain_nanos, int64_t{72} * 3600 * 1'000'000'000);
}

TEST(NodeSettings, BadValuesNameTheSetting) {
  EXPECT_EQ(error_of({{"NODE_WRITE_RATE", "fast"}}),
            "logguard: invalid plugin setting NODE_WRITE_RATE \"fast\": want auto, "
            "auto:<ceiling> such as auto:64m, a rate such as 32m, or off");
  EXPECT_NE(error_of({{"NODE_WRITE_RATE", "auto:1k"}}).find("NODE_WRITE_RATE"), std::string::npos);
  EXPECT_NE(error_of({{"NODE_LATENCY_TARGET", "50"}}).find("NODE_LATENCY_TARGET \"50\""),
            std::string::npos);
  EXPECT_NE(error_of({{"NODE_LATENCY_TARGET", "2m"}}).find("between 1ms and 60s"),
            std::string::npos);
  EXPECT_NE(error_of({{"NODE_MAX_DISK", "lots"}}).find("NODE_MAX_DISK \"lots\""),
            std::string::npos);
  EXPECT_NE(error_of({{"NODE_MAX_DISK", "150%"}}).find("NODE_MAX_DISK"), std::string::npos);
  EXPECT_NE(error_of({{"NODE_MIN_FREE", "0"}}).find("NODE_MIN_FREE"), std::string::npos);
  EXPECT_NE(error_of({{"RETAIN", "forever"}}).find("RETAIN \"forever\""), std::string::npos);
}

}  // namespace
}  // namespace logguard
