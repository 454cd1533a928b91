#include "logguard/format/json_record.h"
#include "logguard/format/json_record_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace logguard {
namespace {

using namespace std::string_literals;

constexpr int64_t kTime = 1741083072123456700;  // 2025-03-04T10:11:12.1234567Z

std::string encode(std::string_view log, std::string_view stream = "stdout",
                   const Attrs* attrs = nullptr, int64_t time = kTime) {
  std::string out;
  EXPECT_TRUE(append_json_record(out, RecordView{log, stream, time, attrs}));
  EXPECT_EQ(out.size(), json_record_size(RecordView{log, stream, time, attrs}));
  return out;
}

// The "log" value of encode(log), between its quotes.
std::string escaped(std::string_view log) {
  const std::string line = encode(log, "", nullptr, 0);
  const std::string prefix = R"({"log":")";
  const std::string suffix = R"(","time":"1970-01-01T00:00:00Z"})""\n";
  EXPECT_EQ(line.substr(0, prefix.size()), prefix);
  EXPECT_EQ(line.substr(line.size() - suffix.size()), suffix);
  return line.substr(prefix.size(), line.size() - prefix.size() - suffix.size());
}

// Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD,
// following the Unicode definition (not the encoder's range table).
std::string sanitize(std::string_view s) {
  static const uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    uint32_t code = n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
    bool valid = n > 0 && i + n <= s.size();
    for (size_t k = 1; valid && k < n; ++k) {
      const uint8_t c = static_cast<uint8_t>(s[i + k]);
      valid = (c & 0xC0) == 0x80;
      code = code << 6 | (c & 0x3F);
    }
    if (valid && n > 1) {
      valid = code >= kMinimum[n] && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
    }
    if (valid) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += 1;
    }
  }
  return out;
}

TEST(JsonRecordTest, EncodesTheJsonFileShape) {
  const Attrs attrs = {{"team", "core"}};
  EXPECT_EQ(encode("hello\n", "stdout", &attrs),
            R"({"log":"hello\n","stream":"stdout","attrs":{"team":"core"},)"
            R"("time":"2025-03-04T10:11:12.1234567Z"})""\n");
  EXPECT_EQ(encode("hello\n"),
            R"({"log":"hello\n","stream":"stdout","time":"2025-03-04T10:11:12.1234567Z"})""\n");
}

TEST(JsonRecordTest, OmitsEmptyFields) {
  const Attrs none;
  EXPECT_EQ(encode("", "stdout"), R"({"stream":"stdout","time":"2025-03-04T10:11:12.1234567Z"})""\n");
  EXPECT_EQ(encode("", "", &none), R"({"time":"2025-03-04T10:11:12.1234567Z"})""\n");
  EXPECT_EQ(encode("x", ""), R"({"log":"x","time":"2025-03-04T10:11:12.1234567Z"})""\n");
  const Attrs attrs = {{"a", "b"}};
  EXPECT_EQ(encode("", "", &attrs, 0), R"({"attrs":{"a":"b"},"time":"1970-01-01T00:00:00Z"})""\n");
}

TEST(JsonRecordTest, PartialChunkHasNoNewline) {
  EXPECT_EQ(encode("abc", "stderr"),
            R"({"log":"abc","stream":"stderr","time":"2025-03-04T10:11:12.1234567Z"})""\n");
}

TEST(JsonRecordTest, EscapesAsJsonFile) {
  EXPECT_EQ(escaped("a\"b\\c\n\r/'"), R"(a\"b\\c\n\r/')");
  EXPECT_EQ(escaped("\t"), R"(\u0009)");
  EXPECT_EQ(escaped("\x00\x01\x08\x0c\x1b\x1f"s), R"(\u0000\u0001\u0008\u000c\u001b\u001f)");
  EXPECT_EQ(escaped("\x7f \x20~"), "\x7f  ~");
  EXPECT_EQ(escaped("<a href=\"x\">&amp;</a>"),
            R"(\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e)");
}

