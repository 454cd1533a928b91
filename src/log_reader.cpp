#include "logguard/log_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "logguard/compression.h"
#include "logguard/file_system.h"
#include "logguard/log_names.h"
#include "logguard/unique_fd.h"

namespace logguard {
namespace {

constexpr size_t kBlockSize = 64 * 1024;
constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();
constexpr size_t kProbeBlockSize = 4 * 1024;
// Longer lines are not records we wrote (a record holds at most one 16 KiB
// chunk, escaped); they are dropped rather than buffered.
constexpr size_t kMaxLineSize = 4 * 1024 * 1024;
// Below this many bytes a linear scan is cheaper than more probes.
constexpr uint64_t kLinearScanBytes = 64 * 1024;
// Records looked at past a probe point before giving up on a parsable time.
constexpr int kProbeLines = 8;
// Re-listings when rotations keep renaming files while we open them.
constexpr int kOpenAttempts = 8;
// Millisecond waits for a rotation under way to close the gap it leaves in
// the names, before a follower gives up on the files beyond it.
constexpr int kGapWaits = 1000;
constexpr int kMaxCorruptWarnings = 20;

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// ---------------------------------------------------------------------------
// Naming and opening the files.

struct FileName {
  std::string path;
  int index = 0;  // 0: the current file; k: "<base>.k[.gz|.zst]", newer when smaller
  Codec codec = Codec::kNone;
};

// Rotated files, newest (".1") first; of a rotation that is both plain and
// compressed (the compressor has not unlinked the source yet), the plain one.
std::vector<FileName> list_rotated(const std::string& dir, const std::string& base) {
  std::vector<FileName> names;
  for (const auto& file : list_log_files(posix_file_system(), dir, base)) {
    if (file.index == 0) continue;
    names.push_back(FileName{dir + "/" + file.name, static_cast<int>(file.index), file.form});
  }
  std::reverse(names.begin(), names.end());
  return names;
}

// One file of the log, open. Its descriptor keeps it readable whatever the
// writer renames or unlinks afterwards.
struct OpenedFile {
  FileName name;
  UniqueFd fd;
  struct stat st {};
  uint64_t size = 0;  // at open: the snapshot of what to read

  // What the history reads of it (set by the tail plan).
  bool include = true;
  uint64_t start = 0;       // plain: first byte
  uint64_t skip_lines = 0;  // compressed: leading lines to pass over

  // Compressed, while following: the header's lastTime, read while its name
  // was known to refer to this file (the header is only readable by name).
  std::optional<int64_t> header_last_time;

