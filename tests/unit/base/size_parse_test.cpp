#include "logguard/base/size_parse.h"

#include <gtest/gtest.h>

namespace logguard {
namespace {

TEST(ParseSize, DecimalUnitsLikeDockerMaxSize) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("512b"), 512u);
  EXPECT_EQ(parse_size("1k"), 1000u);
  EXPECT_EQ(parse_size("1kb"), 1000u);
  EXPECT_EQ(parse_size("1KB"), 1000u);
  EXPECT_EQ(parse_size("10m"), 10'000'000u);
  EXPECT_EQ(parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size("2g"), 2'000'000'000u);
  EXPECT_EQ(parse_size("3t"), 3'000'000'000'000u);
  EXPECT_EQ(parse_size("1p"), 1'000'000'000'000'000u);
  EXPECT_EQ(parse_size("10 m"), 10'000'000u);
  EXPECT_EQ(parse_size(" 20m "), 20'000'000u);
}

TEST(ParseSize, FractionsAreExactThenTruncated) {
  EXPECT_EQ(parse_size("1.5k"), 1500u);
  EXPECT_EQ(parse_size("0.1m"), 100'000u);
  EXPECT_EQ(parse_size(".5k"), 500u);
  EXPECT_EQ(parse_size("1.5"), 1u);
  EXPECT_EQ(parse_size("0.0015k"), 1u);
}

TEST(ParseSize, IecSuffixesAreBinary) {
  EXPECT_EQ(parse_size("1Ki"), 1024u);
  EXPECT_EQ(parse_size("1KiB"), 1024u);
  EXPECT_EQ(parse_size("512kib"), 524'288u);
  EXPECT_EQ(parse_size("1Mi"), 1'048'576u);
  EXPECT_EQ(parse_size("1MiB"), 1'048'576u);
  EXPECT_EQ(parse_size("2GiB"), 2'147'483'648u);
}

TEST(ParseSize, RejectsMalformed) {
  for (const char* bad : {"", " ", "fast", "m", "k1", "1x", "1kbb", "1kibb", "1bb", "1 1", "1  m",
                          "-1", "1..2", "1e3", "1.2.3", "."}) {
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  }
}

TEST(ParseSize, RejectsOverflow) {
  EXPECT_EQ(parse_size("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("20000p"), std::nullopt);
}

TEST(ParseRate, SizePerSecondOrOff) {
  EXPECT_EQ(parse_rate("1m"), 1'000'000u);
  EXPECT_EQ(parse_rate("1m/s"), 1'000'000u);
  EXPECT_EQ(parse_rate("512KiB/s"), 524'288u);
  EXPECT_EQ(parse_rate("off"), 0u);
  EXPECT_EQ(parse_rate("OFF"), 0u);
  EXPECT_EQ(parse_rate("0"), 0u);
  EXPECT_EQ(parse_rate("fast"), std::nullopt);
  EXPECT_EQ(parse_rate("/s"), std::nullopt);
  EXPECT_EQ(parse_rate("1m/min"), std::nullopt);
}

TEST(ParseCountRate, PlainNumbers) {
  EXPECT_EQ(parse_count_rate("100"), 100.0);
  EXPECT_EQ(parse_count_rate("100/s"), 100.0);
  EXPECT_EQ(parse_count_rate("0.5/s"), 0.5);
  EXPECT_EQ(parse_count_rate("off"), 0.0);
  EXPECT_EQ(parse_count_rate("0"), 0.0);
  EXPECT_EQ(parse_count_rate("1k"), std::nullopt);
  EXPECT_EQ(parse_count_rate("-1"), std::nullopt);
  EXPECT_EQ(parse_count_rate("many"), std::nullopt);
}

TEST(FormatSize, ExactUnitsFirst) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(999), "999B");
  EXPECT_EQ(format_size(1000), "1kB");
  EXPECT_EQ(format_size(1'000'000), "1MB");
  EXPECT_EQ(format_size(10'000'000), "10MB");
  EXPECT_EQ(format_size(524'288), "512KiB");
  EXPECT_EQ(format_size(1'048'576), "1MiB");
  EXPECT_EQ(format_size(11'800'000), "11.8MB");
  EXPECT_EQ(format_size(11'834'560), "11.83MB");
  EXPECT_EQ(format_size(11'800'000, " "), "11.8 MB");
  EXPECT_EQ(format_size(120, " "), "120 B");
}

}  // namespace
}  // namespace logguard
