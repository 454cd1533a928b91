#include "logguard/format/frame.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

namespace logguard {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

std::string be32(uint32_t n) {
  return bytes({static_cast<int>(n >> 24), static_cast<int>((n >> 16) & 0xFF),
                static_cast<int>((n >> 8) & 0xFF), static_cast<int>(n & 0xFF)});
}

std::string framed(const std::string& message) {
  return be32(static_cast<uint32_t>(message.size())) + message;
}

// The examples of docs/PROTOCOL.md §4.2, as the engine's gogo encoder writes them.
const std::string kTimeVarint = bytes({0x95, 0x9A, 0x97, 0xEC, 0xE3, 0x9F, 0xE7, 0xCB, 0x17});
const std::string kHelloFrame = bytes({0, 0, 0, 0x19, 0x0A, 0x06}) + "stdout" + bytes({0x10}) +
                                kTimeVarint + bytes({0x1A, 0x05}) + "hello";
const std::string kSplitFrame = bytes({0, 0, 0, 0x23, 0x0A, 0x06}) + "stderr" + bytes({0x10}) +
                                kTimeVarint + bytes({0x1A, 0x03}) + "xxx" +
                                bytes({0x20, 0x01, 0x2A, 0x08, 0x08, 0x01, 0x12, 0x02}) + "ab" +
                                bytes({0x18, 0x02});

LogEntry hello_entry() {
  LogEntry entry;
  entry.set_source("stdout");
  entry.set_time_nano(1700000000123456789);
  entry.set_line("hello");
  return entry;
}

LogEntry split_entry() {
  LogEntry entry;
  entry.set_source("stderr");
  entry.set_time_nano(1700000000123456789);
  entry.set_line("xxx");
  entry.set_partial(true);
  entry.mutable_partial_log_metadata()->set_last(true);
  entry.mutable_partial_log_metadata()->set_id("ab");
  entry.mutable_partial_log_metadata()->set_ordinal(2);
  return entry;
}

void feed(FrameDecoder& decoder, const std::string& data) {
  decoder.feed(data.data(), data.size());
}

// Every frame the decoder yields for `stream` fed in one piece, as "source:line".
std::vector<std::string> decode_all(const std::string& stream, FrameDecoder& decoder) {
  feed(decoder, stream);
  std::vector<std::string> out;
  LogEntryView entry;
  while (decoder.next(&entry) == FrameDecoder::Status::kFrame) {
    out.push_back(std::string(entry.source) + ":" + std::string(entry.line));
  }
  return out;
}

// Views point into their message: keep every message decoded here alive.
LogEntryView decode(const std::string& message) {
  static std::deque<std::string> kept;
  kept.push_back(message);
  LogEntryView entry;
  const char* why = nullptr;
  EXPECT_TRUE(decode_log_entry(kept.back(), &entry, &why)) << (why ? why : "");
  return entry;
}

const char* rejection(const std::string& message) {
  LogEntryView entry;
  const char* why = "accepted";
  decode_log_entry(message, &entry, &why);
  return why;
}

TEST(FrameTest, EncodesTheProtocolExamples) {
  std::string out = "prefix";
  append_frame(out, hello_entry());
  append_frame(out, split_entry());
  EXPECT_EQ(out, "prefix" + kHelloFrame + kSplitFrame);
}

TEST(FrameTest, EncodesTheProtocolExamplesFromViews) {
  std::string out = "prefix";
  LogEntryView hello;
  hello.source = "stdout";
  hello.time_nano = 1700000000123456789;
  hello.line = "hello";
  append_frame(out, hello);
  append_frame(out, LogEntryView{"stderr", 1700000000123456789, "xxx", true, true, true, "ab", 2});
  EXPECT_EQ(out, "prefix" + kHelloFrame + kSplitFrame);
}

TEST(FrameTest, EncodesAnEmptyEntryAsZeroLength) {
  std::string out;
  append_frame(out, LogEntry());
  append_frame(out, LogEntryView());
  EXPECT_EQ(out, bytes({0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(FrameTest, DecodesTheProtocolExamples) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame);
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source, "stdout");
  EXPECT_EQ(entry.time_nano, 1700000000123456789);
  EXPECT_EQ(entry.line, "hello");
  EXPECT_FALSE(entry.partial);
  EXPECT_FALSE(entry.has_partial_metadata);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source, "stderr");
  EXPECT_EQ(entry.line, "xxx");
  EXPECT_TRUE(entry.partial);
  EXPECT_TRUE(entry.has_partial_metadata);
  EXPECT_TRUE(entry.last);
  EXPECT_EQ(entry.partial_id, "ab");
  EXPECT_EQ(entry.ordinal, 2);
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.pending(), 0u);
  EXPECT_EQ(decoder.skipped_frames(), 0u);
}

