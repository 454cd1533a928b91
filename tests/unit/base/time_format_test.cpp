#include "logguard/base/time_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <utility>

namespace logguard {
namespace {

TEST(TimeFormatTest, FormatsGoRfc3339Nano) {
  EXPECT_EQ(format_rfc3339nano(1700000000123456789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(format_rfc3339nano(1741083072123456700), "2025-03-04T10:11:12.1234567Z");
  EXPECT_EQ(format_rfc3339nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339nano(1'500'000'000), "1970-01-01T00:00:01.5Z");
  EXPECT_EQ(format_rfc3339nano(100'000'000), "1970-01-01T00:00:00.1Z");
  EXPECT_EQ(format_rfc3339nano(10), "1970-01-01T00:00:00.00000001Z");
  EXPECT_EQ(format_rfc3339nano(951782400000000000), "2000-02-29T00:00:00Z");
}

TEST(TimeFormatTest, FormatsTimesBefore1970) {
  EXPECT_EQ(format_rfc3339nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_rfc3339nano(-1'000'000'000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339nano(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(format_rfc3339nano(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
}

TEST(TimeFormatTest, AppendsToExistingText) {
  std::string out = "x=";
  EXPECT_TRUE(append_rfc3339nano(out, 0));
  EXPECT_EQ(out, "x=1970-01-01T00:00:00Z");
}

TEST(TimeFormatTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.123456789Z"), 1700000000123456789);
  EXPECT_EQ(parse_rfc3339("2023-11-14T23:13:20.123456789+01:00"), 1700000000123456789);
  EXPECT_EQ(parse_rfc3339("2023-11-14T16:43:20-05:30"), 1700000000000000000);
  EXPECT_EQ(parse_rfc3339("2023-11-14t22:13:20z"), 1700000000000000000);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
}

TEST(TimeFormatTest, ParsesFractionsOfAnyWidth) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.1Z"), 100'000'000);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.000000001Z"), 1);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.12345Z"), 123'450'000);
  // Go ignores digits beyond nanoseconds.
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.1234567899Z"), 123'456'789);
}

TEST(TimeFormatTest, ParsesTimesBefore1970) {
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59.5Z"), -500'000'000);
  EXPECT_EQ(parse_rfc3339("1900-01-01T00:00:00Z"), -2208988800LL * 1'000'000'000);
}

TEST(TimeFormatTest, SaturatesOutsideInt64Nanoseconds) {
  EXPECT_EQ(parse_rfc3339("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(parse_rfc3339("1677-09-21T00:12:43.145224193Z"), INT64_MIN + 1);
  EXPECT_EQ(parse_rfc3339("1677-09-21T00:12:43.145224191Z"), INT64_MIN);
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:16.854775806Z"), INT64_MAX - 1);
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59.999999999Z"), INT64_MAX);
  EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), INT64_MIN);
}

TEST(TimeFormatTest, RejectsMalformedText) {
  for (const char* text : {
           "", "garbage", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z",
           "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20+0100", "2023-11-14T22:13:20+01",
           "2023-11-14T22:13:20Zjunk", "2023-13-01T00:00:00Z", "2023-00-01T00:00:00Z",
           "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-11-14T24:00:00Z",
           "2023-11-14T22:60:00Z", "2023-11-14T22:13:60Z", "2023-11-14T22:13:20+24:00",
           "2023-11-14T22:13:20+01:60", "23-11-14T22:13:20Z", "2023-1-14T22:13:20Z",
           "2023-11-14T22:13:2xZ", "+2023-11-14T22:13:20Z"}) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), 951782400LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339("1900-02-29T00:00:00Z"), std::nullopt);
}

TEST(TimeFormatTest, RecognisesGoZeroTimeExactly) {
  EXPECT_TRUE(is_zero_go_time("0001-01-01T00:00:00Z"));
  EXPECT_TRUE(is_zero_go_time("0001-01-01T01:00:00+01:00"));
  EXPECT_TRUE(is_zero_go_time("0001-01-01T00:00:00.000Z"));
  EXPECT_FALSE(is_zero_go_time("0001-01-01T00:00:00.000000001Z"));
  EXPECT_FALSE(is_zero_go_time("0001-01-01T00:00:00-01:00"));
  EXPECT_FALSE(is_zero_go_time("1600-01-01T00:00:00Z"));
  EXPECT_FALSE(is_zero_go_time("1970-01-01T00:00:00Z"));
  EXPECT_FALSE(is_zero_go_time(""));
  EXPECT_FALSE(is_zero_go_time("0001-01-01"));
}

// Each thread reuses the date-time text of the last second it formatted:
// whatever order times come in, each must still get its own.
TEST(TimeFormatTest, FormatsEachSecondRightWhateverCameBefore) {
  const std::pair<int64_t, const char*> sequence[] = {
      {1700000000999999999, "2023-11-14T22:13:20.999999999Z"},
      {1700000001000000000, "2023-11-14T22:13:21Z"},
      {1700000001000000001, "2023-11-14T22:13:21.000000001Z"},
      {1700000000500000000, "2023-11-14T22:13:20.5Z"},  // back a second
      {1700000000500000000 + 86'400'000'000'000, "2023-11-15T22:13:20.5Z"},  // a day on
      {1704067199900000000, "2023-12-31T23:59:59.9Z"},
      {1704067200000000000, "2024-01-01T00:00:00Z"},  // a new year
      {1709164799999999999, "2024-02-28T23:59:59.999999999Z"},
      {1709164800000000001, "2024-02-29T00:00:00.000000001Z"},  // a leap day
      {1709251200000000000, "2024-03-01T00:00:00Z"},
      {4107542399000000000, "2100-02-28T23:59:59Z"},
      {4107542400000000000, "2100-03-01T00:00:00Z"},  // a century without one
      {951868799999999999, "2000-02-29T23:59:59.999999999Z"},
      {0, "1970-01-01T00:00:00Z"},
      {-1, "1969-12-31T23:59:59.999999999Z"},
      {-999'999'999, "1969-12-31T23:59:59.000000001Z"},
      {-1'000'000'000, "1969-12-31T23:59:59Z"},
      {-1'000'000'001, "1969-12-31T23:59:58.999999999Z"},
      {1, "1970-01-01T00:00:00.000000001Z"},
      {INT64_MIN, "1677-09-21T00:12:43.145224192Z"},
      {INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
      {INT64_MAX - 854775807, "2262-04-11T23:47:16Z"},
  };
  for (int pass = 0; pass < 2; ++pass) {  // the second starts from the last second cached
    for (const auto& [nanos, text] : sequence) EXPECT_EQ(format_rfc3339nano(nanos), text) << nanos;
  }
}

TEST(TimeFormatTest, WriteAndSizeAgreeWithAppend) {
  std::mt19937_64 random(7);
  int64_t nanos = 1'700'000'000'000'000'000;
  for (int i = 0; i < 100000; ++i) {
    // Mostly small steps (the same second again), now and then a jump anywhere.
    nanos = i % 100 == 0 ? static_cast<int64_t>(random())
                         : nanos + static_cast<int64_t>(random() % 300'000'000) - 100'000'000;
    if (i % 7 == 0) nanos -= nanos % 1000;
    std::string appended;
    ASSERT_TRUE(append_rfc3339nano(appended, nanos));
    char written[kMaxRfc3339NanoSize];
    char* end = write_rfc3339nano(written, nanos);
    ASSERT_NE(end, nullptr);
    EXPECT_EQ(std::string(written, end), appended);
    EXPECT_EQ(rfc3339nano_size(nanos), appended.size()) << appended;
    ASSERT_EQ(parse_rfc3339(appended), nanos) << appended;
  }
}

TEST(TimeFormatTest, ThreadsKeepTheirOwnSecond) {
  auto format_many = [](int64_t base, std::string* wrong) {
    for (int i = 0; i < 1000; ++i) {
      const int64_t nanos = base + int64_t{i} * 1'000'003;
      const std::string text = format_rfc3339nano(nanos);
      if (parse_rfc3339(text) != nanos) *wrong = text;
    }
  };
  std::string wrong_a, wrong_b;
  std::thread a(format_many, 1'700'000'000'000'000'000, &wrong_a);
  std::thread b(format_many, 1'800'000'000'000'000'000, &wrong_b);
  a.join();
  b.join();
  EXPECT_EQ(wrong_a, "");
  EXPECT_EQ(wrong_b, "");
}

TEST(TimeFormatTest, RoundTripsRandomTimes) {
  std::mt19937_64 random(42);
  for (int i = 0; i < 100000; ++i) {
    int64_t nanos = static_cast<int64_t>(random());
    if (i % 3 == 0) nanos -= nanos % 1'000'000;  // exercise trimmed fractions
    const std::string text = format_rfc3339nano(nanos);
    ASSERT_EQ(parse_rfc3339(text), nanos) << text;
  }
}

}  // namespace
}  // namespace logguard