TEST(JsonRecordTest, ReplacesEachInvalidUtf8Byte) {
  EXPECT_EQ(escaped("\xff"), R"(\ufffd)");
  EXPECT_EQ(escaped("\xc3\xa9"), "\xc3\xa9");                       // é kept raw
  EXPECT_EQ(escaped("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");       // U+1F600 kept raw
  EXPECT_EQ(escaped("\xef\xbf\xbd"), "\xef\xbf\xbd");               // a real U+FFFD kept raw
  EXPECT_EQ(escaped("\xc3x"), R"(\ufffdx)");                        // missing continuation
  EXPECT_EQ(escaped("\x80"), R"(\ufffd)");                          // lone continuation
  EXPECT_EQ(escaped("\xe2\x82\xed"), R"(\ufffd\ufffd\ufffd)");      // truncated 3-byte
  EXPECT_EQ(escaped("\xed\xa0\x80"), R"(\ufffd\ufffd\ufffd)");      // surrogate U+D800
  EXPECT_EQ(escaped("\xc0\x80"), R"(\ufffd\ufffd)");                // overlong NUL
  EXPECT_EQ(escaped("\xe0\x80\xaf"), R"(\ufffd\ufffd\ufffd)");      // overlong '/'
  EXPECT_EQ(escaped("\xf4\x90\x80\x80"), R"(\ufffd\ufffd\ufffd\ufffd)");  // > U+10FFFF
  EXPECT_EQ(escaped("ok\xf0\x9f\x98"), R"(ok\ufffd\ufffd\ufffd)");  // cut at the end
  EXPECT_EQ(escaped("\xf8\x88\x80\x80\x80"), R"(\ufffd\ufffd\ufffd\ufffd\ufffd)");
}

TEST(JsonRecordTest, EscapesLineAndParagraphSeparators) {
  EXPECT_EQ(escaped("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xe2\x80\xaa"), "a\\u2028b\\u2029c\xe2\x80\xaa");
}

TEST(JsonRecordTest, EscapesAtEveryPositionOfLongRuns) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"", R"(\")"},        {"\\", R"(\\)"},     {"<", R"(\u003c)"},
      {">", R"(\u003e)"},     {"&", R"(\u0026)"},     {"\x1f", R"(\u001f)"},
      {"\x80", R"(\ufffd)"}, {"\xc3\xa9", "\xc3\xa9"}, {"\x7f", "\x7f"},
      {" ", " "},             {"!", "!"},             {"\n", R"(\n)"}};
  for (size_t at = 0; at < 40; ++at) {
    for (const auto& [raw, json] : cases) {
      const std::string before(at, 'a'), after(40 - at, 'b');
      EXPECT_EQ(escaped(before + raw + after), before + json + after) << at << " " << json;
    }
  }
}

// Lines of every length up to 48 with two bytes to escape anywhere: the
// scanner takes 16 bytes a step and the last ones in a step that overlaps
// bytes already done.
TEST(JsonRecordTest, EscapesEveryPairOfPositionsInLinesOfAnyLength) {
  for (size_t length = 2; length <= 48; ++length) {
    for (size_t first = 0; first < length; ++first) {
      for (size_t second = first + 1; second < length; ++second) {
        std::string raw(length, 'a'), json(length, 'a');
        raw[first] = '<';
        raw[second] = '"';
        json.replace(second, 1, R"(\")");
        json.replace(first, 1, R"(\u003c)");
        ASSERT_EQ(escaped(raw), json) << length << " " << first << " " << second;
      }
    }
  }
}