TEST(FrameTest, DecodesIntoAProtobufMessageForOldCallers) {
  FrameDecoder decoder;
  feed(decoder, bytes({0, 0, 0, 0}) + kSplitFrame);
  LogEntry entry = split_entry();  // a reused entry must come back cleared
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.ByteSizeLong(), 0u);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.SerializeAsString(), split_entry().SerializeAsString());
}

TEST(FrameTest, ViewsStayValidUntilTheNextFeed) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame + kHelloFrame.substr(0, 7));
  LogEntryView first, second, none;
  ASSERT_EQ(decoder.next(&first), FrameDecoder::Status::kFrame);
  ASSERT_EQ(decoder.next(&second), FrameDecoder::Status::kFrame);
  ASSERT_EQ(decoder.next(&none), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(first.line, "hello");
  EXPECT_EQ(second.line, "xxx");
}

TEST(FrameTest, DecodesAcrossEverySplitPoint) {
  const std::string stream = kHelloFrame + bytes({0, 0, 0, 0}) + kSplitFrame + kHelloFrame;
  FrameDecoder decoder;
  LogEntryView entry;
  std::vector<std::string> lines;
  for (char c : stream) {
    decoder.feed(&c, 1);
    while (decoder.next(&entry) == FrameDecoder::Status::kFrame) {
      lines.push_back(std::string(entry.source) + ":" + std::string(entry.line));
    }
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"stdout:hello", ":", "stderr:xxx", "stdout:hello"}));
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(FrameTest, TruncatedFrameStaysPending) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame.substr(0, 10));
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.pending(), 10u);
  feed(decoder, kSplitFrame.substr(10));
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line, "xxx");
  EXPECT_EQ(decoder.pending(), 0u);
}

// Issue 10.2: one bad frame used to end the session for good.
TEST(FrameTest, InvalidUtf8InSourceAndIdIsDecoded) {
  const std::string message = bytes({0x0A, 0x02, 0xFF, 0xFE, 0x1A, 0x01}) + "x" +
                              bytes({0x2A, 0x04, 0x12, 0x02, 0xC3, 0x28});
  FrameDecoder decoder;
  feed(decoder, framed(message) + kHelloFrame);
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source, bytes({0xFF, 0xFE}));
  EXPECT_EQ(entry.partial_id, bytes({0xC3, 0x28}));
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line, "hello");
  EXPECT_EQ(decoder.skipped_frames(), 0u);
  // libprotobuf agrees now that the proto says bytes.
  LogEntry parsed;
  EXPECT_TRUE(parsed.ParseFromString(message));
}

TEST(FrameTest, SkipsAnUndecodableFrameAndGoesOn) {
  // Field 1 claims 5 bytes, only 1 follows.
  FrameDecoder decoder;
  EXPECT_EQ(decode_all(bytes({0, 0, 0, 3, 0x0A, 0x05, 'a'}) + kHelloFrame, decoder),
            std::vector<std::string>{"stdout:hello"});
  EXPECT_EQ(decoder.skipped_frames(), 1u);
  EXPECT_EQ(decoder.last_skip_reason(),
            "frame of 3 bytes is not a LogEntry: length beyond the message");
  EXPECT_EQ(decoder.consumed(), 7 + kHelloFrame.size());
}

