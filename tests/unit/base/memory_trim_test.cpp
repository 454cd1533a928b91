#include "logguard/base/memory_trim.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace logguard {
namespace {

TEST(MemoryTrim, TrimsOnlyWhenASessionAContainersSeriesOrALogDirectoryWent) {
  MemoryTrim trim;
  EXPECT_FALSE(trim.something_ended(500, 500, 0));  // the first look only records
  EXPECT_FALSE(trim.something_ended(500, 500, 0));
  EXPECT_FALSE(trim.something_ended(501, 501, 0));  // growth frees nothing
  EXPECT_TRUE(trim.something_ended(0, 501, 0));     // every session ended
  EXPECT_TRUE(trim.something_ended(0, 501, 501));   // their directories' state went a tick later
  EXPECT_FALSE(trim.something_ended(0, 501, 0));    // series linger: nothing new
  EXPECT_TRUE(trim.something_ended(0, 0, 0));       // and then go
  EXPECT_FALSE(trim.something_ended(0, 0, 0));
  EXPECT_FALSE(trim.something_ended(2, 2, 0));
  EXPECT_TRUE(trim.something_ended(3, 1, 0));  // one went while another came
  EXPECT_TRUE(trim.something_ended(3, 1, 1));  // a directory went while another came
}

TEST(MemoryTrim, TrimmingKeepsWhatIsLive) {
  std::vector<std::unique_ptr<char[]>> kept;
  for (int i = 0; i < 64; ++i) {
    auto block = std::make_unique<char[]>(4096);
    block[0] = static_cast<char>(i);
    if (i % 2 == 0) kept.push_back(std::move(block));
  }
  trim_free_memory();
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i][0], static_cast<char>(2 * i));
}

}  // namespace
}  // namespace logguard
