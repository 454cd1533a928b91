// Framing of LogEntry messages on the FIFO and in ReadLogs responses:
// a 4-byte big-endian length, then that many bytes of protobuf LogEntry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "entry.pb.h"

namespace logguard {

// Frames longer than this end the stream with an error (the engine's own
// reader has no limit; its chunks are at most 16 KiB, so 1 MiB is generous).
inline constexpr size_t kMaxFrameSize = 1 << 20;

// Incremental decoder over bytes read from a stream. Bytes are appended with
// feed(); next() yields complete frames. Memory is bounded by kMaxFrameSize
// plus the caller's read size.
class FrameDecoder {
 public:
  enum class Status { kFrame, kNeedMore, kError };

  explicit FrameDecoder(size_t max_frame = kMaxFrameSize) : max_frame_(max_frame) {}
  void feed(const char* data, size_t n);
  // kFrame: *entry holds the next message. kNeedMore: feed more bytes.
  // kError: the stream is corrupt (error() says why); stop reading it.
  Status next(LogEntry* entry);
  const std::string& error() const { return error_; }
  // Bytes of an unfinished frame held back; non-zero at EOF means truncation.
  size_t pending() const { return buffer_.size() - pos_; }

 private:
  size_t max_frame_;
  std::string buffer_;
  size_t pos_ = 0;
  std::string error_;
};

// Appends one frame holding entry.
void append_frame(std::string& out, const LogEntry& entry);

}  // namespace logguard