// stdout and stderr take a shortcut; every other stream is escaped.
TEST(JsonRecordTest, EncodesEveryStreamAsJsonFile) {
  const Attrs attrs = {{"a", "b"}};
  for (const Attrs* with : {static_cast<const Attrs*>(nullptr), &attrs}) {
    const std::string attrs_text = with ? R"("attrs":{"a":"b"},)" : "";
    for (std::string_view log : {"", "x"}) {
      const std::string log_text = log.empty() ? "" : R"("log":"x",)";
      for (const auto& [stream, json] : std::vector<std::pair<std::string, std::string>>{
               {"stdout", R"("stream":"stdout",)"},
               {"stderr", R"("stream":"stderr",)"},
               {"stdin", R"("stream":"stdin",)"},
               {"stdoutx", R"("stream":"stdoutx",)"},
               {"std<out", R"("stream":"std\u003cout",)"},
               {"s\xff", R"("stream":"s\ufffd",)"},
               {"", ""}}) {
        EXPECT_EQ(encode(log, stream, with, 0),
                  "{" + log_text + json + attrs_text + R"("time":"1970-01-01T00:00:00Z"})" "\n")
            << stream;
      }
    }
  }
}

TEST(JsonRecordTest, EscapesAttrsAsGoEncodingJson) {
  // json.Marshal (Go < 1.22, as in Engine 20.10) writes TAB as \t, and
  // \b \f as \u0008 \u000c; the rest as json-file does.
  const Attrs attrs = {{"a<b", "x\ty\n\b\f"}, {"k", "\xff\xe2\x80\xa8&"}};
  EXPECT_EQ(encode("", "", &attrs, 0),
            R"({"attrs":{"a\u003cb":"x\ty\n\u0008\u000c","k":"\ufffd\u2028\u0026"},)"
            R"("time":"1970-01-01T00:00:00Z"})""\n");
}

TEST(JsonRecordTest, NewlineFlagEncodesAsALineEndingInNewline) {
  const Attrs attrs = {{"a", "b"}};
  for (std::string_view log : {"", "abc", "x\xff<"}) {
    const RecordView with_flag{log, "stdout", kTime, &attrs, true};
    const std::string with_newline = std::string(log) + "\n";
    std::string out;
    ASSERT_TRUE(append_json_record(out, with_flag));
    EXPECT_EQ(out, encode(with_newline, "stdout", &attrs));
    EXPECT_EQ(json_record_size(with_flag), out.size());
  }
}

TEST(JsonRecordTest, AppendsAfterExistingText) {
  std::string out = "previous\n";
  ASSERT_TRUE(append_json_record(out, RecordView{"x", "stdout", 0, nullptr}));
  EXPECT_EQ(out, "previous\n" R"({"log":"x","stream":"stdout","time":"1970-01-01T00:00:00Z"})""\n");
}

// Random bytes biased towards the cases that need care.
std::string random_bytes(std::mt19937& random, size_t max_length) {
  static const std::vector<std::string> kPieces = {
      "a", "Z", " ", "\"", "\\", "\n", "\r", "\t", std::string(1, '\0'), "\x1b", "\x7f", "<", ">",
      "&", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xe2\x80\xa9",
      "\xef\xbf\xbd", "\xed\xa0\x80", "\xc0", "\xff", "\x80", "\xe2\x82", "\xf0\x9f"};
  std::string out;
  const size_t length = random() % (max_length + 1);
  while (out.size() < length) {
    if (random() % 3 == 0) {
      out += static_cast<char>(random() % 256);
    } else {
      out += kPieces[random() % kPieces.size()];
    }
  }
  return out;
}

