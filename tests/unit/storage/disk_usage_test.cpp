// The log root as the node guard sees it, and the order eviction follows.
#include "logguard/storage/disk_usage.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"
#include "logguard/format/log_names.h"

namespace logguard {
namespace {

std::string id(char c) { return std::string(64, c); }

LogFileUsage usage(char c, size_t index, uint64_t bytes, int64_t modified) {
  std::string base = log_base_name(id(c));
  return {id(c), index == 0 ? base : rotated_name(base, index, Codec::kNone), index, bytes,
          modified};
}

TEST(DiskUsage, ScanCountsOnlyContainerLogs) {
  testing::FakeFileSystem fs;
  const std::string dir = container_log_dir("/logs", id('a'));
  fs.put(dir + "/" + log_base_name(id('a')), "1234");
  fs.put(dir + "/" + log_base_name(id('a')) + ".1.gz", "12");
  fs.put(dir + "/" + temp_name(log_base_name(id('a')), "compress-1"), "1");
  fs.put(dir + "/other", "123456789");
  fs.put("/logs/containers/pod_ns_c-" + id('a') + ".log", "123456789");
  fs.put("/logs/.logguard-probe", "123456789");
  LogRootUsage u = scan_log_root(fs, "/logs");
  EXPECT_EQ(u.bytes, 7u);
  EXPECT_EQ(u.files.size(), 3u);
  EXPECT_EQ(u.containers, std::vector<std::string>{id('a')});
}

TEST(DiskUsage, EndedContainersFirstThenLiveRotationsOldestFirst) {
  LogRootUsage u;
  u.files = {usage('a', 0, 10, 900), usage('a', 1, 10, 500), usage('a', 2, 10, 100),
             usage('b', 0, 10, 300), usage('b', 1, 10, 200), usage('c', 0, 10, 400)};
  auto live = [](const std::string& c) { return c == id('a'); };
  auto plan = plan_eviction(u, live, 1000);
  std::vector<std::pair<char, bool>> order;
  for (const auto& e : plan) order.emplace_back(e.container_id[0], e.current);
  // b's rotation (200), b's current file (300), c (400); then a's rotations,
  // .2 (100) before .1 (500); never a's current file.
  EXPECT_EQ(order, (std::vector<std::pair<char, bool>>{
                       {'b', false}, {'b', true}, {'c', true}, {'a', false}, {'a', false}}));
}

TEST(DiskUsage, StopsOnceEnoughIsFreed) {
  LogRootUsage u;
  u.files = {usage('b', 1, 100, 1), usage('b', 0, 100, 2), usage('c', 0, 100, 3)};
  EXPECT_EQ(plan_eviction(u, [](const std::string&) { return false; }, 150).size(), 2u);
  EXPECT_TRUE(plan_eviction(u, [](const std::string&) { return false; }, 0).empty());
}

}  // namespace
}  // namespace logguard