  bool compressed() const { return name.codec != Codec::kNone; }
  const std::string& path() const { return name.path; }
};

// nullopt if the name no longer exists (a rotation renamed it).
std::optional<OpenedFile> open_file(FileName name) {
  UniqueFd fd(::open(name.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open " + name.path);
  }
  OpenedFile file;
  if (::fstat(fd.get(), &file.st) != 0) throw_errno("fstat " + name.path);
  file.name = std::move(name);
  file.fd = std::move(fd);
  file.size = static_cast<uint64_t>(file.st.st_size);
  return file;
}

// Whether `file` is still under the name it was opened by.
bool in_place(const OpenedFile& file) {
  struct stat st {};
  return ::stat(file.path().c_str(), &st) == 0 && same_file(st, file.st);
}

// The rotated file now at .index: the plain one if there is one (while a
// compression finishes both hold the same records), else the compressed one,
// whose header is read by name and so kept only if the name did not move.
std::optional<OpenedFile> open_rotated(const std::string& dir, const std::string& base,
                                       int index) {
  const std::string stem = dir + "/" + base + "." + std::to_string(index);
  for (int attempt = 1; attempt <= kOpenAttempts; ++attempt) {
    std::optional<OpenedFile> file;
    for (Codec codec : {Codec::kNone, Codec::kGzip, Codec::kZstd}) {
      file = open_file(FileName{stem + std::string(codec_extension(codec)), index, codec});
      if (file) break;
    }
    if (!file || !file->compressed()) return file;
    file->header_last_time = read_last_time(file->path());
    if (in_place(*file)) return file;
  }
  return std::nullopt;
}

// Whether `files`, opened by the names `listed` returned, are a snapshot of
// the rotated files: every name still refers to the file opened under it, and
// no rotation added a name meanwhile (opening by a stale listing would
// otherwise see renamed files under old names and miss the oldest).
bool snapshot_holds(const std::vector<OpenedFile>& files, const std::vector<FileName>& listed,
                    const std::string& dir, const std::string& base) {
  for (const auto& file : files) {
    struct stat st {};
    if (::stat(file.path().c_str(), &st) != 0 || !same_file(st, file.st)) return false;
  }
  auto now = list_rotated(dir, base);
  return std::equal(now.begin(), now.end(), listed.begin(), listed.end(),
                    [](const FileName& a, const FileName& b) { return a.path == b.path; });
}

// Every file of the log, oldest first, the current one (if any) last: a
// consistent set, re-listed if a rotation ran while opening.
std::vector<OpenedFile> open_log_files(const std::string& dir, const std::string& base) {
  for (int attempt = 1;; ++attempt) {
    const auto listed = list_rotated(dir, base);
    std::vector<FileName> names(listed.rbegin(), listed.rend());
    names.push_back(FileName{dir + "/" + base, 0, Codec::kNone});
    std::vector<OpenedFile> files;
    bool complete = true;
    for (auto& name : names) {
      bool rotated = name.index != 0;
      auto file = open_file(std::move(name));
      if (file) {
        files.push_back(std::move(*file));
      } else if (rotated) {
        complete = false;  // renamed meanwhile; a missing current file is just an unwritten log
      }
    }
    if (complete && snapshot_holds(files, listed, dir, base)) return files;
    if (attempt == kOpenAttempts) {
      spdlog::warn("{}/{}: files kept rotating while being opened; reading may skip or repeat lines",
                   dir, base);
      return files;
    }
  }
}

// ---------------------------------------------------------------------------
// Bytes and lines.

size_t pread_some(int fd, char* buf, size_t n, uint64_t offset) {
  for (;;) {
    ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) throw_errno("pread");
  }
}

// Bytes [pos, limit) of a plain file, by pread so that other readers of the
// same descriptor do not matter; the limit can be lifted to follow growth.
class PlainSource : public ByteSource {
 public:
  PlainSource(int fd, uint64_t pos, uint64_t limit) : fd_(fd), pos_(pos), limit_(limit) {}
  size_t read(char* buf, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, limit_ - std::min(limit_, pos_)));
    if (n == 0) return 0;
    size_t got = pread_some(fd_, buf, n, pos_);
    pos_ += got;
    return got;
  }
  void unlimit() { limit_ = kNoLimit; }

 private:
  int fd_;
  uint64_t pos_;
  uint64_t limit_;
};

