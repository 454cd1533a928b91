#include "logguard/read/log_reader.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "logguard/format/json_record_parser.h"
#include "logguard/read/line_reader.h"
#include "logguard/read/log_seek.h"
#include "logguard/read/rotation_walker.h"
#include "logguard/base/unique_fd.h"

namespace logguard {
namespace {

// ---------------------------------------------------------------------------
// Delivering records.

// Applies since/until to records and hands them to the sink.
class Delivery {
 public:
  Delivery(const ReadRequest& request, RecordSink& sink, ReadReporter& reporter)
      : request_(request), sink_(sink), reporter_(reporter) {}

  // Offers one line; false once reading must stop (until passed, client gone).
  bool offer(std::string_view line, const std::string& path, uint64_t offset) {
    auto record = parse_json_record(line);
    if (!record) {
      reporter_.report(ReadProblem::kCorruptLine, path, offset, {});
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

  const ReadRequest& request_;
  RecordSink& sink_;
  ReadReporter& reporter_;
  bool done_ = false;
  std::optional<int64_t> last_seen_;
};

// Offers the reader's complete lines, passing over the first `skip`; false
// once delivery stops.
bool deliver_lines(LineReader& reader, Delivery& delivery, uint64_t skip = 0) {
  while (auto line = reader.next()) {
    if (reader.lines() <= skip) continue;
    if (!delivery.offer(*line, reader.path(), reader.line_offset())) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The reader of one container's log.

// A file of the history and what to read of it.
struct HistoryFile {
  OpenedLogFile file;
  uint64_t end = 0;         // plain: the size when opened (the current file's snapshot)
  bool include = true;      // set by the tail plan
  uint64_t start = 0;       // plain: first byte
  uint64_t skip_lines = 0;  // compressed: leading lines to pass over
};

HistoryFile history_file(OpenedLogFile file) {
  uint64_t end = file.compressed() ? 0 : file.file->size();
  return HistoryFile{std::move(file), end};
}

class ContainerReader {
 public:
  ContainerReader(FileSystem& fs, const std::string& dir, const std::string& base,
                  const ReadRequest& request, RecordSink& sink, ReadReporter& reporter)
      : walker_(fs, dir, base), request_(request), sink_(sink), reporter_(reporter),
        delivery_(request, sink, reporter) {}

  // Delivers the history as of now; false if reading is over (until passed,
  // client gone).
  bool read_history();
  // Delivers what is written from now on until the watch closes.
  void follow(LogWatch& watch, LogWatch::Subscription& subscription);

 private:
  // The file followed, read incrementally; kept from the history into follow.
  struct Current {
    OpenedLogFile file;
    RangeSource* source;  // owned by reader
    LineReader reader;
  };

  std::vector<HistoryFile> open_history();
  void plan_tail(std::vector<HistoryFile>& files, uint64_t want);
  uint64_t current_start(HistoryFile& file);
  uint64_t since_start(ReadableFile& file, const std::string& path, uint64_t begin, uint64_t end);
  bool read_rotated(HistoryFile& file);
  bool read_compressed(HistoryFile& file);
  bool read_plain(HistoryFile& file);
  void start_current(OpenedLogFile file, uint64_t offset, uint64_t limit);
  bool drain_current();
  void report_truncated(const LineReader& reader);
  bool catch_up();
  bool read_rotated_before(OpenedLogFile& next);
  bool wait(LogWatch::Subscription& subscription);

  RotationWalker walker_;
  const ReadRequest& request_;
  RecordSink& sink_;
  ReadReporter& reporter_;
  Delivery delivery_;
  std::unique_ptr<Current> current_;
  // Without a current file when the history was read: its newest rotated
  // file, which following starts after.
  std::optional<OpenedLogFile> newest_read_;
};

// Every file of the log, oldest first, the current one (if any) last. The
// current file is opened first: the rotated files are those before it,
// whatever rotations run meanwhile.
std::vector<HistoryFile> ContainerReader::open_history() {
  std::vector<HistoryFile> files;
  std::optional<HistoryFile> current;
  if (auto file = walker_.open_current()) current = history_file(std::move(*file));
  auto rotated = walker_.rotated_between(nullptr, current ? &current->file : nullptr, {});
  for (auto& file : rotated.files) files.push_back(history_file(std::move(file)));
  if (current) files.push_back(std::move(*current));
  return files;
}

bool ContainerReader::read_history() {
  std::vector<HistoryFile> files = open_history();
  if (request_.tail > 0) plan_tail(files, static_cast<uint64_t>(request_.tail));
  for (auto& file : files) {
    if (file.file.index == 0) {
      uint64_t start = current_start(file);
      start_current(std::move(file.file), start, file.end);  // following lifts the limit
      if (!drain_current()) return false;
      continue;
    }
    if (request_.tail != 0 && file.include && !read_rotated(file)) return false;
    if (&file == &files.back()) {
      newest_read_ = std::move(file.file);  // no current file: following starts after this one
    } else {
      file.file.file.reset();  // closed once read
    }
  }
  return true;
}

// Marks which files (and where in them) hold the last `want` records,
// walking newest to oldest so older files are touched only if needed.
void ContainerReader::plan_tail(std::vector<HistoryFile>& files, uint64_t want) {
  for (auto& file : files) file.include = false;
  for (size_t i = files.size(); i-- > 0 && want > 0;) {
    HistoryFile& file = files[i];
    OpenedLogFile& opened = file.file;
    // Everything from a compressed file before since precedes since (times
    // ascend across files): since would drop it, so it is not counted.
    if (opened.compressed() && request_.since_nanos != 0 && opened.header_last_time &&
        *opened.header_last_time < request_.since_nanos) {
      break;
    }
    try {
      if (opened.compressed()) {
        uint64_t lines = count_lines(*open_byte_source(*opened.file, opened.codec));
        file.skip_lines = lines - std::min(lines, want);
        want -= lines - file.skip_lines;
      } else {
        TailStart tail = find_tail_start(*opened.file, 0, file.end, want);
        file.start = tail.offset;
        want -= tail.lines;
      }
      file.include = true;
    } catch (const std::exception& e) {
      reporter_.report(ReadProblem::kUnreadableFile, opened.path, 0, e.what());
    }
  }
}

// Where the history starts in the current file.
uint64_t ContainerReader::current_start(HistoryFile& file) {
  ReadableFile& readable = *file.file.file;
  try {
    // Tail 0: nothing now; following starts after the last complete line.
    if (request_.tail == 0) return find_tail_start(readable, 0, file.end, 0).offset;
    if (request_.since_nanos == 0) return file.start;
    return since_start(readable, file.file.path, file.start, file.end);
  } catch (const std::exception& e) {
    reporter_.report(ReadProblem::kUnreadableFile, file.file.path, 0, e.what());
    return file.end;
  }
}

uint64_t ContainerReader::since_start(ReadableFile& file, const std::string& path, uint64_t begin,
                                      uint64_t end) {
  SinceStart start = seek_since(file, begin, end, request_.since_nanos);
  if (!start.ascending) reporter_.report(ReadProblem::kTimesNotAscending, path, begin, {});
  return start.offset;
}

bool ContainerReader::read_rotated(HistoryFile& file) {
  try {
    return file.file.compressed() ? read_compressed(file) : read_plain(file);
  } catch (const std::exception& e) {
    reporter_.report(ReadProblem::kUnreadableFile, file.file.path, 0, e.what());
    return !delivery_.done();
  }
}

bool ContainerReader::read_compressed(HistoryFile& file) {
  OpenedLogFile& opened = file.file;
  if (request_.since_nanos != 0 && opened.header_last_time &&
      *opened.header_last_time < request_.since_nanos) {
    return true;
  }
  LineReader reader(open_byte_source(*opened.file, opened.codec), 0, opened.path, &reporter_);
  if (!deliver_lines(reader, delivery_, file.skip_lines)) return false;
  report_truncated(reader);
  return true;
}

bool ContainerReader::read_plain(HistoryFile& file) {
  OpenedLogFile& opened = file.file;
  uint64_t start = request_.since_nanos != 0
                       ? since_start(*opened.file, opened.path, file.start, file.end)
                       : file.start;
  LineReader reader(std::make_unique<RangeSource>(*opened.file, start, file.end), start,
                    opened.path, &reporter_);
  if (!deliver_lines(reader, delivery_)) return false;
  report_truncated(reader);
  return true;
}

void ContainerReader::report_truncated(const LineReader& reader) {
  if (reader.has_partial()) {
    reporter_.report(ReadProblem::kTruncatedLine, reader.path(), reader.offset(), {});
  }
}

void ContainerReader::start_current(OpenedLogFile file, uint64_t offset, uint64_t limit) {
  // Replaces (and so closes) the file followed so far.
  current_.reset();
  auto source = std::make_unique<RangeSource>(*file.file, offset, limit);
  RangeSource* raw = source.get();
  std::string path = file.path;
  current_.reset(new Current{std::move(file), raw,
                             LineReader(std::move(source), offset, path, &reporter_)});
}

bool ContainerReader::drain_current() {
  try {
    return deliver_lines(current_->reader, delivery_);
  } catch (const std::exception& e) {
    reporter_.report(ReadProblem::kUnreadableFile, current_->file.path, 0, e.what());
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
    auto now = walker_.current_id();
    // Missing: mid-rotation; the writer's next notify brings us back.
    if (!now || (current_ && *now == current_->file.id)) return true;
    if (current_) {
      // Renamed away: finish what was written to it before the rename.
      if (!drain_current()) return false;
      report_truncated(current_->reader);
    }
    auto next = walker_.open_current();
    if (!next) return true;
    if (!read_rotated_before(*next)) return false;
    start_current(std::move(*next), 0, RangeSource::kNoLimit);
    newest_read_.reset();
  }
}

// Between the file read last and the new current file `next`, rotations may
// have run: delivers the files they produced, oldest first, closing each.
bool ContainerReader::read_rotated_before(OpenedLogFile& next) {
  OpenedLogFile* old = current_ ? &current_->file : newest_read_ ? &*newest_read_ : nullptr;
  auto found = walker_.rotated_between(old, &next, delivery_.last_seen());
  if (found.missed) reporter_.report(ReadProblem::kMissedRotations, walker_.current_path(), 0, {});
  for (auto& file : found.files) {
    HistoryFile rotated = history_file(std::move(file));
    if (!read_rotated(rotated)) return false;
    rotated.file.file.reset();
  }
  return true;
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

void read_logs(FileSystem& fs, const std::string& dir, const std::string& base_name,
               const ReadRequest& request, RecordSink& sink, std::shared_ptr<LogWatch> watch,
               ReadReporter* reporter) {
  LoggingReadReporter logging;
  if (!reporter) reporter = &logging;
  // Subscribed before the history is read, so nothing written meanwhile is missed.
  std::unique_ptr<LogWatch::Subscription> subscription;
  if (request.follow && watch) subscription = watch->subscribe();
  ContainerReader reader(fs, dir, base_name, request, sink, *reporter);
  if (!reader.read_history() || !subscription) return;
  reader.follow(*watch, *subscription);
}

}  // namespace logguard