TEST(FrameTest, SkipsAnOversizedFrameAsItsBytesArriveWithoutKeepingThem) {
  const size_t kLimit = 1000;
  FrameDecoder decoder(kLimit);
  const std::string huge(3'000'000, 'z');
  feed(decoder, kHelloFrame + be32(static_cast<uint32_t>(huge.size())) + huge.substr(0, 100));
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.skipped_frames(), 1u);
  EXPECT_EQ(decoder.last_skip_reason(), "frame of 3000000 bytes exceeds the limit of 1000 bytes");
  EXPECT_EQ(decoder.consumed(), kHelloFrame.size() + 4 + 100);
  // The rest arrives in reads; consumed() follows it and nothing is kept.
  uint64_t before = decoder.consumed();
  for (size_t at = 100; at < huge.size(); at += 65536) {
    const size_t n = std::min<size_t>(65536, huge.size() - at);
    decoder.feed(huge.data() + at, n);
    EXPECT_EQ(decoder.consumed(), before + n);
    before = decoder.consumed();
    EXPECT_EQ(decoder.pending(), 0u);
    EXPECT_LE(decoder.buffer_capacity(), 64u * 1024);
    ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  }
  feed(decoder, kSplitFrame);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line, "xxx");
  EXPECT_EQ(decoder.consumed(), decoder.fed());
  EXPECT_EQ(decoder.skipped_frames(), 1u);
}

TEST(FrameTest, SkipsAnOversizedFrameFedInOnePiece) {
  FrameDecoder decoder(0x19);
  EXPECT_EQ(decode_all(kHelloFrame + kSplitFrame + kHelloFrame, decoder),
            (std::vector<std::string>{"stdout:hello", "stdout:hello"}));
  EXPECT_EQ(decoder.skipped_frames(), 1u);
  EXPECT_EQ(decoder.last_skip_reason(), "frame of 35 bytes exceeds the limit of 25 bytes");
  EXPECT_EQ(decoder.consumed(), decoder.fed());
}

std::string frame_of(std::string_view source, std::string_view line) {
  LogEntryView entry;
  entry.source = source;
  entry.line = line;
  std::string out;
  append_frame(out, entry);
  return out;
}

// A reader that peeks (log_stream.h) scans its bytes in place and rescans
// an unfinished frame when more has come.
TEST(FrameScannerTest, ScansInPlaceAndStopsAtAnUnfinishedFrame) {
  const std::string one = frame_of("stdout", "first");
  const std::string two = frame_of("stderr", "second");
  const std::string bytes = one + two.substr(0, two.size() - 1);
  FrameScanner scanner;
  size_t pos = 0, begin = 99;
  LogEntryView e;
  ASSERT_EQ(scanner.next(bytes, &pos, &e, &begin), FrameScanner::Status::kFrame);
  EXPECT_EQ(e.line, "first");
  EXPECT_EQ(e.line.data() - bytes.data(), static_cast<ptrdiff_t>(one.size() - 5));  // no copy
  EXPECT_EQ(begin, 0u);
  EXPECT_EQ(pos, one.size());
  EXPECT_EQ(scanner.next(bytes, &pos, &e), FrameScanner::Status::kNeedMore);
  EXPECT_EQ(pos, one.size());  // the unfinished frame starts there
  // The caller consumed `one`; the stream now holds all of `two`.
  pos = 0;
  ASSERT_EQ(scanner.next(two, &pos, &e, &begin), FrameScanner::Status::kFrame);
  EXPECT_EQ(e.source, "stderr");
  EXPECT_EQ(e.line, "second");
  EXPECT_EQ(begin, 0u);
}

