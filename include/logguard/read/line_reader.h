// Lines of a log file: RangeSource reads a byte range of an open file,
// LineReader splits any ByteSource into '\n'-terminated lines. Both work on
// a file that is still being appended to (a followed current file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/format/compression.h"
#include "logguard/base/file_system.h"
#include "logguard/read/read_reporter.h"

namespace logguard {

// Bytes [pos, limit) of an open file, read by offset (so other readers of
// the same file do not matter). Lifting the limit follows the file's growth.
class RangeSource : public ByteSource {
 public:
  static constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();
  // file must outlive the source.
  RangeSource(ReadableFile& file, uint64_t pos, uint64_t limit = kNoLimit)
      : file_(file), pos_(pos), limit_(limit) {}
  size_t read(char* buf, size_t n) override;
  void unlimit() { limit_ = kNoLimit; }

 private:
  ReadableFile& file_;
  uint64_t pos_;
  uint64_t limit_;
};

// Splits a byte source into lines. At the end of what the source has now it
// holds back an incomplete line, which later reads may complete (a followed
// file). A line longer than kMaxLineSize is not a record we wrote (a record
// holds at most one 16 KiB chunk, escaped): it is dropped, reported, rather
// than buffered, so memory stays bounded.
class LineReader {
 public:
  static constexpr size_t kMaxLineSize = 4 * 1024 * 1024;
  static constexpr size_t kBlockSize = 64 * 1024;

  // `offset`: where in the file the source starts; `path` names the file in
  // reports. reporter may be null (overlong lines are then dropped silently).
  LineReader(std::unique_ptr<ByteSource> source, uint64_t offset, std::string path,
             ReadReporter* reporter, size_t block_size = kBlockSize);

  // The next complete line without its '\n', valid until the next call;
  // nullopt when no complete line is available now.
  std::optional<std::string_view> next();

  // Offset of the line next() returned last.
  uint64_t line_offset() const { return line_offset_; }
  // Offset just past the last complete line passed.
  uint64_t offset() const { return offset_; }
  // Complete lines passed so far, dropped overlong ones included.
  uint64_t lines() const { return lines_; }
  // Whether bytes of an incomplete line are held back.
  bool has_partial() const { return overlong_ || pos_ < buffer_.size(); }
  const std::string& path() const { return path_; }

 private:
  bool fill();
  void drop_overlong();

  std::unique_ptr<ByteSource> source_;
  std::string path_;
  ReadReporter* reporter_;
  size_t block_size_;
  std::string buffer_;
  size_t pos_ = 0;      // first unconsumed byte of buffer_
  size_t scanned_ = 0;  // bytes from pos_ known to hold no '\n'
  uint64_t offset_;     // file offset of buffer_[pos_] (of the partial line's start)
  uint64_t line_offset_ = 0;
  uint64_t lines_ = 0;
  bool overlong_ = false;  // dropping the rest of an overlong line
};

}  // namespace logguard