// A compressed file from its start, over a duplicate of its descriptor.
std::unique_ptr<ByteSource> open_compressed(const OpenedFile& file) {
  if (::lseek(file.fd.get(), 0, SEEK_SET) < 0) throw_errno("lseek " + file.path());
  int fd = ::fcntl(file.fd.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw_errno("dup " + file.path());
  return open_byte_source(fd, file.name.codec);
}

// Splits a byte source into '\n'-terminated lines. At the end of what the
// source has now it holds back an incomplete line, which later reads may
// complete (a followed file). Memory is bounded by kMaxLineSize.
class LineReader {
 public:
  LineReader(std::unique_ptr<ByteSource> source, uint64_t offset, std::string name,
             size_t block_size = kBlockSize)
      : source_(std::move(source)), name_(std::move(name)), block_size_(block_size),
        offset_(offset) {}

  // The next complete line without its '\n', valid until the next call;
  // nullopt when no complete line is available now.
  std::optional<std::string_view> next() {
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

  // Offset (in the source's bytes) of the line next() returned last.
  uint64_t line_offset() const { return line_offset_; }
  // Complete lines passed so far, dropped overlong ones included.
  uint64_t lines() const { return lines_; }
  // Whether bytes of an incomplete line are held back.
  bool has_partial() const { return overlong_ || pos_ < buffer_.size(); }
  const std::string& name() const { return name_; }

 private:
  bool fill() {
    buffer_.erase(0, pos_);
    pos_ = 0;
    size_t used = buffer_.size();
    buffer_.resize(used + block_size_);
    size_t got = source_->read(buffer_.data() + used, block_size_);
    buffer_.resize(used + got);
    return got > 0;
  }

  void drop_overlong() {
    if (!overlong_) {
      spdlog::warn("{}: skipping a line longer than {} bytes at offset {}", name_, kMaxLineSize,
                   offset_);
    }
    overlong_ = true;
    offset_ += buffer_.size() - pos_;
    buffer_.clear();
    pos_ = 0;
    scanned_ = 0;
  }

  std::unique_ptr<ByteSource> source_;
  std::string name_;
  size_t block_size_;
  std::string buffer_;
  size_t pos_ = 0;      // first unconsumed byte of buffer_
  size_t scanned_ = 0;  // bytes from pos_ known to hold no '\n'
  uint64_t offset_;     // source offset of buffer_[pos_]
  uint64_t line_offset_ = 0;
  uint64_t lines_ = 0;
  bool overlong_ = false;  // dropping the rest of an overlong line
};

// ---------------------------------------------------------------------------
// Finding where to start: tail and since.

struct TailStart {
  uint64_t offset;  // start of the first of the last lines
  uint64_t lines;   // how many complete lines follow it (at most the number asked for)
};

// The last `want` complete lines of [begin, end) in a plain file, found by
// reading backwards; a trailing incomplete line is not counted. With want 0,
// the offset just past the last '\n'.
TailStart find_tail_start(int fd, uint64_t begin, uint64_t end, uint64_t want) {
  std::string block(kBlockSize, '\0');
  uint64_t newlines = 0;
  for (uint64_t pos = end; pos > begin;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockSize, pos - begin));
    pos -= n;
    if (pread_some(fd, block.data(), n, pos) != n) throw std::runtime_error("file shrank");
    for (size_t i = n; i-- > 0;) {
      if (block[i] == '\n' && ++newlines == want + 1) return {pos + i + 1, want};
    }
  }
  return {begin, newlines};
}

// Complete lines of a compressed file (decompresses it once).
uint64_t count_lines(const OpenedFile& file) {
  auto source = open_compressed(file);
  std::string block(kBlockSize, '\0');
  uint64_t lines = 0;
  while (size_t n = source->read(block.data(), block.size())) {
    lines += static_cast<uint64_t>(std::count(block.data(), block.data() + n, '\n'));
  }
  return lines;
}

struct Probe {
  uint64_t offset;
  int64_t time;
};

// The first record with a parsable time among the few lines starting at or
// after `from` (a line start if `aligned`, else anywhere inside a line).
std::optional<Probe> probe(const OpenedFile& file, uint64_t from, uint64_t end, bool aligned) {
  uint64_t begin = aligned || from == 0 ? from : from - 1;
  LineReader reader(std::make_unique<PlainSource>(file.fd.get(), begin, end), begin, file.path(),
                    kProbeBlockSize);
  if (begin != from && !reader.next()) return std::nullopt;  // the rest of the line around from
  for (int i = 0; i < kProbeLines; ++i) {
    auto line = reader.next();
    if (!line) return std::nullopt;
    if (auto time = parse_json_record_time(*line)) return Probe{reader.line_offset(), *time};
  }
  return std::nullopt;
}

std::optional<Probe> last_record(const OpenedFile& file, uint64_t begin, uint64_t end) {
  TailStart last = find_tail_start(file.fd.get(), begin, end, 1);
  if (last.lines == 0) return std::nullopt;
  return probe(file, last.offset, end, true);
}

// The time of a file's last record now: from the header if compressed.
std::optional<int64_t> last_time(const OpenedFile& file) {
  if (file.compressed()) return read_last_time(file.path());
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) throw_errno("fstat " + file.path());
  auto last = last_record(file, 0, static_cast<uint64_t>(st.st_size));
  return last ? std::optional<int64_t>(last->time) : std::nullopt;
}

bool times_ascend(std::vector<Probe> probes) {
  std::sort(probes.begin(), probes.end(),
            [](const Probe& a, const Probe& b) { return a.offset < b.offset; });
  return std::is_sorted(probes.begin(), probes.end(),
                        [](const Probe& a, const Probe& b) { return a.time < b.time; });
}