TEST(FrameScannerTest, PassesAnOversizedFrameAcrossScans) {
  FrameScanner scanner(64);
  const std::string big = be32(100) + std::string(100, 'x');
  const std::string after = frame_of("stdout", "after");
  const std::string stream = big + after;
  size_t pos = 0;
  LogEntryView e;
  // The first scan sees 50 bytes: all of them go by.
  EXPECT_EQ(scanner.next(std::string_view(stream).substr(0, 50), &pos, &e),
            FrameScanner::Status::kNeedMore);
  EXPECT_EQ(pos, 50u);
  // The caller consumed them; the next scan starts after them.
  const std::string rest = stream.substr(50);
  pos = 0;
  ASSERT_EQ(scanner.next(rest, &pos, &e), FrameScanner::Status::kFrame);
  EXPECT_EQ(e.line, "after");
  EXPECT_EQ(pos, rest.size());
  EXPECT_EQ(scanner.skipped_frames(), 1u);
  EXPECT_EQ(scanner.last_skip_reason(), "frame of 100 bytes exceeds the limit of 64 bytes");
}

TEST(FrameScannerTest, PassesAFrameItsCallerCannotSeeWholeAsItGoesBy) {
  FrameScanner scanner;
  const std::string big = frame_of("stdout", std::string(300, 'x'));
  const std::string after = frame_of("stdout", "after");
  const std::string stream = big + after;
  EXPECT_EQ(scanner.pass_unseen("abc"), 0u);  // no length field yet: nothing skipped
  EXPECT_EQ(scanner.skipped_frames(), 0u);
  // The caller sees only 100 bytes at once, never the whole frame: it goes by.
  const std::string_view seen = std::string_view(stream).substr(0, 100);
  EXPECT_EQ(scanner.pass_unseen(seen), big.size() - 4);
  size_t pos = 0;
  LogEntryView e;
  EXPECT_EQ(scanner.next(seen, &pos, &e), FrameScanner::Status::kNeedMore);
  EXPECT_EQ(pos, 100u);
  const std::string rest = stream.substr(100);
  pos = 0;
  ASSERT_EQ(scanner.next(rest, &pos, &e), FrameScanner::Status::kFrame);
  EXPECT_EQ(e.line, "after");
  EXPECT_EQ(scanner.skipped_frames(), 1u);
  EXPECT_EQ(scanner.last_skip_reason(), "frame of " + std::to_string(big.size() - 4) +
                                            " bytes is longer than its stream can show at once");
}

TEST(FrameTest, ConsumedEndsAtTheLastFrameReturned) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame.substr(0, 5));
  EXPECT_EQ(decoder.consumed(), 0u);
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(decoder.consumed(), kHelloFrame.size());
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.consumed(), kHelloFrame.size());
  EXPECT_EQ(decoder.fed(), kHelloFrame.size() + 5);
  EXPECT_EQ(decoder.pending(), 5u);
}

