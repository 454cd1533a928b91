#include "logguard/read/line_reader.h"

#include <algorithm>
#include <utility>

namespace logguard {

size_t RangeSource::read(char* buf, size_t n) {
  n = static_cast<size_t>(std::min<uint64_t>(n, limit_ - std::min(limit_, pos_)));
  if (n == 0) return 0;
  size_t got = file_.read_at(pos_, buf, n);
  pos_ += got;
  return got;
}

LineReader::LineReader(std::unique_ptr<ByteSource> source, uint64_t offset, std::string path,
                       ReadReporter* reporter, size_t block_size)
    : source_(std::move(source)), path_(std::move(path)), reporter_(reporter),
      block_size_(block_size), offset_(offset) {}

std::optional<std::string_view> LineReader::next() {
  for (;;) {
    size_t newline = buffer_.find('\n', pos_ + scanned_);
    if (newline != std::string::npos) {
      std::string_view line(buffer_.data() + pos_, newline - pos_);
      line_offset_ = offset_;
      offset_ += line.size() + 1;
      pos_ = newline + 1;
      scanned_ = 0;
      ++lines_;
      if (!std::exchange(overlong_, false)) return line;
      continue;
    }
    scanned_ = buffer_.size() - pos_;
    if (scanned_ > kMaxLineSize) drop_overlong();
    if (!fill()) return std::nullopt;
  }
}

bool LineReader::fill() {
  buffer_.erase(0, pos_);
  pos_ = 0;
  size_t used = buffer_.size();
  buffer_.resize(used + block_size_);
  size_t got = source_->read(buffer_.data() + used, block_size_);
  buffer_.resize(used + got);
  return got > 0;
}

void LineReader::drop_overlong() {
  if (!overlong_ && reporter_) reporter_->report(ReadProblem::kOverlongLine, path_, offset_, {});
  overlong_ = true;
  offset_ += buffer_.size() - pos_;
  buffer_.clear();
  pos_ = 0;
  scanned_ = 0;
}

}  // namespace logguard