TEST(JsonRecordTest, SizeMatchesEncodingAndDecodingRoundTrips) {
  std::mt19937 random(7);
  for (int i = 0; i < 5000; ++i) {
    const std::string log = random_bytes(random, 64);
    const std::string stream = i % 5 == 0 ? "" : random_bytes(random, 8);
    Attrs attrs;
    Attrs expected_attrs;  // as read back: sanitized, sorted by the sanitized key
    std::set<std::string> keys;
    for (int k = static_cast<int>(random() % 3); k > 0; --k) {
      std::string key = random_bytes(random, 6);
      if (!keys.insert(sanitize(key)).second) continue;
      std::string value = random_bytes(random, 10);
      expected_attrs.emplace_back(sanitize(key), sanitize(value));
      attrs.emplace_back(std::move(key), std::move(value));
    }
    std::sort(attrs.begin(), attrs.end());
    std::sort(expected_attrs.begin(), expected_attrs.end());
    const int64_t time = static_cast<int64_t>(random()) * 1'000'003 - (int64_t{1} << 50);
    const RecordView view{log, stream, time, &attrs};

    std::string line;
    ASSERT_TRUE(append_json_record(line, view));
    ASSERT_EQ(json_record_size(view), line.size()) << line;
    ASSERT_EQ(line.back(), '\n');

    // An independent JSON parser reads back what the encoder meant.
    const auto json = nlohmann::json::parse(line);
    EXPECT_EQ(json.value("log", ""), sanitize(log)) << line;
    EXPECT_EQ(json.value("stream", ""), sanitize(stream)) << line;

    const auto record = parse_json_record(line);
    ASSERT_TRUE(record) << line;
    EXPECT_EQ(record->log, sanitize(log)) << line;
    EXPECT_EQ(record->stream, sanitize(stream)) << line;
    EXPECT_EQ(record->time_nanos, time);
    EXPECT_EQ(record->attrs, expected_attrs) << line;
    for (const auto& [key, value] : expected_attrs) EXPECT_EQ(json["attrs"][key], value) << line;
    EXPECT_EQ(parse_json_record_time(line), time) << line;
  }
}

TEST(JsonRecordTest, ParsesOurShape) {
  const auto record = parse_json_record(
      R"({"log":"hello\n","stream":"stdout","attrs":{"team":"core","a":"b"},)"
      R"("time":"2025-03-04T10:11:12.1234567Z"})""\n");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->log, "hello\n");
  EXPECT_EQ(record->stream, "stdout");
  EXPECT_EQ(record->time_nanos, kTime);
  EXPECT_EQ(record->attrs, (Attrs{{"a", "b"}, {"team", "core"}}));
}

TEST(JsonRecordTest, ParsesAnyKeyOrderAndSpacing) {
  const auto record = parse_json_record(
      R"( { "time" : "2025-03-04T11:11:12.1234567+01:00" , "stream" : "stderr" ,)"
      R"( "log" : "hi" } )");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->log, "hi");
  EXPECT_EQ(record->stream, "stderr");
  EXPECT_EQ(record->time_nanos, kTime);
  EXPECT_TRUE(record->attrs.empty());
}

TEST(JsonRecordTest, DecodesEveryEscape) {
  const auto record = parse_json_record(
      R"({"log":"\"\\\/\b\f\n\r\t\u0041\u00e9\u00E9\u20ac\ud83d\ude00\u2028","time":"1970-01-01T00:00:00Z"})");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->log,
            "\"\\/\b\f\n\r\tA\xc3\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8");
}

TEST(JsonRecordTest, DecodesLoneSurrogatesAsReplacement) {
  const auto record =
      parse_json_record(R"({"log":"\ud800x\udc00\ud83d\u0041","time":"1970-01-01T00:00:00Z"})");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->log, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd" "A");
}

TEST(JsonRecordTest, FallsBackForOtherJsonObjects) {
  const auto record = parse_json_record(
      R"({"extra":{"n":[1,2.5,null]},"log":"x\n","ok":true,"stream":"stdout",)"
      R"("time":"2025-03-04T10:11:12.1234567Z","attrs":{"n":1,"s":"v"}})");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->log, "x\n");
  EXPECT_EQ(record->stream, "stdout");
  EXPECT_EQ(record->time_nanos, kTime);
  EXPECT_EQ(record->attrs, (Attrs{{"n", "1"}, {"s", "v"}}));
}

