#include "logguard/format/frame.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

namespace logguard {
namespace {

// What feed() keeps of an empty buffer: one engine read's worth.
constexpr size_t kRetainedCapacity = 64 * 1024;

// Why a frame was skipped, besides the decoder's complaints (compared by address).
constexpr const char* kOversized = "oversized";
constexpr const char* kUnseen = "unseen";
// libprotobuf's default recursion limit, counting groups and field 5.
constexpr int kMaxDepth = 100;

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

constexpr uint32_t tag_of(uint32_t field, WireType type) { return field << 3 | type; }

uint32_t load_be32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}

// A cursor over the bytes of one message. Every read checks the end; the
// first failure records why and makes every later read fail too.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes)
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool at_end() const { return p_ == end_; }
  const char* why() const { return why_; }

  // A varint of at most max_bytes bytes; its value modulo 2^64.
  bool varint(uint64_t* value, int max_bytes = 10) {
    // Tags and the lengths of short lines take one byte: no loop for them.
    if (p_ != end_ && static_cast<unsigned char>(*p_) < 0x80) {
      *value = static_cast<unsigned char>(*p_++);
      return true;
    }
    return long_varint(value, max_bytes);
  }

  // Tags are read as 32 bits from at most 5 bytes, as libprotobuf does.
  bool tag(uint32_t* tag) {
    uint64_t value;
    if (!varint(&value, 5)) return false;
    *tag = static_cast<uint32_t>(value);
    if (*tag == 0) return fail("tag 0");
    return true;
  }

  // The payload of a length-delimited field (length in at most 5 bytes).
  bool bytes(std::string_view* out) {
    uint64_t length;
    if (!varint(&length, 5)) return false;
    if (length > static_cast<uint64_t>(end_ - p_)) return fail("length beyond the message");
    *out = std::string_view(p_, static_cast<size_t>(length));
    p_ += length;
    return true;
  }

  // Skips one field whose tag was just read, in a message nested `depth`
  // levels below the LogEntry (groups count as levels).
  bool skip(uint32_t tag, int depth) {
    if ((tag >> 3) == 0) return fail("field number 0");
    uint64_t ignored_value;
    std::string_view ignored_bytes;
    switch (tag & 7) {
      case kVarint:
        return varint(&ignored_value);
      case kFixed64:
        return advance(8);
      case kLengthDelimited:
        return bytes(&ignored_bytes);
      case kStartGroup:
        return skip_group(tag >> 3, depth + 1);
      case kFixed32:
        return advance(4);
      case kEndGroup:
        return fail("end of a group that was not started");
      default:
        return fail("invalid wire type");
    }
  }

  bool fail(const char* why) {
    if (!why_) why_ = why;
    p_ = end_;
    return false;
  }

 private:
  // Out of line, so that varint()'s one-byte path stays small enough to inline.
  [[gnu::noinline]] bool long_varint(uint64_t* value, int max_bytes) {
    if constexpr (std::endian::native == std::endian::little) {
      if (end_ - p_ >= 10) return varint_by_words(value, max_bytes);
    }
    const int available = static_cast<int>(std::min<ptrdiff_t>(end_ - p_, max_bytes));
    uint64_t result = 0;
    for (int i = 0; i < available; ++i) {
      const auto byte = static_cast<unsigned char>(p_[i]);
      result |= uint64_t{byte & 0x7Fu} << (7 * i);
      if (byte < 0x80) {
        p_ += i + 1;
        *value = result;
        return true;
      }
    }
    return fail(available < max_bytes ? "truncated varint" : "varint too long");
  }

  // A varint read eight bytes at a time, where at least ten are left: the
  // first byte without its high bit ends it; the 7-bit groups are then
  // packed by three shift-and-merge steps instead of one step per byte (a
  // record's time takes nine bytes).
  bool varint_by_words(uint64_t* value, int max_bytes) {
    uint64_t word;
    std::memcpy(&word, p_, sizeof word);
    const uint64_t ends = ~word & 0x8080808080808080u;
    if (ends != 0) {
      const int length = std::countr_zero(ends) / 8 + 1;
      if (length > max_bytes) return fail("varint too long");
      *value = pack_groups(length == 8 ? word : word & ((uint64_t{1} << (8 * length)) - 1));
      p_ += length;
      return true;
    }
    if (max_bytes <= 8) return fail("varint too long");
    // Bytes 9 and 10 hold bits 56..63; the 10th byte's higher bits fall off.
    uint64_t result = pack_groups(word);
    const auto ninth = static_cast<unsigned char>(p_[8]);
    result |= uint64_t{ninth & 0x7Fu} << 56;
    int length = 9;
    if (ninth >= 0x80) {
      const auto tenth = static_cast<unsigned char>(p_[9]);
      if (tenth >= 0x80) return fail("varint too long");
      result |= uint64_t{tenth} << 63;
      length = 10;
    }
    *value = result;
    p_ += length;
    return true;
  }

