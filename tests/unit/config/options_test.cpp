#include "logguard/config/options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "logguard/config/kube_settings.h"
#include "logguard/config/node_settings.h"
#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

ContainerOptions parse(const LogOpts& opts, const LogOpts& defaults = {}) {
  return parse_container_options(opts, defaults);
}

std::string error_of(const LogOpts& opts, const LogOpts& defaults = {}) {
  try {
    parse_container_options(opts, defaults);
  } catch (const OptionError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Options, Defaults) {
  ContainerOptions o = parse({});
  EXPECT_EQ(o.limits.bytes_per_sec, 1e6);
  EXPECT_EQ(o.limits.burst_bytes, 10e6);
  EXPECT_EQ(o.limits.lines_per_sec, 0);
  EXPECT_EQ(o.limits.on_limit, OnLimit::kDrop);
  EXPECT_TRUE(o.limits.drop_notice);
  EXPECT_EQ(o.rotation.max_size, 20'000'000u);
  EXPECT_EQ(o.rotation.max_file, 5);
  EXPECT_EQ(o.rotation.codec, Codec::kGzip);
  EXPECT_EQ(o.limits.describe(), "rate=1MB/s burst=10MB");
}

TEST(Options, GoodValues) {
  ContainerOptions o = parse({{"rate", "512KiB/s"},
                              {"burst", "2m"},
                              {"line-rate", "100/s"},
                              {"line-burst", "250"},
                              {"on-limit", "block"},
                              {"drop-notice", "False"},
                              {"max-size", "1.5m"},
                              {"max-file", "3"},
                              {"compress", "zstd"}});
  EXPECT_EQ(o.limits.bytes_per_sec, 524'288);
  EXPECT_EQ(o.limits.burst_bytes, 2e6);
  EXPECT_EQ(o.limits.lines_per_sec, 100);
  EXPECT_EQ(o.limits.burst_lines, 250);
  EXPECT_EQ(o.limits.on_limit, OnLimit::kBlock);
  EXPECT_FALSE(o.limits.drop_notice);
  EXPECT_EQ(o.rotation.max_size, 1'500'000u);
  EXPECT_EQ(o.rotation.max_file, 3);
  EXPECT_EQ(o.rotation.codec, Codec::kZstd);
  EXPECT_EQ(o.limits.describe(), "rate=512KiB/s burst=2MB line-rate=100/s line-burst=250");
  EXPECT_EQ(o.limits.describe_line_rate(), "line-rate=100/s line-burst=250");
}

TEST(Options, OffMeansUnlimited) {
  ContainerOptions o = parse({{"rate", "off"}});
  EXPECT_EQ(o.limits.bytes_per_sec, 0);
  EXPECT_TRUE(o.limits.unlimited());
  EXPECT_EQ(o.limits.describe(), "unlimited");
  EXPECT_EQ(parse({{"rate", "0"}, {"line-rate", "off"}}).limits.describe(), "unlimited");
  EXPECT_EQ(parse({{"rate", "0"}, {"line-rate", "5"}}).limits.describe(),
            "line-rate=5/s line-burst=50");
}

TEST(Options, LineBurstDefaultsToTenSecondsOfLineRate) {
  EXPECT_EQ(parse({{"line-rate", "100"}}).limits.burst_lines, 1000);
  EXPECT_EQ(parse({{"line-rate", "0.05"}}).limits.burst_lines, 1);
}

TEST(Options, ContainerOptsOverrideDefaults) {
  LogOpts defaults{{"rate", "2m"}, {"burst", "4m"}, {"max-file", "2"}};
  ContainerOptions o = parse({{"rate", "3m"}}, defaults);
  EXPECT_EQ(o.limits.bytes_per_sec, 3e6);
  EXPECT_EQ(o.limits.burst_bytes, 4e6);
  EXPECT_EQ(o.rotation.max_file, 2);
}

TEST(Options, BoolAndCompressSpellings) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True", "yes", "on"}) {
    EXPECT_TRUE(parse({{"drop-notice", t}}).limits.drop_notice) << t;
    EXPECT_EQ(parse({{"compress", t}}).rotation.codec, Codec::kGzip) << t;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False", "no", "off"}) {
    EXPECT_FALSE(parse({{"drop-notice", f}}).limits.drop_notice) << f;
    EXPECT_EQ(parse({{"compress", f}}).rotation.codec, Codec::kNone) << f;
  }
  EXPECT_EQ(parse({{"compress", "gzip"}}).rotation.codec, Codec::kGzip);
  EXPECT_EQ(parse({{"compress", "ZSTD"}}).rotation.codec, Codec::kZstd);
}

