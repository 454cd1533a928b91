// The FIFO's frame decoder on arbitrary streams: whatever the bytes and
// however reads split them, the decoder yields the same frames and skips,
// keeps its offsets consistent and its buffer within one frame plus a read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logguard/format/frame.h"

namespace {

using logguard::FrameDecoder;
using logguard::LogEntryView;

void check(bool ok) {
  if (!ok) std::abort();
}

// Frames and skips as text, with the offset after each.
void record(std::string& out, const LogEntryView& e, const FrameDecoder& decoder) {
  out += std::to_string(decoder.consumed()) + ':' + std::string(e.source) + '|' +
         std::to_string(e.time_nano) + '|' + std::string(e.line) + '|' + char('0' + e.partial) +
         char('0' + e.has_partial_metadata) + char('0' + e.last) + std::string(e.partial_id) + '|' +
         std::to_string(e.ordinal) + ';';
}

// Decodes data fed in pieces whose sizes come from `seed` (0: all at once).
std::string decode(std::string_view data, size_t max_frame, uint32_t seed) {
  FrameDecoder decoder(max_frame);
  std::string out;
  uint64_t consumed = 0;
  size_t at = 0;
  while (at < data.size()) {
    size_t piece = data.size() - at;
    if (seed != 0) {
      seed = seed * 1103515245 + 12345;
      piece = std::min<size_t>(piece, 1 + (seed >> 16) % 97);
    }
    decoder.feed(data.data() + at, piece);
    at += piece;
    // Held back: at most one unfinished frame plus this read.
    check(decoder.pending() <= 4 + max_frame + piece);
    LogEntryView entry;
    while (decoder.next(&entry) == FrameDecoder::Status::kFrame) record(out, entry, decoder);
    check(decoder.consumed() >= consumed);
    consumed = decoder.consumed();
    check(decoder.fed() == at);
    check(decoder.consumed() + decoder.pending() == decoder.fed());
  }
  out += "skipped " + std::to_string(decoder.skipped_frames()) + " pending " +
         std::to_string(decoder.pending()) + " consumed " + std::to_string(decoder.consumed());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  uint32_t seed = 2166136261u;
  for (size_t i = 0; i < size && i < 64; ++i) seed = (seed ^ data[i]) * 16777619u;
  seed |= 1;
  for (size_t max_frame : {logguard::kMaxFrameSize, size_t{40}}) {
    const std::string whole = decode(stream, max_frame, 0);
    check(decode(stream, max_frame, seed) == whole);
  }
  return 0;
}