// Where reading [begin, end) of a plain file for records at or after `since`
// can start: a binary search on record times, so the cost is logarithmic in
// the history skipped. Returns a line start whose record precedes since, or
// begin. If the probed times are not ascending (a clock stepped back) the
// search cannot be trusted and the whole range is scanned.
uint64_t seek_since(const OpenedFile& file, uint64_t begin, uint64_t end, int64_t since) {
  auto first = probe(file, begin, end, true);
  if (!first || first->time >= since) return begin;
  std::vector<Probe> probes{*first};
  uint64_t lo = first->offset;
  uint64_t hi = end;  // end, or the start of a record at or after since
  while (hi - lo > kLinearScanBytes) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto p = probe(file, mid, end, false);
    if (!p || p->offset >= hi) {
      hi = mid;  // nothing parsable starts in [mid, hi)
      continue;
    }
    probes.push_back(*p);
    (p->time < since ? lo : hi) = p->offset;
  }
  if (auto last = last_record(file, begin, end)) probes.push_back(*last);
  if (!times_ascend(probes)) {
    spdlog::debug("{}: record times are not ascending; scanning for since linearly", file.path());
    return begin;
  }
  return lo;
}

// ---------------------------------------------------------------------------
// Delivering records.

// Applies since/until to records and hands them to the sink.
class Delivery {
 public:
  Delivery(const ReadRequest& request, RecordSink& sink) : request_(request), sink_(sink) {}

  // Offers one line; false once reading must stop (until passed, client gone).
  bool offer(std::string_view line, const std::string& file, uint64_t offset) {
    auto record = parse_json_record(line);
    if (!record) {
      warn_corrupt(file, offset);
      return true;
    }
    last_seen_ = record->time_nanos;
    if (request_.since_nanos != 0 && record->time_nanos < request_.since_nanos) return true;
    if (request_.until_nanos != 0 && record->time_nanos > request_.until_nanos) return stop();
    if (!sink_.write(*record)) return stop();
    return true;
  }
  bool done() const { return done_; }
  // The time of the last record read, delivered or not.
  std::optional<int64_t> last_seen() const { return last_seen_; }

 private:
  bool stop() {
    done_ = true;
    return false;
  }
  void warn_corrupt(const std::string& file, uint64_t offset) {
    ++corrupt_;
    if (corrupt_ <= kMaxCorruptWarnings) {
      spdlog::warn("{}: skipping a corrupt log line at offset {}", file, offset);
    }
    if (corrupt_ == kMaxCorruptWarnings) {
      spdlog::warn("{}: further corrupt lines in this read are not reported", file);
    }
  }

  const ReadRequest& request_;
  RecordSink& sink_;
  bool done_ = false;
  int corrupt_ = 0;
  std::optional<int64_t> last_seen_;
};