TEST(Options, DockerAndOtherDriversKeysAreIgnored) {
  ContainerOptions o = parse({{"mode", "non-blocking"},
                              {"max-buffer-size", "4m"},
                              {"cache-disabled", "true"},
                              {"cache-max-size", "1m"},
                              {"cache-max-file", "2"},
                              {"cache-compress", "false"},
                              {"tag", "{{.Name}}"},
                              {"labels", "a,b"},
                              {"labels-regex", "^a"},
                              {"env", "HOME"},
                              {"env-regex", "^X"}});
  EXPECT_EQ(o.limits.bytes_per_sec, 1e6);
}

TEST(Options, UnknownKeyListsTheValidOnes) {
  EXPECT_EQ(error_of({{"rates", "1m"}}),
            "logguard: unknown log opt 'rates' (valid: rate, burst, line-rate, line-burst, "
            "on-limit, drop-notice, max-size, max-file, compress)");
  EXPECT_EQ(error_of({}, {{"Rate", "1m"}}).substr(0, 36), "logguard: unknown log opt 'Rate' (va");
}

TEST(Options, InvalidValuesNameOptionValueAndWant) {
  EXPECT_EQ(error_of({{"rate", "fast"}}),
            "logguard: invalid rate \"fast\": want a size such as 1m or 512k (or off)");
  EXPECT_EQ(error_of({{"rate", ""}}),
            "logguard: invalid rate \"\": want a size such as 1m or 512k (or off)");
  EXPECT_EQ(error_of({{"burst", "0"}}),
            "logguard: invalid burst \"0\": want a positive size such as 10m or 512k");
  EXPECT_EQ(error_of({{"burst", "off"}}),
            "logguard: invalid burst \"off\": want a positive size such as 10m or 512k");
  EXPECT_EQ(error_of({{"line-rate", "1k"}}),
            "logguard: invalid line-rate \"1k\": want a number of lines per second such as 100 "
            "(or off)");
  EXPECT_EQ(error_of({{"line-burst", "0"}}),
            "logguard: invalid line-burst \"0\": want a positive number of lines such as 1000");
  EXPECT_EQ(error_of({{"line-burst", "10/s"}}),
            "logguard: invalid line-burst \"10/s\": want a positive number of lines such as 1000");
  EXPECT_EQ(error_of({{"on-limit", "wait"}}),
            "logguard: invalid on-limit \"wait\": want drop or block");
  EXPECT_EQ(error_of({{"drop-notice", "maybe"}}),
            "logguard: invalid drop-notice \"maybe\": want true or false");
  EXPECT_EQ(error_of({{"max-size", "0"}}),
            "logguard: invalid max-size \"0\": want a size of at least 10k such as 20m or 512k");
  EXPECT_EQ(error_of({{"max-size", "-1"}}),
            "logguard: invalid max-size \"-1\": want a size of at least 10k such as 20m or 512k");
  EXPECT_EQ(error_of({{"max-file", "0"}}),
            "logguard: invalid max-file \"0\": want a whole number from 1 to 100");
  EXPECT_EQ(error_of({{"max-file", "2.5"}}),
            "logguard: invalid max-file \"2.5\": want a whole number from 1 to 100");
  EXPECT_EQ(error_of({{"max-file", "99999999999"}}),
            "logguard: invalid max-file \"99999999999\": want a whole number from 1 to 100");
  // Bounds that keep rotation cheap.
  EXPECT_EQ(error_of({{"max-file", "101"}}),
            "logguard: invalid max-file \"101\": want a whole number from 1 to 100");
  EXPECT_EQ(error_of({{"max-size", "9999"}}),
            "logguard: invalid max-size \"9999\": want a size of at least 10k such as 20m or 512k");
  EXPECT_EQ(parse_container_options({{"max-size", "10k"}, {"max-file", "100"}}, {}).rotation.max_file,
            100);
  EXPECT_EQ(error_of({{"compress", "lz4"}}),
            "logguard: invalid compress \"lz4\": want true, false, gzip or zstd");
}

TEST(Options, CompressNeedsRotatedFiles) {
  const std::string want =
      "logguard: compress=gzip needs max-file of at least 2 (with max-file=1 no file is ever "
      "rotated, so there is nothing to compress); set compress=false or raise max-file";
  EXPECT_EQ(error_of({{"compress", "true"}, {"max-file", "1"}}), want);
  EXPECT_EQ(error_of({{"max-file", "1"}}, {{"compress", "gzip"}}), want);
  // Only the built-in default asks for compression: it quietly turns off.
  EXPECT_EQ(parse({{"max-file", "1"}}).rotation.codec, Codec::kNone);
  EXPECT_EQ(parse({{"max-file", "1"}, {"compress", "false"}}).rotation.codec, Codec::kNone);
}

const char* fake_env(const std::map<std::string, std::string>& vars, const char* name) {
  auto it = vars.find(name);
  return it == vars.end() ? nullptr : it->second.c_str();
}

