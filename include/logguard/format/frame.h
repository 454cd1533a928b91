// Framing of LogEntry messages on the FIFO and in ReadLogs responses: a
// 4-byte big-endian length, then that many bytes of protobuf LogEntry
// (proto/entry.proto; docs/PROTOCOL.md §4.2).
//
// Decoding does not use libprotobuf: a small proto3 wire parser reads each
// frame into a LogEntryView over the bytes it came in, with no allocation per
// frame. It accepts and rejects exactly what libprotobuf's LogEntry parser
// does (with `source` and `id` read as bytes, as they are on the wire);
// tests and a fuzzer hold the two side by side.
//
// A frame the decoder cannot use is skipped and counted, never fatal: the
// stream goes on with the next frame, because one stopped session blocks its
// container.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "entry.pb.h"

namespace logguard {

// Frames longer than this are skipped as their bytes arrive, without being
// kept (the engine's chunks are at most 16 KiB, so 1 MiB is generous).
inline constexpr size_t kMaxFrameSize = 1 << 20;

// One LogEntry, pointing into the bytes it was decoded from.
struct LogEntryView {
  std::string_view source;  // "stdout" / "stderr"; any bytes
  int64_t time_nano = 0;
  std::string_view line;  // without the newline
  bool partial = false;
  bool has_partial_metadata = false;  // field 5 was present, even if empty
  bool last = false;                  // partial_log_metadata.last
  std::string_view partial_id;        // partial_log_metadata.id
  int32_t ordinal = 0;                // partial_log_metadata.ordinal
};

// Decodes one LogEntry message by proto3's rules: fields in any order; the
// last occurrence of a scalar wins; field 5 is merged when repeated; a known
// field with an unexpected wire type, and every unknown field (groups
// included), is skipped; int64/int32 are two's-complement varints. Rejects
// truncated input, varints over 10 bytes (lengths and tags over 5), lengths
// beyond the message, field number 0, wire types 6 and 7, unbalanced groups
// and nesting deeper than libprotobuf's limit of 100. On failure returns
// false and sets *why (a static string) if why is not null.
bool decode_log_entry(std::string_view message, LogEntryView* entry, const char** why = nullptr);

// Frames read in place from bytes that stay the caller's: a reader that
// peeks at its input (log_stream.h) scans what it peeked, decides, and then
// consumes exactly what the scanner passed; its next scan starts where the
// unconsumed bytes start. No byte is copied.
//
// Frames the scanner cannot use are skipped, never fatal: an undecodable one
// whole; one longer than max_frame as its bytes go by, across calls, without
// being held (the caller consumes them). skipped_frames() counts both and
// last_skip_reason() says why.
class FrameScanner {
 public:
  enum class Status { kFrame, kNeedMore };

  explicit FrameScanner(size_t max_frame = kMaxFrameSize) : max_frame_(max_frame) {}

  // Scans `bytes` from *pos. kFrame: *entry views the next frame (into
  // bytes), *pos is past it and *begin (if not null) where it begins.
  // kNeedMore: *pos is where an unfinished frame starts, or the end. Either
  // way frames skipped on the way are passed.
  Status next(std::string_view bytes, size_t* pos, LogEntryView* entry,
              size_t* begin = nullptr);
  // Of `available` bytes at the head of the input, how many belong to an
  // oversized frame that is going by; they count as passed.
  size_t pass_oversized(size_t available);
  // The frame that `head` (the input from its first unconsumed byte) starts
  // with is longer than the caller can ever see of the input at once: it is
  // skipped as its bytes go by, as an oversized one is. Returns its length
  // field; 0 (and nothing skipped) if head is shorter than one.
  uint64_t pass_unseen(std::string_view head);

  uint64_t skipped_frames() const { return skipped_frames_; }
  // Why the last skipped frame was skipped; empty if none was.
  std::string last_skip_reason() const;

 private:
  void skip(const char* why, uint64_t frame_length);

  size_t max_frame_;
  uint64_t skip_remaining_ = 0;     // bytes of a frame going by still to pass
  uint64_t skipped_frames_ = 0;
  const char* skip_why_ = nullptr;  // why the last skipped frame was (null: none yet)
  uint64_t skip_length_ = 0;        // length field of the last skipped frame
};

// Incremental decoder over the bytes of one stream, for readers that take
// their input in pieces they cannot keep: a FrameScanner over a buffer. The
// plugin peeks and scans in place (StreamPump); this is the tests', the
// fuzzer's and the benchmarks' decoder of what the engine writes.
//
// feed() copies bytes in; next() yields each complete frame as a view that
// stays valid until the next feed(). Skipped frames are as FrameScanner's
// (an oversized one is not buffered).
//
// Memory: when the caller drains next() before each feed(), the buffer holds
// at most one unfinished frame plus one read. When feed() finds the buffer
// empty it first gives back capacity above 64 KiB.
//
// Offsets are in bytes of the stream since construction: fed() counts what
// was fed, consumed() the bytes through the end of the last frame returned or
// skipped (during an oversized skip it advances as its bytes are fed).
class FrameDecoder {
 public:
  enum class Status { kFrame, kNeedMore };

  explicit FrameDecoder(size_t max_frame = kMaxFrameSize) : scanner_(max_frame) {}

  void feed(const char* data, size_t n);
  // kFrame: *entry holds the next frame. kNeedMore: feed more bytes.
  Status next(LogEntryView* entry);
  // The same, copied into a protobuf message (slower; for tests).
  Status next(LogEntry* entry);

  uint64_t fed() const { return fed_; }
  uint64_t consumed() const { return consumed_; }
  // Bytes of an unfinished frame held back (fed() - consumed()); non-zero at
  // EOF means the stream was cut inside a frame.
  size_t pending() const { return buffer_.size() - pos_; }

  uint64_t skipped_frames() const { return scanner_.skipped_frames(); }
  std::string last_skip_reason() const { return scanner_.last_skip_reason(); }

  size_t buffer_capacity() const { return buffer_.capacity(); }

 private:
  FrameScanner scanner_;
  std::string buffer_;
  size_t pos_ = 0;  // first byte of buffer_ not yet consumed
  uint64_t fed_ = 0;
  uint64_t consumed_ = 0;
};

// Appends one frame holding entry, as the engine's gogo encoder writes it:
// fields in ascending order, proto3 defaults left out, field 5 present iff
// has_partial_metadata. Byte-identical to append_frame of the same LogEntry.
void append_frame(std::string& out, const LogEntryView& entry);
// Appends one frame holding entry (libprotobuf's encoder).
void append_frame(std::string& out, const LogEntry& entry);

}  // namespace logguard