  // The low seven bits of each of word's bytes, first byte lowest: 56 bits.
  static uint64_t pack_groups(uint64_t word) {
    word &= 0x7F7F7F7F7F7F7F7Fu;
    word = (word & 0x007F007F007F007Fu) | (word & 0x7F007F007F007F00u) >> 1;
    word = (word & 0x00003FFF00003FFFu) | (word & 0x3FFF00003FFF0000u) >> 2;
    return (word & 0x000000000FFFFFFFu) | (word & 0x0FFFFFFF00000000u) >> 4;
  }

  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return fail("truncated fixed-size field");
    p_ += n;
    return true;
  }

  // The fields of a group, through its end tag. Recursion is bounded by kMaxDepth.
  bool skip_group(uint32_t field, int depth) {
    if (depth > kMaxDepth) return fail("nested more than 100 levels deep");
    for (;;) {
      if (at_end()) return fail("unterminated group");
      uint32_t inner;
      if (!tag(&inner)) return false;
      if ((inner & 7) == kEndGroup) {
        return (inner >> 3) == field || fail("group ended by another field's tag");
      }
      if (!skip(inner, depth)) return false;
    }
  }

  const char* p_;
  const char* end_;
  const char* why_ = nullptr;
};

// PartialLogEntryMetadata, merged into entry (field 5 may repeat).
bool decode_metadata(WireReader& in, LogEntryView* entry) {
  entry->has_partial_metadata = true;
  while (!in.at_end()) {
    uint32_t tag;
    if (!in.tag(&tag)) return false;
    uint64_t value;
    switch (tag) {
      case tag_of(1, kVarint):
        if (!in.varint(&value)) return false;
        entry->last = value != 0;
        break;
      case tag_of(2, kLengthDelimited):
        if (!in.bytes(&entry->partial_id)) return false;
        break;
      case tag_of(3, kVarint):
        if (!in.varint(&value)) return false;
        entry->ordinal = static_cast<int32_t>(static_cast<uint32_t>(value));
        break;
      default:
        if (!in.skip(tag, 1)) return false;
    }
  }
  return true;
}

bool decode_entry(WireReader& in, LogEntryView* entry) {
  while (!in.at_end()) {
    uint32_t tag;
    if (!in.tag(&tag)) return false;
    uint64_t value;
    std::string_view bytes;
    switch (tag) {
      case tag_of(1, kLengthDelimited):
        if (!in.bytes(&entry->source)) return false;
        break;
      case tag_of(2, kVarint):
        if (!in.varint(&value)) return false;
        entry->time_nano = static_cast<int64_t>(value);
        break;
      case tag_of(3, kLengthDelimited):
        if (!in.bytes(&entry->line)) return false;
        break;
      case tag_of(4, kVarint):
        if (!in.varint(&value)) return false;
        entry->partial = value != 0;
        break;
      case tag_of(5, kLengthDelimited): {
        if (!in.bytes(&bytes)) return false;
        WireReader metadata(bytes);
        if (!decode_metadata(metadata, entry)) return in.fail(metadata.why());
        break;
      }
      default:
        if (!in.skip(tag, 0)) return false;
    }
  }
  return true;
}

// ---- encoding ----

size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