TEST(Options, DefaultsFromPluginSettings) {
  std::map<std::string, std::string> vars{
      {"RATE", "2m"},        {"BURST", "20m"},      {"LINE_RATE", "50"},  {"LINE_BURST", ""},
      {"ON_LIMIT", "block"}, {"DROP_NOTICE", "no"}, {"MAX_SIZE", "100m"}, {"MAX_FILE", "3"},
      {"COMPRESS", "zstd"},  {"UNRELATED", "x"}};
  LogOpts opts = default_log_opts_from_env([&](const char* n) { return fake_env(vars, n); });
  LogOpts want{{"rate", "2m"},        {"burst", "20m"},      {"line-rate", "50"},
               {"on-limit", "block"}, {"drop-notice", "no"}, {"max-size", "100m"},
               {"max-file", "3"},     {"compress", "zstd"}};
  EXPECT_EQ(opts, want);
  EXPECT_TRUE(default_log_opts_from_env([](const char*) { return nullptr; }).empty());
}

TEST(Options, BadPluginSettingNamesTheVariable) {
  auto error_for = [](std::map<std::string, std::string> vars) -> std::string {
    try {
      default_log_opts_from_env([&](const char* n) { return fake_env(vars, n); });
    } catch (const OptionError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_for({{"RATE", "fast"}}),
            "logguard: invalid plugin setting RATE \"fast\": want a size such as 1m or 512k (or "
            "off)");
  EXPECT_EQ(error_for({{"MAX_FILE", "0"}}),
            "logguard: invalid plugin setting MAX_FILE \"0\": want a whole number from 1 to 100");
  EXPECT_EQ(error_for({{"MAX_FILE", "1"}, {"COMPRESS", "true"}}),
            "logguard: plugin setting COMPRESS=true needs MAX_FILE of at least 2 (with one file "
            "nothing is rotated, so there is nothing to compress)");
  EXPECT_EQ(error_for({{"MAX_FILE", "1"}, {"COMPRESS", "false"}}), "no error");
}

// The plugin's manifest.
nlohmann::json config_json() {
  std::ifstream in(std::string(LOGGUARD_SOURCE_DIR) + "/config.json");
  EXPECT_TRUE(in) << "config.json";
  return in ? nlohmann::json::parse(in) : nlohmann::json::object();
}

// Its settings: name -> default.
std::map<std::string, std::string> settings(const nlohmann::json& manifest) {
  std::map<std::string, std::string> env;
  for (const auto& e : manifest.value("env", nlohmann::json::array())) {
    env[e.at("name")] = e.at("value");
  }
  return env;
}

// The managed plugin runs without glibc's per-thread caches: each
// long-lived thread (HTTP workers, write-back, node guard) kept freed
// chunks from all over the heap, which pinned ~2 MB after 150 containers had
// come and gone, beyond malloc_trim's reach (0.3 MB without; bench/density.py).
TEST(Options, ConfigJsonRunsThePluginWithoutMallocThreadCaches) {
  EXPECT_EQ(settings(config_json())["GLIBC_TUNABLES"], "glibc.malloc.tcache_count=0");
}

// config.json carries the plugin settings' defaults for `docker plugin
// inspect`; they must be the built-in ones, written once in options.cpp.
TEST(Options, ConfigJsonMirrorsTheBuiltInDefaults) {
  const nlohmann::json manifest = config_json();
  std::map<std::string, std::string> env = settings(manifest);
  for (const auto& [name, value] : builtin_log_opts()) {
    ASSERT_TRUE(env.count(name)) << name << " is not a setting in config.json";
    EXPECT_EQ(env[name], value) << name;
  }
  NodeSettings node;
  EXPECT_EQ(env["NODE_WRITE_RATE"], "auto");
  EXPECT_EQ(env["NODE_MAX_DISK"], node.max_disk.describe());
  EXPECT_EQ(env["NODE_MIN_FREE"], node.min_free.describe());
  EXPECT_EQ(parse_duration(env["NODE_LATENCY_TARGET"]), node.latency_target_nanos);
  EXPECT_EQ(parse_duration(env["RETAIN"]), node.retain_nanos);
  KubeSettings kube;
  EXPECT_EQ(env["KUBE_POD_LINKS"], kube.pod_links ? "on" : "off");
  EXPECT_EQ(env["KUBE_POD_LOGS_DIR"], kube.pod_logs_dir);
  EXPECT_EQ(env["KUBE_LOGROOT_SOURCE"], kube.logroot_source);
  EXPECT_EQ(parse_size(env["KUBE_LOG_MAX_SIZE"]), kube.log_max_size);
  // The pods mount is where kubelet's paths are, and the links point into the log root.
  std::map<std::string, std::string> mounts;
  for (const auto& m : manifest.at("mounts")) mounts[m.at("name")] = m.at("destination");
  EXPECT_EQ(mounts["pods"], kube.pod_logs_dir);
  EXPECT_EQ(mounts["logroot"], kube.logroot_source);
}

}  // namespace
}  // namespace logguard
