#include "logguard/base/json_nesting.h"

#include <gtest/gtest.h>

#include <string>

namespace logguard {
namespace {

TEST(JsonNestingTest, CountsArraysAndObjects) {
  EXPECT_TRUE(json_nesting_within("", 0));
  EXPECT_TRUE(json_nesting_within(R"("text")", 0));
  EXPECT_FALSE(json_nesting_within("{}", 0));
  EXPECT_TRUE(json_nesting_within(R"({"a":[1,{"b":2}],"c":[]})", 3));
  EXPECT_FALSE(json_nesting_within(R"({"a":[1,{"b":2}],"c":[]})", 2));
  EXPECT_TRUE(json_nesting_within(std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(json_nesting_within(std::string(65, '[') + std::string(65, ']')));
}

TEST(JsonNestingTest, IgnoresBracketsInStrings) {
  EXPECT_TRUE(json_nesting_within(R"({"k":"[[[[{{{{","e":"\"[[[["})", 1));
  EXPECT_FALSE(json_nesting_within(R"({"k":"\\",[[[)", 3));  // an escaped backslash ends the string
}

TEST(JsonNestingTest, ClosersWithoutOpenersDoNotHideDepth) {
  EXPECT_FALSE(json_nesting_within("]]]]}}}}[[[", 2));
}

}  // namespace
}  // namespace logguard