char* put_varint(char* p, uint64_t value) {
  while (value >= 0x80) {
    *p++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *p++ = static_cast<char>(value);
  return p;
}

char* put_bytes(char* p, uint32_t field, std::string_view bytes) {
  *p++ = static_cast<char>(tag_of(field, kLengthDelimited));
  p = put_varint(p, bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

size_t bytes_field_size(std::string_view bytes) {
  return bytes.empty() ? 0 : 1 + varint_size(bytes.size()) + bytes.size();
}

// int32 goes on the wire sign-extended to 64 bits, as protobuf encodes it.
uint64_t ordinal_wire(int32_t ordinal) { return static_cast<uint64_t>(int64_t{ordinal}); }

size_t metadata_size(const LogEntryView& entry) {
  return (entry.last ? 2 : 0) + bytes_field_size(entry.partial_id) +
         (entry.ordinal != 0 ? 1 + varint_size(ordinal_wire(entry.ordinal)) : 0);
}

}  // namespace

bool decode_log_entry(std::string_view message, LogEntryView* entry, const char** why) {
  *entry = LogEntryView{};
  WireReader in(message);
  if (decode_entry(in, entry)) return true;
  if (why) *why = in.why();
  return false;
}

size_t FrameScanner::pass_oversized(size_t available) {
  const size_t passed = static_cast<size_t>(std::min<uint64_t>(available, skip_remaining_));
  skip_remaining_ -= passed;
  return passed;
}

FrameScanner::Status FrameScanner::next(std::string_view bytes, size_t* pos, LogEntryView* entry,
                                        size_t* begin) {
  for (;;) {
    *pos += pass_oversized(bytes.size() - *pos);
    if (skip_remaining_ > 0) return Status::kNeedMore;
    const size_t available = bytes.size() - *pos;
    if (available < 4) return Status::kNeedMore;
    const uint32_t length = load_be32(bytes.data() + *pos);
    if (length > max_frame_) {
      skip(kOversized, length);
      skip_remaining_ = uint64_t{4} + length;
      continue;
    }
    if (available - 4 < length) return Status::kNeedMore;
    const std::string_view message = bytes.substr(*pos + 4, length);
    if (begin != nullptr) *begin = *pos;
    *pos += 4 + length;
    const char* why = nullptr;
    if (decode_log_entry(message, entry, &why)) return Status::kFrame;
    skip(why, length);
  }
}

uint64_t FrameScanner::pass_unseen(std::string_view head) {
  if (head.size() < 4) return 0;
  const uint64_t length = load_be32(head.data());
  skip(kUnseen, length);
  skip_remaining_ = 4 + length;
  return length;
}

// why: the decoder's complaint, kOversized or kUnseen.
void FrameScanner::skip(const char* why, uint64_t frame_length) {
  ++skipped_frames_;
  skip_why_ = why;
  skip_length_ = frame_length;
}

std::string FrameScanner::last_skip_reason() const {
  if (skipped_frames_ == 0) return {};
  std::string reason = "frame of " + std::to_string(skip_length_) + " bytes ";
  if (skip_why_ == kOversized) {
    return reason + "exceeds the limit of " + std::to_string(max_frame_) + " bytes";
  }
  if (skip_why_ == kUnseen) return reason + "is longer than its stream can show at once";
  return reason + "is not a LogEntry: " + skip_why_;
}

void FrameDecoder::feed(const char* data, size_t n) {
  fed_ += n;
  // The rest of an oversized frame passes by without being kept.
  const size_t skipped = scanner_.pass_oversized(n);
  consumed_ += skipped;
  data += skipped;
  n -= skipped;
  // Views returned since the last feed() point into the buffer: it may move now.
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    if (buffer_.capacity() > kRetainedCapacity) {
      std::string smaller;
      smaller.reserve(std::max(kRetainedCapacity, n));
      buffer_.swap(smaller);
    }
  } else if (pos_ > 0) {
    buffer_.erase(0, pos_);
  }
  pos_ = 0;
  buffer_.append(data, n);
}

FrameDecoder::Status FrameDecoder::next(LogEntryView* entry) {
  const size_t from = pos_;
  const FrameScanner::Status status = scanner_.next(buffer_, &pos_, entry);
  consumed_ += pos_ - from;
  return status == FrameScanner::Status::kFrame ? Status::kFrame : Status::kNeedMore;
}

FrameDecoder::Status FrameDecoder::next(LogEntry* entry) {
  LogEntryView view;
  const Status status = next(&view);
  if (status != Status::kFrame) return status;
  entry->Clear();
  entry->set_source(std::string(view.source));
  entry->set_time_nano(view.time_nano);
  entry->set_line(std::string(view.line));
  entry->set_partial(view.partial);
  if (view.has_partial_metadata) {
    auto* metadata = entry->mutable_partial_log_metadata();
    metadata->set_last(view.last);
    metadata->set_id(std::string(view.partial_id));
    metadata->set_ordinal(view.ordinal);
  }
  return status;
}

void append_frame(std::string& out, const LogEntryView& entry) {
  const size_t metadata = metadata_size(entry);
  const size_t length =
      bytes_field_size(entry.source) +
      (entry.time_nano != 0 ? 1 + varint_size(static_cast<uint64_t>(entry.time_nano)) : 0) +
      bytes_field_size(entry.line) + (entry.partial ? 2 : 0) +
      (entry.has_partial_metadata ? 1 + varint_size(metadata) + metadata : 0);
  const size_t start = out.size();
  out.resize(start + 4 + length);
  char* p = out.data() + start;
  for (int shift = 24; shift >= 0; shift -= 8) *p++ = static_cast<char>(length >> shift);
  if (!entry.source.empty()) p = put_bytes(p, 1, entry.source);
  if (entry.time_nano != 0) {
    *p++ = static_cast<char>(tag_of(2, kVarint));
    p = put_varint(p, static_cast<uint64_t>(entry.time_nano));
  }
  if (!entry.line.empty()) p = put_bytes(p, 3, entry.line);
  if (entry.partial) {
    *p++ = static_cast<char>(tag_of(4, kVarint));
    *p++ = 1;
  }
  if (entry.has_partial_metadata) {
    *p++ = static_cast<char>(tag_of(5, kLengthDelimited));
    p = put_varint(p, metadata);
    if (entry.last) {
      *p++ = static_cast<char>(tag_of(1, kVarint));
      *p++ = 1;
    }
    if (!entry.partial_id.empty()) p = put_bytes(p, 2, entry.partial_id);
    if (entry.ordinal != 0) {
      *p++ = static_cast<char>(tag_of(3, kVarint));
      p = put_varint(p, ordinal_wire(entry.ordinal));
    }
  }
}

void append_frame(std::string& out, const LogEntry& entry) {
  const size_t length = entry.ByteSizeLong();
  const size_t start = out.size();
  out.resize(start + 4 + length);
  char* p = out.data() + start;
  for (int shift = 24; shift >= 0; shift -= 8) *p++ = static_cast<char>(length >> shift);
  entry.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(p));
}

}  // namespace logguard
