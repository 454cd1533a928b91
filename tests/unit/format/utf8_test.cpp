// UTF-8 as Go reads and writes it (utf8.h). The expected values are Go's
// utf8.DecodeRuneInString and utf8.AppendRune on the same bytes.
#include "logguard/format/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace logguard::utf8 {
namespace {

// decode at the start of s, as (value, size).
std::pair<char32_t, size_t> at_start(std::string_view s) {
  const Rune r = decode(s, 0);
  return {r.value, r.size};
}

std::string encoded(char32_t r) {
  std::string out;
  append(out, r);
  return out;
}

const std::pair<char32_t, size_t> kInvalidByte{kReplacement, 1};

TEST(Utf8, DecodesEachLengthAtItsBounds) {
  EXPECT_EQ(at_start(std::string_view("\0", 1)), std::make_pair(U'\0', size_t{1}));
  EXPECT_EQ(at_start("\x7F"), std::make_pair(char32_t{0x7F}, size_t{1}));
  EXPECT_EQ(at_start("\xC2\x80"), std::make_pair(char32_t{0x80}, size_t{2}));
  EXPECT_EQ(at_start("\xDF\xBF"), std::make_pair(char32_t{0x7FF}, size_t{2}));
  EXPECT_EQ(at_start("\xE0\xA0\x80"), std::make_pair(char32_t{0x800}, size_t{3}));
  EXPECT_EQ(at_start("\xED\x9F\xBF"), std::make_pair(char32_t{0xD7FF}, size_t{3}));
  EXPECT_EQ(at_start("\xEE\x80\x80"), std::make_pair(char32_t{0xE000}, size_t{3}));
  EXPECT_EQ(at_start("\xEF\xBF\xBF"), std::make_pair(char32_t{0xFFFF}, size_t{3}));
  EXPECT_EQ(at_start("\xF0\x90\x80\x80"), std::make_pair(char32_t{0x10000}, size_t{4}));
  EXPECT_EQ(at_start("\xF4\x8F\xBF\xBF"), std::make_pair(kMaxRune, size_t{4}));
}

TEST(Utf8, DecodesAtAnOffsetAndStopsAtTheSequence) {
  const std::string_view s = "a\xC3\xA9" "b";  // "aéb"
  EXPECT_EQ(decode(s, 1).value, U'\u00E9');
  EXPECT_EQ(decode(s, 1).size, 2u);
  EXPECT_EQ(decode(s, 3).value, U'b');
}

TEST(Utf8, AnEncodedReplacementCharacterIsValid) {
  const Rune r = decode(kReplacementBytes, 0);
  EXPECT_EQ(r.value, kReplacement);
  EXPECT_EQ(r.size, 3u);
  EXPECT_FALSE(r.invalid());
  EXPECT_TRUE(decode("\xFF", 0).invalid());
}

TEST(Utf8, StrayAndImpossibleBytesAreInvalid) {
  EXPECT_EQ(at_start("\x80"), kInvalidByte);  // a continuation byte alone
  EXPECT_EQ(at_start("\xBF\x80"), kInvalidByte);
  EXPECT_EQ(at_start("\xF5\x80\x80\x80"), kInvalidByte);  // no code point starts F5..FF
  EXPECT_EQ(at_start("\xFE"), kInvalidByte);
  EXPECT_EQ(at_start("\xFF"), kInvalidByte);
}

TEST(Utf8, OverlongFormsAreInvalid) {
  EXPECT_EQ(at_start("\xC0\x80"), kInvalidByte);  // U+0000 in two bytes
  EXPECT_EQ(at_start("\xC1\xBF"), kInvalidByte);  // U+007F in two bytes
  EXPECT_EQ(at_start("\xE0\x80\x80"), kInvalidByte);
  EXPECT_EQ(at_start("\xE0\x9F\xBF"), kInvalidByte);  // U+07FF in three bytes
  EXPECT_EQ(at_start("\xF0\x80\x80\x80"), kInvalidByte);
  EXPECT_EQ(at_start("\xF0\x8F\xBF\xBF"), kInvalidByte);  // U+FFFF in four bytes
}

TEST(Utf8, SurrogatesAreInvalid) {
  EXPECT_EQ(at_start("\xED\xA0\x80"), kInvalidByte);  // U+D800
  EXPECT_EQ(at_start("\xED\xBF\xBF"), kInvalidByte);  // U+DFFF
  EXPECT_EQ(at_start("\xED\xA0\x80\xED\xB0\x80"), kInvalidByte);  // a pair, CESU-8
}

TEST(Utf8, ValuesAboveTheLastCodePointAreInvalid) {
  EXPECT_EQ(at_start("\xF4\x90\x80\x80"), kInvalidByte);  // U+110000
  EXPECT_EQ(at_start("\xF7\xBF\xBF\xBF"), kInvalidByte);  // U+1FFFFF
}

TEST(Utf8, TruncatedSequencesTakeOneByte) {
  EXPECT_EQ(at_start("\xC3"), kInvalidByte);
  EXPECT_EQ(at_start("\xE2\x82"), kInvalidByte);
  EXPECT_EQ(at_start("\xF0\x9F\x98"), kInvalidByte);
  // Cut short by a byte that continues nothing, rather than by the end.
  EXPECT_EQ(at_start("\xC3" "a"), kInvalidByte);
  EXPECT_EQ(at_start("\xE2\x82" "a"), kInvalidByte);
  EXPECT_EQ(at_start("\xF0\x9F\x98" "a"), kInvalidByte);
  // The end of the view counts, not of the bytes behind it.
  const std::string_view euro = "\xE2\x82\xAC";
  EXPECT_EQ(decode(euro.substr(0, 2), 0).size, 1u);
  EXPECT_EQ(decode(euro.substr(1), 0).size, 1u);  // from a continuation byte
}

TEST(Utf8, DecodingResumesAfterTheInvalidByte) {
  // Go: one RuneError per byte of E2 82 (truncated), then 'x'.
  const std::string_view s = "\xE2\x82x";
  EXPECT_EQ(decode(s, 0).size, 1u);
  EXPECT_TRUE(decode(s, 1).invalid());
  EXPECT_EQ(decode(s, 2).value, U'x');
}

TEST(Utf8, EncodesEachLengthAtItsBounds) {
  EXPECT_EQ(encoded(0), std::string(1, '\0'));
  EXPECT_EQ(encoded(0x7F), "\x7F");
  EXPECT_EQ(encoded(0x80), "\xC2\x80");
  EXPECT_EQ(encoded(0x7FF), "\xDF\xBF");
  EXPECT_EQ(encoded(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(encoded(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(encoded(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(encoded(kMaxRune), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(encoded(kReplacement), kReplacementBytes);
}

TEST(Utf8, EncodesWhatHasNoUtf8FormAsTheReplacement) {
  EXPECT_EQ(encoded(0xD800), kReplacementBytes);
  EXPECT_EQ(encoded(0xDFFF), kReplacementBytes);
  EXPECT_EQ(encoded(kMaxRune + 1), kReplacementBytes);
  EXPECT_EQ(encoded(0xFFFFFFFF), kReplacementBytes);
}

TEST(Utf8, AppendsToWhatIsThere) {
  std::string out = "x";
  append(out, U'\u00E9');
  EXPECT_EQ(out, "x\xC3\xA9");
}

TEST(Utf8, EveryCodePointRoundTrips) {
  for (char32_t r = 0; r <= kMaxRune; ++r) {
    if (r >= 0xD800 && r <= 0xDFFF) continue;
    const std::string bytes = encoded(r);
    const Rune back = decode(bytes, 0);
    ASSERT_EQ(back.value, r);
    ASSERT_EQ(back.size, bytes.size());
  }
}

}  // namespace
}  // namespace logguard::utf8