// Offers the reader's complete lines, passing over the first `skip`; false
// once delivery stops.
bool deliver_lines(LineReader& reader, Delivery& delivery, uint64_t skip = 0) {
  while (auto line = reader.next()) {
    if (reader.lines() <= skip) continue;
    if (!delivery.offer(*line, reader.name(), reader.line_offset())) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The reader of one container's log.

class ContainerReader {
 public:
  ContainerReader(std::string dir, std::string base, const ReadRequest& request, RecordSink& sink)
      : dir_(std::move(dir)), base_(std::move(base)), current_path_(dir_ + "/" + base_),
        request_(request), sink_(sink), delivery_(request, sink) {}

  // Delivers the history as of now; false if reading is over (until passed,
  // client gone).
  bool read_history();
  // Delivers what is written from now on until the watch closes.
  void follow(LogWatch& watch, LogWatch::Subscription& subscription);

 private:
  // The current file, read incrementally; kept from the history into follow.
  struct Current {
    OpenedFile file;
    PlainSource* source;  // owned by reader
    LineReader reader;
  };

  // Rotated files found walking from the newest towards the one followed.
  struct Chain {
    std::vector<OpenedFile> files;  // newest first, each rotated just before the previous one
    bool found_old = false;
    bool gave_up = false;  // a gap in the names did not close
  };

  void plan_tail(uint64_t want);
  uint64_t current_start(const OpenedFile& file);
  bool read_rotated(const OpenedFile& file);
  bool read_compressed(const OpenedFile& file);
  bool read_plain(const OpenedFile& file);
  void start_current(OpenedFile file, uint64_t offset, uint64_t limit);
  bool drain_current();
  bool catch_up();
  bool read_missed_rotations(const OpenedFile& next);
  Chain walk_rotated(const OpenedFile* old, std::optional<int64_t> old_last);
  bool relocate(Chain& chain, int& index);
  bool past_end(int index);
  std::vector<OpenedFile> rotated_since(const OpenedFile* old, const OpenedFile& next);
  bool wait(LogWatch::Subscription& subscription);

  std::string dir_;
  std::string base_;
  std::string current_path_;
  const ReadRequest& request_;
  RecordSink& sink_;
  Delivery delivery_;
  std::vector<OpenedFile> files_;  // the history, oldest first
  std::unique_ptr<Current> current_;
};

// Marks which files (and where in them) hold the last `want` records,
// walking newest to oldest so older files are touched only if needed.
void ContainerReader::plan_tail(uint64_t want) {
  for (auto& file : files_) file.include = false;
  for (size_t i = files_.size(); i-- > 0 && want > 0;) {
    OpenedFile& file = files_[i];
    // Everything from a compressed file before since back precedes since
    // (times ascend across files): since would drop it, so it is not counted.
    auto last_time = file.compressed() && request_.since_nanos != 0 ? read_last_time(file.path())
                                                                    : std::nullopt;
    if (last_time && *last_time < request_.since_nanos) break;
    try {
      if (file.compressed()) {
        uint64_t lines = count_lines(file);
        file.skip_lines = lines - std::min(lines, want);
        want -= lines - file.skip_lines;
      } else {
        TailStart tail = find_tail_start(file.fd.get(), 0, file.size, want);
        file.start = tail.offset;
        want -= tail.lines;
      }
      file.include = true;
    } catch (const std::exception& e) {
      spdlog::warn("{}: skipping unreadable log file: {}", file.path(), e.what());
    }
  }
}

bool ContainerReader::read_history() {
  files_ = open_log_files(dir_, base_);
  if (request_.tail > 0) plan_tail(static_cast<uint64_t>(request_.tail));
  for (auto& file : files_) {
    if (file.name.index == 0) {
      uint64_t start = current_start(file);
      uint64_t limit = file.size;  // the snapshot; following lifts it
      start_current(std::move(file), start, limit);
      if (!drain_current()) return false;
    } else if (request_.tail != 0 && file.include && !read_rotated(file)) {
      return false;
    }
  }
  return true;
}

// Where the history starts in the current file.
uint64_t ContainerReader::current_start(const OpenedFile& file) {
  try {
    // Tail 0: nothing now; following starts after the last complete line.
    if (request_.tail == 0) return find_tail_start(file.fd.get(), 0, file.size, 0).offset;
    if (request_.since_nanos == 0) return file.start;
    return seek_since(file, file.start, file.size, request_.since_nanos);
  } catch (const std::exception& e) {
    spdlog::warn("{}: read error: {}", file.path(), e.what());
    return file.size;
  }
}

bool ContainerReader::read_rotated(const OpenedFile& file) {
  try {
    return file.compressed() ? read_compressed(file) : read_plain(file);
  } catch (const std::exception& e) {
    spdlog::warn("{}: skipping the rest of an unreadable log file: {}", file.path(), e.what());
    return !delivery_.done();
  }
}

bool ContainerReader::read_compressed(const OpenedFile& file) {
  if (request_.since_nanos != 0) {
    // By name: if a rotation renamed it meanwhile, the name now holds a newer
    // file, whose later lastTime can only make the skip less likely.
    auto last_time = file.header_last_time ? file.header_last_time : read_last_time(file.path());
    if (last_time && *last_time < request_.since_nanos) return true;
  }
  LineReader reader(open_compressed(file), 0, file.path());
  if (!deliver_lines(reader, delivery_, file.skip_lines)) return false;
  if (reader.has_partial()) spdlog::warn("{}: skipping a truncated last line", file.path());
  return true;
}

bool ContainerReader::read_plain(const OpenedFile& file) {
  uint64_t start = request_.since_nanos != 0
                       ? seek_since(file, file.start, file.size, request_.since_nanos)
                       : file.start;
  LineReader reader(std::make_unique<PlainSource>(file.fd.get(), start, file.size), start,
                    file.path());
  if (!deliver_lines(reader, delivery_)) return false;
  if (reader.has_partial()) spdlog::warn("{}: skipping a truncated last line", file.path());
  return true;
}

void ContainerReader::start_current(OpenedFile file, uint64_t offset, uint64_t limit) {
  auto source = std::make_unique<PlainSource>(file.fd.get(), offset, limit);
  PlainSource* raw = source.get();
  std::string path = file.path();
  current_.reset(new Current{std::move(file), raw, LineReader(std::move(source), offset, path)});
}

bool ContainerReader::drain_current() {
  try {
    return deliver_lines(current_->reader, delivery_);
  } catch (const std::exception& e) {
    spdlog::warn("{}: read error: {}", current_->file.path(), e.what());
    return !delivery_.done();
  }
}

void ContainerReader::follow(LogWatch& watch, LogWatch::Subscription& subscription) {
  if (current_) current_->source->unlimit();
  for (;;) {
    // Checked before reading: whatever was written before close() is then
    // on disk and read below.
    bool closed = watch.closed();
    if (!catch_up() || closed || !wait(subscription)) return;
  }
}

// Reads everything written so far, following rotations; false once reading
// is over.
bool ContainerReader::catch_up() {
  for (;;) {
    if (current_ && !drain_current()) return false;
    struct stat st {};
    // Missing: mid-rotation; the writer's next notify brings us back.
    if (::stat(current_path_.c_str(), &st) != 0) return true;
    if (current_ && same_file(st, current_->file.st)) return true;
    // Renamed away: finish what was written to it before the rename.
    if (current_ && !drain_current()) return false;
    if (current_ && current_->reader.has_partial()) {
      spdlog::warn("{}: skipping a truncated last line", current_->file.path());
    }
    auto next = open_file(FileName{current_path_, 0, Codec::kNone});
    if (!next) return true;
    if (!read_missed_rotations(*next)) return false;
    start_current(std::move(*next), 0, kNoLimit);
  }
}

// Between the file we followed and the new current file, more rotations may
// have run: delivers the files they produced, oldest first.
bool ContainerReader::read_missed_rotations(const OpenedFile& next) {
  // The newest file already read: the followed one, else (no current file
  // when the history was read) the newest rotated one, else none at all.
  const OpenedFile* old = current_ ? &current_->file : files_.empty() ? nullptr : &files_.back();
  for (auto& file : rotated_since(old, next)) {
    if (!read_rotated(file)) return false;
  }
  return true;
}

// Whether `file` is `target` (whose last record is at target_last), renamed
// by rotations or compressed since.
bool same_rotation(const OpenedFile& file, const OpenedFile& target,
                   std::optional<int64_t> target_last) {
  if (same_file(file.st, target.st)) return true;
  return file.compressed() && !target.compressed() && target_last &&
         file.header_last_time == *target_last;
}

// The rotated files newer than `old` (all of them without one), newest
// first. Each is found at the index above the previous one while that one is
// still in place: two names in use at the same moment, .k and .k+1, hold
// consecutive rotations, whatever a rotation under way has renamed (it
// renames oldest first and leaves one gap). So a rotation during the walk
// costs a step, never the walk, and no moment when all files hold still is
// needed: a follower far behind a busy writer still finds every file.
ContainerReader::Chain ContainerReader::walk_rotated(const OpenedFile* old,
                                                     std::optional<int64_t> old_last) {
  Chain chain;
  int index = 0;  // where chain.files.back() is; 0 before the first
  for (int waits = 0;;) {
    auto older = open_rotated(dir_, base_, index + 1);
    if (!older) {
      if (past_end(index + 1)) return chain;
      // A gap: a rotation under way is renaming; once it is done the
      // previous file has moved up and is looked for again below.
      if (++waits > kGapWaits) {
        chain.gave_up = true;
        return chain;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else if (index > 0 && !in_place(chain.files.back())) {
      if (!relocate(chain, index)) return chain;  // gone, and `old` with it
    } else if (old && same_rotation(*older, *old, old_last)) {
      chain.found_old = true;
      return chain;
    } else {
      chain.files.push_back(std::move(*older));
      ++index;
    }
  }
}

// The last file of the chain left .index: a rotation moved it up, or it was
// compressed there. Looks for it from .index up (files only move up); false
// if it is gone (deleted past max-file). A plain file without records is
// not recognisable once compressed: it is dropped, and found again as the
// file before the previous one.
bool ContainerReader::relocate(Chain& chain, int& index) {
  for (; !chain.files.empty(); chain.files.pop_back(), --index) {
    OpenedFile& last = chain.files.back();
    std::optional<int64_t> last_at = last.compressed() ? std::nullopt : last_time(last);
    if (!last.compressed() && !last_at) continue;
    for (int at = index, waits = 0;;) {
      auto file = open_rotated(dir_, base_, at);
      if (file && same_rotation(*file, last, last_at)) {
        last = std::move(*file);
        index = at;
        return true;
      }
      if (file) {
        ++at;
      } else if (past_end(at) || ++waits > kGapWaits) {
        return false;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  index = 0;
  return true;
}

// Whether no rotated file is at .index or above: neither .index nor
// .index+1 is in use while the current file stays put. A rotation under way
// leaves one gap with files above it, and ends by renaming the current file,
// so this is no gap of one.
bool ContainerReader::past_end(int index) {
  struct stat before {}, after {};
  if (::stat(current_path_.c_str(), &before) != 0) return false;
  bool unused = !open_rotated(dir_, base_, index) && !open_rotated(dir_, base_, index + 1);
  return unused && ::stat(current_path_.c_str(), &after) == 0 && same_file(before, after);
}

// The rotated files newer than `old` and older than `next` (the new current
// file), oldest first. `old` is recognised by its inode, or once compressed
// by the lastTime the compressor recorded for its last record.
std::vector<OpenedFile> ContainerReader::rotated_since(const OpenedFile* old,
                                                       const OpenedFile& next) {
  std::optional<int64_t> old_last;
  if (old) old_last = last_time(*old);
  Chain chain = walk_rotated(old, old_last);
  // `next` may have been rotated (even compressed) since it was opened; if
  // so it is complete by now, so its last time identifies it.
  auto next_last = last_time(next);
  auto newer = std::find_if(chain.files.rbegin(), chain.files.rend(), [&](const OpenedFile& file) {
    return same_rotation(file, next, next_last);
  });
  chain.files.erase(chain.files.begin(), newer.base());  // `next` and what came after it
  bool missed = chain.gave_up;
  if (old && !chain.found_old) {
    // `old` is gone (deleted by max-file) and files after it perhaps too,
    // or, holding no record, it cannot be told once compressed: keep what is
    // newer by time.
    if (old_last) missed = missed || !chain.files.empty();
    if (!old_last) old_last = delivery_.last_seen();
    std::erase_if(chain.files, [&](const OpenedFile& file) {
      auto last = file.compressed() ? file.header_last_time : last_time(file);
      return !last || !old_last || *last <= *old_last;
    });
  }
  if (missed) {
    spdlog::warn("{}: file rotations were missed while following logs; some log messages may "
                 "have been skipped",
                 current_path_);
  }
  std::reverse(chain.files.begin(), chain.files.end());
  return std::move(chain.files);
}

// Sleeps until the writer notifies or the client hangs up; false on hang-up.
bool ContainerReader::wait(LogWatch::Subscription& subscription) {
  if (!sink_.flush()) return false;  // what was read so far goes out before we sleep
  pollfd fds[2] = {{subscription.fd(), POLLIN, 0}, {sink_.hangup_fd(), POLLRDHUP, 0}};
  nfds_t count = fds[1].fd >= 0 ? 2 : 1;
  while (::poll(fds, count, -1) < 0) {
    if (errno != EINTR) throw_errno("poll");
  }
  if (count == 2 && fds[1].revents != 0) return false;
  subscription.consume();
  return true;
}

}  // namespace

void read_logs(const std::string& dir, const std::string& base_name, const ReadRequest& request,
               RecordSink& sink, std::shared_ptr<LogWatch> watch) {
  // Subscribed before the history is read, so nothing written meanwhile is missed.
  std::unique_ptr<LogWatch::Subscription> subscription;
  if (request.follow && watch) subscription = watch->subscribe();
  ContainerReader reader(dir, base_name, request, sink);
  if (!reader.read_history() || !subscription) return;
  reader.follow(*watch, *subscription);
}

}  // namespace logguard