TEST(FrameTest, GivesBackCapacityOnceEmpty) {
  FrameDecoder decoder;
  LogEntry big;
  big.set_line(std::string(600'000, 'b'));
  std::string frame;
  append_frame(frame, big);
  feed(decoder, frame);
  LogEntryView entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line.size(), 600'000u);
  EXPECT_GE(decoder.buffer_capacity(), 600'000u);
  feed(decoder, kHelloFrame);
  EXPECT_LE(decoder.buffer_capacity(), 64u * 1024);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line, "hello");
}

TEST(FrameTest, RoundTripsLargeBinaryLines) {
  LogEntry in;
  in.set_source("stdout");
  in.set_line(std::string(16384, '\xff') + std::string(1, '\0'));
  in.set_time_nano(-1);
  std::string stream;
  for (int i = 0; i < 5; ++i) append_frame(stream, in);
  FrameDecoder decoder;
  LogEntryView out;
  int frames = 0;
  for (size_t at = 0; at < stream.size(); at += 4093) {
    decoder.feed(stream.data() + at, std::min<size_t>(4093, stream.size() - at));
    while (decoder.next(&out) == FrameDecoder::Status::kFrame) {
      ++frames;
      EXPECT_EQ(out.line, in.line());
      EXPECT_EQ(out.time_nano, -1);
    }
  }
  EXPECT_EQ(frames, 5);
  EXPECT_EQ(decoder.pending(), 0u);
}

// ---- the wire parser ----

TEST(LogEntryWireTest, FieldsInAnyOrderLastScalarWins) {
  const auto entry =
      decode(bytes({0x1A, 0x01}) + "a" + bytes({0x0A, 0x01}) + "s" + bytes({0x1A, 0x02}) + "bb" +
             bytes({0x10, 0x05, 0x20, 0x01, 0x10, 0x07}) + bytes({0x20, 0x00}));
  EXPECT_EQ(entry.line, "bb");
  EXPECT_EQ(entry.source, "s");
  EXPECT_EQ(entry.time_nano, 7);
  EXPECT_FALSE(entry.partial);
}

TEST(LogEntryWireTest, MergesARepeatedMetadataField) {
  const auto entry = decode(bytes({0x2A, 0x04, 0x12, 0x02}) + "id" +
                            bytes({0x2A, 0x04, 0x08, 0x01, 0x18, 0x03}) + bytes({0x2A, 0x00}));
  EXPECT_TRUE(entry.has_partial_metadata);
  EXPECT_EQ(entry.partial_id, "id");
  EXPECT_TRUE(entry.last);
  EXPECT_EQ(entry.ordinal, 3);
  EXPECT_TRUE(decode(bytes({0x2A, 0x00})).has_partial_metadata);
}

TEST(LogEntryWireTest, SkipsUnknownFieldsOfEveryWireType) {
  const std::string unknown =
      bytes({0x32, 0x06, 0x0A, 0x01, 'k', 0x12, 0x01, 'v'}) +  // 29.x attrs (field 6)
      bytes({0x48, 0xFF, 0x01}) +                              // varint field 9
      bytes({0x51, 1, 2, 3, 4, 5, 6, 7, 8}) +                  // fixed64 field 10
      bytes({0x5D, 1, 2, 3, 4}) +                              // fixed32 field 11
      bytes({0x63, 0x08, 0x01, 0x6B, 0x6C, 0x64}) +            // group 12 holding group 13
      bytes({0x08, 0x05}) +                                    // field 1 as a varint: unknown
      bytes({0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x00});             // field 2^29-1
  const auto entry = decode(kHelloFrame.substr(4) + unknown + bytes({0x2A, 0x05, 0x4D, 0x01}) +
                            bytes({0x00, 0x00, 0x00}) /* fixed32 inside field 5 */);
  EXPECT_EQ(entry.source, "stdout");
  EXPECT_EQ(entry.line, "hello");
  EXPECT_EQ(entry.time_nano, 1700000000123456789);
  EXPECT_TRUE(entry.has_partial_metadata);
}

TEST(LogEntryWireTest, IntegersAreTwosComplementVarints) {
  EXPECT_EQ(
      decode(bytes({0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})).time_nano,
      -1);
  EXPECT_EQ(
      decode(bytes({0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})).time_nano,
      INT64_MIN);
  EXPECT_EQ(
      decode(bytes({0x2A, 0x0B, 0x18, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}))
          .ordinal,
      -2);
  EXPECT_EQ(decode(bytes({0x2A, 0x06, 0x18, 0x81, 0x80, 0x80, 0x80, 0x10})).ordinal,
            1);                                            // mod 2^32
  EXPECT_TRUE(decode(bytes({0x20, 0x80, 0x01})).partial);  // any non-zero bool
}

TEST(LogEntryWireTest, RejectsMalformedMessages) {
  EXPECT_STREQ(rejection(bytes({0x10})), "truncated varint");
  EXPECT_STREQ(rejection(bytes({0x10, 0x80})), "truncated varint");
  EXPECT_STREQ(
      rejection(bytes({0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})),
      "varint too long");
  EXPECT_STREQ(rejection(bytes({0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01})), "varint too long");
  EXPECT_STREQ(rejection(bytes({0x0A, 0x86, 0x80, 0x80, 0x80, 0x80, 0x00}) + "abcdef"),
               "varint too long");
  EXPECT_STREQ(rejection(bytes({0x1A, 0x02, 'a'})), "length beyond the message");
  EXPECT_STREQ(rejection(bytes({0x2A, 0x05, 0x12, 0x07, 'a', 'b', 'c'})),
               "length beyond the message");
  EXPECT_STREQ(rejection(bytes({0x00})), "tag 0");
  EXPECT_STREQ(rejection(bytes({0x2A, 0x01, 0x00})), "tag 0");
  EXPECT_STREQ(rejection(bytes({0x02, 0x00})), "field number 0");
  EXPECT_STREQ(rejection(bytes({0x4E})), "invalid wire type");
  EXPECT_STREQ(rejection(bytes({0x4F})), "invalid wire type");
  EXPECT_STREQ(rejection(bytes({0x51, 1, 2, 3})), "truncated fixed-size field");
  EXPECT_STREQ(rejection(bytes({0x5D, 1, 2, 3})), "truncated fixed-size field");
  EXPECT_STREQ(rejection(bytes({0x4C})), "end of a group that was not started");
  EXPECT_STREQ(rejection(bytes({0x2A, 0x01, 0x4C})), "end of a group that was not started");
  EXPECT_STREQ(rejection(bytes({0x4B, 0x08, 0x01})), "unterminated group");
  EXPECT_STREQ(rejection(bytes({0x4B, 0x54})), "group ended by another field's tag");
  EXPECT_STREQ(rejection(bytes({0x4B, 0x00})), "tag 0");
}

// Nested groups: `levels` deep at the top, or inside field 5 (which counts as one level).
std::string nested_groups(int levels, bool in_metadata) {
  std::string groups;
  for (int i = 0; i < levels; ++i) groups += bytes({0x4B});  // start group 9
  for (int i = 0; i < levels; ++i) groups += bytes({0x4C});  // end group 9
  if (!in_metadata) return groups;
  std::string length;
  for (size_t n = groups.size();; n >>= 7) {
    length += static_cast<char>(n < 0x80 ? n : (n & 0x7F) | 0x80);
    if (n < 0x80) break;
  }
  return bytes({0x2A}) + length + groups;
}

TEST(LogEntryWireTest, NestingLimitIsLibprotobufs) {
  EXPECT_STREQ(rejection(nested_groups(100, false)), "accepted");
  EXPECT_STREQ(rejection(nested_groups(101, false)), "nested more than 100 levels deep");
  EXPECT_STREQ(rejection(nested_groups(99, true)), "accepted");
  EXPECT_STREQ(rejection(nested_groups(100, true)), "nested more than 100 levels deep");
  for (int levels : {99, 100, 101}) {
    for (bool in_metadata : {false, true}) {
      LogEntry parsed;
      const std::string message = nested_groups(levels, in_metadata);
      LogEntryView entry;
      EXPECT_EQ(parsed.ParseFromString(message), decode_log_entry(message, &entry))
          << levels << " " << in_metadata;
    }
  }
}

// ---- side by side with libprotobuf ----

void expect_same_as_libprotobuf(const std::string& message) {
  LogEntry reference;
  const bool reference_ok = reference.ParseFromString(message);
  LogEntryView entry;
  const char* why = "";
  const bool ok = decode_log_entry(message, &entry, &why);
  ASSERT_EQ(ok, reference_ok) << ::testing::PrintToString(message) << " " << why;
  if (!ok) return;
  EXPECT_EQ(entry.source, reference.source());
  EXPECT_EQ(entry.time_nano, reference.time_nano());
  EXPECT_EQ(entry.line, reference.line());
  EXPECT_EQ(entry.partial, reference.partial());
  EXPECT_EQ(entry.has_partial_metadata, reference.has_partial_log_metadata());
  EXPECT_EQ(entry.last, reference.partial_log_metadata().last());
  EXPECT_EQ(entry.partial_id, reference.partial_log_metadata().id());
  EXPECT_EQ(entry.ordinal, reference.partial_log_metadata().ordinal());
  // Re-encoded from the view, it is what libprotobuf makes of the message
  // (which keeps unknown fields; the view does not).
  reference.DiscardUnknownFields();
  std::string ours, theirs;
  append_frame(ours, entry);
  append_frame(theirs, reference);
  EXPECT_EQ(ours, theirs);
}

// Random messages made of plausible fields, then often damaged.
class MessageGenerator {
 public:
  explicit MessageGenerator(uint32_t seed) : random_(seed) {}

  std::string message(int depth = 0) {
    std::string out;
    const int fields = static_cast<int>(random_() % 6);
    for (int i = 0; i < fields; ++i) out += field(depth);
    return out;
  }

  std::string damage(std::string message) {
    switch (random_() % 6) {
      case 0:
        if (!message.empty()) message.resize(random_() % message.size());
        break;
      case 1:
        if (!message.empty()) message[random_() % message.size()] = static_cast<char>(random_());
        break;
      case 2:
        message.insert(random_() % (message.size() + 1), 1, static_cast<char>(random_()));
        break;
      default:
        break;
    }
    return message;
  }

 private:
  std::string varint(uint64_t value) {
    std::string out;
    do {
      out += static_cast<char>((value & 0x7F) | (value >= 0x80 ? 0x80 : 0));
      value >>= 7;
    } while (value != 0);
    return out;
  }
  uint64_t some_value() {
    switch (random_() % 4) {
      case 0:
        return random_() % 3;
      case 1:
        return static_cast<uint64_t>(-static_cast<int64_t>(random_() % 1000));
      case 2:
        return uint64_t{random_()} << 32 | random_();
      default:
        return random_() % 300;
    }
  }
  std::string some_bytes() {
    std::string out(random_() % 12, '\0');
    for (char& c : out) c = static_cast<char>(random_());
    return out;
  }
  std::string field(int depth) {
    const uint32_t number = random_() % 4 == 0 ? 1 + random_() % 40 : 1 + random_() % 5;
    uint32_t type = random_() % 8 < 6 ? kTypesForField[number <= 5 ? number : 0] : random_() % 6;
    if (type == 3 && depth > 3) type = 0;
    if (type == 4) type = 0;
    std::string out = varint(number << 3 | type);
    switch (type) {
      case 0:
        return out + varint(some_value());
      case 1:
        return out + std::string(8, '\x11');
      case 2: {
        const std::string payload =
            number == 5 || random_() % 4 == 0 ? message(depth + 1) : some_bytes();
        return out + varint(payload.size()) + payload;
      }
      case 3:
        return out + message(depth + 1) + varint(number << 3 | 4);
      default:
        return out + std::string(4, '\x22');
    }
  }
  // Most of the time a field number gets the wire type LogEntry (or the
  // metadata message) gives it: 0 is any unknown field.
  static constexpr uint32_t kTypesForField[6] = {2, 2, 0, 2, 0, 2};

  std::mt19937 random_;
};

TEST(LogEntryWireTest, AgreesWithLibprotobufOnRandomMessages) {
  MessageGenerator generator(20261201);
  for (int i = 0; i < 30000; ++i) {
    const std::string message = generator.damage(generator.message());
    expect_same_as_libprotobuf(message);
    if (HasFatalFailure()) return;
  }
}

// Varints of every length from 1 to 11 bytes, with every byte's payload bits
// set or clear, where they are a tag, a length, the time and the ordinal,
// with fewer than ten bytes after them and with more (read a word at a time).
TEST(LogEntryWireTest, AgreesWithLibprotobufOnVarintsOfEveryLength) {
  const auto varint_of = [](int length, int payload) {
    std::string out;
    for (int i = 0; i < length; ++i) {
      const int last = i == length - 1 ? 0 : 0x80;
      out += static_cast<char>(last | (i == length - 1 && payload == 0 ? 0x01 : payload));
    }
    return out;
  };
  const std::string tail = bytes({0x1A, 0x0A}) + "0123456789";  // line field, ten bytes
  for (int length = 1; length <= 11; ++length) {
    for (const int payload : {0x00, 0x01, 0x7F, 0x55}) {
      const std::string v = varint_of(length, payload);
      for (const std::string& trailer : {std::string(), tail}) {
        const std::string messages[] = {
            bytes({0x10}) + v + trailer,                                        // time
            bytes({0x2A, static_cast<int>(1 + v.size()), 0x18}) + v + trailer,  // ordinal
            bytes({0x1A}) + v + trailer,                                        // a line's length
            v + trailer,                                                        // a tag
        };
        for (const std::string& message : messages) {
          expect_same_as_libprotobuf(message);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(LogEntryWireTest, AgreesWithLibprotobufOnEdgeCases) {
  for (const std::string& message : {
           bytes({0x10}),
           bytes({0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),
           bytes({0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F}),
           bytes({0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
           bytes({0x8A, 0x80, 0x80, 0x80, 0x00, 0x01, 'x'}),
           bytes({0x8A, 0x80, 0x80, 0x80, 0x70, 0x01, 'x'}),
           bytes({0x8A, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 'x'}),
           bytes({0x0A, 0x81, 0x80, 0x80, 0x80, 0x00, 'x'}),
           bytes({0x0A, 0x81, 0x80, 0x80, 0x80, 0x08, 'x'}),
           bytes({0x2A, 0x0C, 0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                  0x00}),
           bytes({0x2A, 0x02, 0x18, 0x01, 0x2A, 0x02, 0x18, 0x00}),
           bytes({0x2A, 0x02, 0x10, 0x01}),
           bytes({0x28, 0x01}),
           bytes({0x2D, 1, 2, 3, 4}),
           bytes({0x0B, 0x0C}),
           bytes({0x0B, 0x14}),
           bytes({0x2B, 0x2C, 0x1A, 0x01, 'y'}),
           bytes({0x07}),
           bytes({0x06}),
           bytes({0x04}),
           bytes({0x03, 0x04}),
           std::string(),
       }) {
    expect_same_as_libprotobuf(message);
  }
}

TEST(LogEntryWireTest, ViewEncoderMatchesLibprotobufOnRandomEntries) {
  std::mt19937 random(99);
  for (int i = 0; i < 5000; ++i) {
    LogEntry reference;
    std::string source(random() % 8, 's'), line(random() % 300, '\xAB'), id(random() % 70, 'i');
    if (random() % 3) reference.set_source(source);
    if (random() % 3)
      reference.set_time_nano(static_cast<int64_t>(uint64_t{random()} << 32 | random()));
    if (random() % 3) reference.set_line(line);
    if (random() % 2) reference.set_partial(true);
    if (random() % 2) {
      auto* metadata = reference.mutable_partial_log_metadata();
      if (random() % 2) metadata->set_last(true);
      if (random() % 2) metadata->set_id(id);
      if (random() % 2) metadata->set_ordinal(static_cast<int32_t>(random()));
    }
    std::string theirs;
    append_frame(theirs, reference);
    LogEntryView view;
    ASSERT_TRUE(decode_log_entry(std::string_view(theirs).substr(4), &view));
    std::string ours;
    append_frame(ours, view);
    ASSERT_EQ(ours, theirs);
  }
}

}  // namespace
}  // namespace logguard
