#include "logguard/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace logguard {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// The examples of the protocol doc §3.2, as the engine's gogo encoder writes them.
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

void feed(FrameDecoder& decoder, const std::string& data) { decoder.feed(data.data(), data.size()); }

TEST(FrameTest, EncodesTheProtocolExamples) {
  std::string out = "prefix";
  append_frame(out, hello_entry());
  append_frame(out, split_entry());
  EXPECT_EQ(out, "prefix" + kHelloFrame + kSplitFrame);
}

TEST(FrameTest, EncodesAnEmptyEntryAsZeroLength) {
  std::string out;
  append_frame(out, LogEntry());
  EXPECT_EQ(out, bytes({0, 0, 0, 0}));
}

TEST(FrameTest, DecodesTheProtocolExamples) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame);
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source(), "stdout");
  EXPECT_EQ(entry.time_nano(), 1700000000123456789);
  EXPECT_EQ(entry.line(), "hello");
  EXPECT_FALSE(entry.partial());
  EXPECT_FALSE(entry.has_partial_log_metadata());
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source(), "stderr");
  EXPECT_EQ(entry.line(), "xxx");
  EXPECT_TRUE(entry.partial());
  EXPECT_TRUE(entry.partial_log_metadata().last());
  EXPECT_EQ(entry.partial_log_metadata().id(), "ab");
  EXPECT_EQ(entry.partial_log_metadata().ordinal(), 2);
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(FrameTest, ZeroLengthIsAnEmptyEntry) {
  FrameDecoder decoder;
  feed(decoder, bytes({0, 0, 0, 0}) + kHelloFrame);
  LogEntry entry = split_entry();  // a reused entry must come back cleared
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.ByteSizeLong(), 0u);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line(), "hello");
}

TEST(FrameTest, DecodesAcrossEverySplitPoint) {
  const std::string stream = kHelloFrame + bytes({0, 0, 0, 0}) + kSplitFrame + kHelloFrame;
  FrameDecoder decoder;
  LogEntry entry;
  std::vector<std::string> lines;
  for (char c : stream) {
    decoder.feed(&c, 1);
    FrameDecoder::Status status;
    while ((status = decoder.next(&entry)) == FrameDecoder::Status::kFrame) {
      lines.push_back(entry.source() + ":" + entry.line());
    }
    ASSERT_EQ(status, FrameDecoder::Status::kNeedMore);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"stdout:hello", ":", "stderr:xxx", "stdout:hello"}));
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(FrameTest, TruncatedFrameStaysPending) {
  FrameDecoder decoder;
  feed(decoder, kHelloFrame + kSplitFrame.substr(0, 10));
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.pending(), 10u);
  feed(decoder, kSplitFrame.substr(10));
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.line(), "xxx");
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(FrameTest, RejectsAnOversizeLengthBeforeItsBytesArrive) {
  FrameDecoder decoder;
  feed(decoder, bytes({0xFF, 0xFF, 0xFF, 0xFF}));
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kError);
  EXPECT_EQ(decoder.error(), "frame of 4294967295 bytes exceeds the limit of 1048576 bytes");
  feed(decoder, kHelloFrame);  // the stream stays failed
  EXPECT_EQ(decoder.next(&entry), FrameDecoder::Status::kError);
}

TEST(FrameTest, HonoursACustomLimit) {
  FrameDecoder decoder(0x19);
  feed(decoder, kHelloFrame + kSplitFrame);
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kError);
  EXPECT_EQ(decoder.error(), "frame of 35 bytes exceeds the limit of 25 bytes");
}

TEST(FrameTest, RejectsUndecodableProtobuf) {
  // Field 1 claims 5 bytes, only 1 follows.
  FrameDecoder decoder;
  feed(decoder, bytes({0, 0, 0, 3, 0x0A, 0x05, 'a'}) + kHelloFrame);
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kError);
  EXPECT_EQ(decoder.error(), "undecodable LogEntry in a frame of 3 bytes");
}

TEST(FrameTest, SkipsUnknownFields) {
  // Field 6 (29.x attrs: a LogAttr {key "k", value "v"}) and a varint field 9.
  const std::string body = kHelloFrame.substr(4) +
                           bytes({0x32, 0x06, 0x0A, 0x01, 'k', 0x12, 0x01, 'v', 0x48, 0x07});
  FrameDecoder decoder;
  feed(decoder, bytes({0, 0, 0, static_cast<int>(body.size())}) + body);
  LogEntry entry;
  ASSERT_EQ(decoder.next(&entry), FrameDecoder::Status::kFrame);
  EXPECT_EQ(entry.source(), "stdout");
  EXPECT_EQ(entry.line(), "hello");
  EXPECT_EQ(entry.time_nano(), 1700000000123456789);
}

TEST(FrameTest, RoundTripsLargeBinaryLines) {
  LogEntry in;
  in.set_source("stdout");
  in.set_line(std::string(16384, '\xff') + std::string(1, '\0'));
  in.set_time_nano(-1);
  std::string stream;
  for (int i = 0; i < 5; ++i) append_frame(stream, in);
  FrameDecoder decoder;
  LogEntry out;
  int frames = 0;
  for (size_t at = 0; at < stream.size(); at += 4093) {
    decoder.feed(stream.data() + at, std::min<size_t>(4093, stream.size() - at));
    while (decoder.next(&out) == FrameDecoder::Status::kFrame) {
      ++frames;
      EXPECT_EQ(out.line(), in.line());
      EXPECT_EQ(out.time_nano(), -1);
    }
  }
  EXPECT_EQ(frames, 5);
  EXPECT_EQ(decoder.pending(), 0u);
}

}  // namespace
}  // namespace logguard