TEST(JsonRecordTest, RejectsLinesThatAreNotRecords) {
  for (const char* line : {
           "", "\n", "not json", "[]", "{}", R"({"log":"x"})", R"({"log":"x","time":"bad"})",
           R"({"log":"x","time":1})", R"({"log":"x","time":"2025-03-04T10:11:12Z")",
           R"({"log":"x","time":"2025-03-04T10:11:12Z"}junk)", R"({"log":"x","time":"2025-)"}) {
    EXPECT_EQ(parse_json_record(line), std::nullopt) << line;
    EXPECT_EQ(parse_json_record_time(line), std::nullopt) << line;
  }
  // Broken before the time: parse_json_record_time does not look there.
  for (const char* line : {R"({"log":"x\q","time":"2025-03-04T10:11:12Z"})",
                           R"({"log":"x\u12","time":"2025-03-04T10:11:12Z"})",
                           "{\"log\":\"a\x01\",\"time\":\"2025-03-04T10:11:12Z\"}"}) {
    EXPECT_EQ(parse_json_record(line), std::nullopt) << line;
  }
}

TEST(JsonRecordTest, FindsOnlyTheRecordTime) {
  EXPECT_EQ(parse_json_record_time(encode("hello\n")), kTime);
  EXPECT_EQ(parse_json_record_time(encode("\"time\":\"2000-01-01T00:00:00Z\"")), kTime);
  const Attrs attrs = {{"time", "2000-01-01T00:00:00Z"}};
  EXPECT_EQ(parse_json_record_time(encode("x", "stdout", &attrs)), kTime);
  EXPECT_EQ(parse_json_record_time(
                R"({"time":"1970-01-01T00:00:01Z","attrs":{"time":"1970-01-01T00:00:02Z"}})"),
            1'000'000'000);
  EXPECT_EQ(parse_json_record_time(R"({"log":"x","time":"1970-01-01T00:00:01Z"})""\r\n"),
            1'000'000'000);
}

// Issue 10.1: a record whose attrs value nests ~80,000 levels (a 160 KB
// line) crashed the reader: dump() recursed once per level.
TEST(JsonRecordTest, RejectsRecordsNestedTooDeeply) {
  const std::string deep = std::string(80'000, '[') + std::string(80'000, ']');
  const std::string line =
      R"({"log":"x\n","attrs":{"k":)" + deep + R"(},"time":"2025-03-04T10:11:12Z"})";
  EXPECT_EQ(parse_json_record(line), std::nullopt);
  // The time probe reads a trailing time without parsing the rest.
  EXPECT_EQ(parse_json_record_time(line), 1741083072000000000);
  const std::string objects = R"({"time":"2025-03-04T10:11:12Z","attrs":{"k":)" +
                              std::string(70'000, '{') + std::string(70'000, '}') + "}}";
  EXPECT_EQ(parse_json_record(objects), std::nullopt);
  EXPECT_EQ(parse_json_record_time(objects), std::nullopt);
}

TEST(JsonRecordTest, TimeProbeDecodesEscapesInTheTime) {
  const std::string line = R"({"log":"x","time":"\u0032025-03-04T10:11:12Z"})";
  ASSERT_TRUE(parse_json_record(line));
  EXPECT_EQ(parse_json_record_time(line), parse_json_record(line)->time_nanos);
}

TEST(JsonRecordTest, KeepsModeratelyNestedAttrsAsJsonText) {
  const auto record = parse_json_record(
      R"({"log":"x","attrs":{"k":[[[{"a":"[[[["}]]]},"time":"2025-03-04T10:11:12Z"})");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->attrs, (Attrs{{"k", R"([[[{"a":"[[[["}]]])"}}));
}

TEST(JsonRecordTest, AppendsJsonStringsAsGoDoes) {
  std::string out = "x";
  append_json_string(out, "a\"<\xff\t\xe2\x80\xa8");
  EXPECT_EQ(out, R"(x"a\"\u003c\ufffd\t\u2028")");
  EXPECT_EQ(nlohmann::json::parse(out.substr(1)), "a\"<\xef\xbf\xbd\t\xe2\x80\xa8");
}

}  // namespace
}  // namespace logguard
