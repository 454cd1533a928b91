#include "logguard/format/gzip_member.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "format/zlib_inflate.h"

namespace logguard {
namespace {

uint32_t le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Decodes one gzip member with zlib; fails the test unless it is exactly one
// complete member (zlib checks CRC32 and ISIZE).
std::string zlib_gunzip_one(std::string_view member) {
  testing::InflatedMember inflated = testing::zlib_inflate_member(member);
  EXPECT_EQ(inflated.rc, Z_STREAM_END) << inflated.message;
  EXPECT_EQ(inflated.used, member.size()) << "bytes after the member";
  return inflated.data;
}

std::string text(size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += "{\"log\":\"GET /api/items/" + std::to_string(i * 7919 % 100'000) +
         " 200\\n\",\"stream\":\"stdout\",\"time\":\"2025-03-04T10:11:12." + std::to_string(i) +
         "Z\"}\n";
  }
  s.resize(n);
  return s;
}

std::string random_bytes(size_t n) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(GzipMember, HeaderIsJsonFilesWithExtra) {
  GzipMemberEncoder encoder(6);
  const std::string extra = R"({"lastTime":"2025-03-04T10:11:12.123456789Z"})";
  const std::string_view m = encoder.encode("hello\n", extra);
  ASSERT_GT(m.size(), 12 + extra.size() + 8);
  EXPECT_EQ(m.substr(0, 10), std::string_view("\x1f\x8b\x08\x04\0\0\0\0\0\xff", 10));
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(m[10]) |
                                static_cast<unsigned char>(m[11]) << 8),
            extra.size());
  EXPECT_EQ(m.substr(12, extra.size()), extra);
  EXPECT_EQ(zlib_gunzip_one(m), "hello\n");
}

TEST(GzipMember, WithoutExtraHasNoFextra) {
  GzipMemberEncoder encoder(6);
  const std::string_view m = encoder.encode("hello\n");
  EXPECT_EQ(m.substr(0, 10), std::string_view("\x1f\x8b\x08\x00\0\0\0\0\0\xff", 10));
  EXPECT_EQ(zlib_gunzip_one(m), "hello\n");
}

TEST(GzipMember, TrailerHoldsCrc32AndSize) {
  GzipMemberEncoder encoder(6);
  const std::string data = text(300'000);
  const std::string m(encoder.encode(data));
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
  EXPECT_EQ(le32(m, m.size() - 8), crc);
  EXPECT_EQ(le32(m, m.size() - 4), data.size());
  EXPECT_EQ(zlib_gunzip_one(m), data);
}

TEST(GzipMember, EmptyDataIsAValidMember) {
  GzipMemberEncoder encoder(6);
  EXPECT_EQ(zlib_gunzip_one(encoder.encode("", "{}")), "");
  EXPECT_EQ(zlib_gunzip_one(encoder.encode("")), "");
}

TEST(GzipMember, EveryLevelRoundTripsTextAndIncompressibleData) {
  const std::string t = text(200'000), r = random_bytes(100'000);
  for (int level = 1; level <= 12; ++level) {
    GzipMemberEncoder encoder(level);
    const std::string mt(encoder.encode(t, "{}"));
    EXPECT_LT(mt.size(), t.size() / 3) << "level " << level;
    EXPECT_EQ(zlib_gunzip_one(mt), t) << "level " << level;
    EXPECT_EQ(zlib_gunzip_one(encoder.encode(r)), r) << "level " << level;
  }
}

TEST(GzipMember, ReusesTheEncoderAcrossMembers) {
  GzipMemberEncoder encoder(1);
  const std::string a = text(70'000), b = text(5);
  EXPECT_EQ(zlib_gunzip_one(encoder.encode(a)), a);
  EXPECT_EQ(zlib_gunzip_one(encoder.encode(b)), b);
}

TEST(GzipMember, RejectsBadLevelAndOversizedExtra) {
  EXPECT_THROW(GzipMemberEncoder(0), std::invalid_argument);
  EXPECT_THROW(GzipMemberEncoder(13), std::invalid_argument);
  GzipMemberEncoder encoder(6);
  EXPECT_THROW(encoder.encode("x", std::string(65'536, 'e')), std::invalid_argument);
  EXPECT_EQ(zlib_gunzip_one(encoder.encode("x", std::string(65'535, 'e'))), "x");
}

}  // namespace
}  // namespace logguard
