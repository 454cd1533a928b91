#include "logguard/frame.h"

#include <arpa/inet.h>

#include <cstring>

namespace logguard {

void FrameDecoder::feed(const char* data, size_t n) {
  // Compact before growing, so the buffer holds at most one frame plus a read.
  if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(data, n);
}

FrameDecoder::Status FrameDecoder::next(LogEntry* entry) {
  if (!error_.empty()) return Status::kError;
  const size_t available = buffer_.size() - pos_;
  if (available < 4) return Status::kNeedMore;
  uint32_t length_be;
  std::memcpy(&length_be, buffer_.data() + pos_, 4);
  const size_t length = ntohl(length_be);
  if (length > max_frame_) {
    error_ = "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
             std::to_string(max_frame_) + " bytes";
    return Status::kError;
  }
  if (available - 4 < length) return Status::kNeedMore;
  if (!entry->ParseFromArray(buffer_.data() + pos_ + 4, static_cast<int>(length))) {
    error_ = "undecodable LogEntry in a frame of " + std::to_string(length) + " bytes";
    return Status::kError;
  }
  pos_ += 4 + length;
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  return Status::kFrame;
}

void append_frame(std::string& out, const LogEntry& entry) {
  const size_t length = entry.ByteSizeLong();
  const uint32_t length_be = htonl(static_cast<uint32_t>(length));
  const size_t start = out.size();
  out.resize(start + 4 + length);
  std::memcpy(out.data() + start, &length_be, 4);
  entry.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + start + 4));
}

}  // namespace logguard
