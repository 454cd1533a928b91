// The on-disk naming rules (log_names.h): what is a log file, in which order.
#include "logguard/format/log_names.h"

#include <gtest/gtest.h>

#include "fake_file_system.h"

namespace logguard {
namespace {

const std::string kBase = "c1-json.log";

TEST(LogNames, ContainerIdsAreHexOnly) {
  EXPECT_TRUE(is_container_id(std::string(64, 'a')));
  EXPECT_TRUE(is_container_id("0123456789abcdefABCDEF"));
  EXPECT_FALSE(is_container_id(""));
  EXPECT_FALSE(is_container_id("../../etc"));
  EXPECT_FALSE(is_container_id("abc/def"));
  EXPECT_FALSE(is_container_id(std::string(129, 'a')));
}

TEST(LogNames, PathsAsJsonFileNamesThem) {
  EXPECT_EQ(log_base_name("c1"), "c1-json.log");
  EXPECT_EQ(container_log_dir("/var/log/logguard", "c1"), "/var/log/logguard/c1");
  EXPECT_EQ(rotated_name(kBase, 1, Codec::kNone), "c1-json.log.1");
  EXPECT_EQ(rotated_name(kBase, 12, Codec::kGzip), "c1-json.log.12.gz");
  EXPECT_EQ(rotated_name(kBase, 3, Codec::kZstd), "c1-json.log.3.zst");
}

TEST(LogNames, ParsesRotationsWithoutLeadingZeros) {
  auto r = parse_rotated_name("c1-json.log.10.gz", kBase);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->index, 10u);
  EXPECT_EQ(r->form, Codec::kGzip);
  EXPECT_EQ(parse_rotated_name("c1-json.log.2", kBase)->form, Codec::kNone);
  EXPECT_EQ(parse_rotated_name("c1-json.log.2.zst", kBase)->form, Codec::kZstd);
  for (const char* other : {"c1-json.log", "c1-json.log.", "c1-json.log.01", "c1-json.log.0",
                            "c1-json.log.x", "c1-json.log.1.tmp", "c1-json.log.1.gz.tmp",
                            "c1-json.log1", "c2-json.log.1", "c1-json.log.1.bz2",
                            "c1-json.log.1234567890", "c1-json.log.-1"}) {
    EXPECT_FALSE(parse_rotated_name(other, kBase)) << other;
  }
}

TEST(LogNames, TemporariesAreNeverLogFiles) {
  const std::string temp = temp_name(kBase, "compress-ab12-7");
  EXPECT_EQ(temp, "c1-json.log.compress-ab12-7.tmp");
  EXPECT_TRUE(is_temp_name(temp, kBase));
  EXPECT_FALSE(parse_rotated_name(temp, kBase));
  EXPECT_FALSE(is_temp_name("c1-json.log.tmp", kBase));
  EXPECT_FALSE(is_temp_name("c2-json.log.x.tmp", kBase));
  EXPECT_FALSE(is_temp_name("c1-json.log.1", kBase));
}

TEST(LogNames, ListsOldestFirstPreferringThePlainTwin) {
  testing::FakeFileSystem fs;
  const std::string dir = "/logs/c1";
  for (const char* name : {"c1-json.log", "c1-json.log.1", "c1-json.log.1.gz", "c1-json.log.2.zst",
                           "c1-json.log.10.gz", "c1-json.log.01", "c1-json.log.x.tmp",
                           "unrelated"}) {
    fs.put(dir + "/" + name, "");
  }
  std::vector<std::string> names;
  std::vector<size_t> indices;
  for (const auto& f : list_log_files(fs, dir, kBase)) {
    names.push_back(f.name);
    indices.push_back(f.index);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c1-json.log.10.gz", "c1-json.log.2.zst",
                                             "c1-json.log.1", "c1-json.log"}));
  EXPECT_EQ(indices, (std::vector<size_t>{10, 2, 1, 0}));
  EXPECT_TRUE(list_log_files(fs, "/nowhere", kBase).empty());
}

TEST(LogNames, ALogWithoutCurrentFileListsItsRotations) {
  EXPECT_EQ(select_log_files({"c1-json.log.1.gz"}, kBase).size(), 1u);
  EXPECT_TRUE(select_log_files({}, kBase).empty());
}

}  // namespace
}  // namespace logguard
