#include "logguard/ingest/stream_pump.h"

#include <libdeflate.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "logguard/base/time_format.h"

namespace logguard {
namespace {

constexpr std::string_view kDroppedLinesAttr = "logguard.dropped_lines";
constexpr std::string_view kSinceAttr = "logguard.since";

// The CRC-32 of gzip (as zlib's crc32), computed by libdeflate: a flood
// that is mostly dropped saves every batch's, so it is on the drop path.
uint32_t crc_of(std::string_view data) {
  return libdeflate_crc32(0, data.data(), data.size());
}

std::string_view attr(const Record& record, std::string_view key) {
  for (const auto& [k, v] : record.attrs) {
    if (k == key) return v;
  }
  return {};
}

bool is_notice(const Record& record) { return !attr(record, kDroppedLinesAttr).empty(); }

// A LogEntry's place in a split line (docs/PROTOCOL.md §4.3).
bool starts_line(const LogEntryView& e) { return !e.partial || e.ordinal <= 1; }
bool ends_line(const LogEntryView& e) { return !e.partial || e.last; }

// Whether `record` is what writing frame `e` produced.
bool written_from(const Record& record, const LogEntryView& e) {
  const bool newline = ends_line(e);
  return e.time_nano != 0 && record.time_nanos == e.time_nano && record.stream == e.source &&
         record.log.size() == e.line.size() + (newline ? 1 : 0) &&
         std::string_view(record.log).substr(0, e.line.size()) == e.line &&
         (!newline || record.log.back() == '\n');
}

// The notice's attrs with the container's added (the notice's own win).
Attrs merged_attrs(Attrs own, const Attrs* container) {
  if (container == nullptr) return own;
  for (const auto& kv : *container) {
    bool taken = std::any_of(own.begin(), own.end(),
                             [&](const auto& o) { return o.first == kv.first; });
    if (!taken) own.push_back(kv);
  }
  std::sort(own.begin(), own.end());
  return own;
}

}  // namespace

StreamPump::StreamPump(Parts parts) : parts_(std::move(parts)) {
  if (parts_.attrs != nullptr && parts_.attrs->empty()) parts_.attrs = nullptr;
}

// The buffer grows to what the stream holds (a burst: up to the pipe's
// capacity) and is given back by release_memory() once the burst is over.
// A quiet stream's turn asks the stream how much it holds only when its
// buffer is new or came back full: a call less per turn. The buffer grows
// with room to spare (half again what the stream holds), or a stream that
// logs the same bytes every turn would fill it exactly, and ask every time.
size_t StreamPump::peek() {
  const size_t capacity = parts_.stream->capacity();
  LogStream::Peek p{0, false};
  if (!peeked_.empty()) p = parts_.stream->peek(peeked_.data(), peeked_.size());
  if (peeked_.empty() || (p.bytes == peeked_.size() && p.bytes < capacity)) {
    const size_t held = parts_.stream->available();
    if (peeked_.size() <= held) {
      peeked_.resize(std::clamp<size_t>(held + held / 2, 1, capacity));
      p = parts_.stream->peek(peeked_.data(), peeked_.size());
    }
  }
  eof_ = p.eof;
  return p.bytes;
}

void StreamPump::consume(size_t n) {
  if (n == 0) return;
  parts_.stream->consume(n, peeked_);
  consumed_ += n;
}

void StreamPump::release_memory() {
  std::string().swap(peeked_);
  std::string().swap(staged_);
  staged_records_ = {};
}

// The engine stamps each line when it reads it; the wall clock maps that to
// the monotonic one. A stamp "in the future" counts as now, one from before
// the monotonic clock began as its beginning (1: 0 means "unknown").
int64_t StreamPump::logged_mono(int64_t time) const {
  if (time >= now_.wall) return now_.mono;
  const __int128 lag = static_cast<__int128>(now_.wall) - time;
  return lag >= now_.mono ? 1 : now_.mono - static_cast<int64_t>(lag);
}

StreamPump::Outcome StreamPump::offer(std::string_view source, std::string_view line, int64_t time,
                                      bool starts, bool ends, int64_t* wait) {
  if (time == 0) time = now_.wall;
  const RecordView record{line, source, time, parts_.attrs, ends};
  Chunk chunk;
  chunk.stream = source;
  chunk.record = &record;
  chunk.raw_bytes = line.size() + (ends ? 1 : 0);
  chunk.starts_line = starts;
  chunk.ends_line = ends;
  chunk.logged_mono = logged_mono(time);
  const Limiter::Decision d = parts_.limiter->offer(chunk, now_.mono, now_.wall);
  switch (d.verdict) {
    case Limiter::Verdict::kAdmit:
      stage(source, line, time, starts, ends, parts_.attrs);
      return Outcome::kWritten;
    case Limiter::Verdict::kDrop:
      dirty_ = true;
      return Outcome::kDropped;
    case Limiter::Verdict::kWait:
      *wait = d.wait_nanos;
      return Outcome::kWait;
  }
  return Outcome::kDropped;
}

void StreamPump::stage(std::string_view source, std::string_view line, int64_t time, bool starts,
                       bool ends, const Attrs* attrs) {
  if (!append_json_record(staged_, RecordView{line, source, time, attrs, ends})) {
    spdlog::warn("{}: dropped a record whose time {} cannot be written", parts_.name, time);
    return;
  }
  staged_records_.push_back(
      {staged_.size(), time, std::string(source), line.size() + (ends ? 1 : 0), starts});
}

// Writes what is staged. Records the disk refused are counted (and
// announced once writes work again); records the log file took but could
// not flush stay buffered there and are retried.
bool StreamPump::write_staged(bool count_losses) {
  if (staged_records_.empty()) {
    parts_.limiter->landed();
    return true;
  }
  size_t taken = 0;
  size_t lines_taken = 0;
  bool ok = true;
  try {
    parts_.log->write([&](LogFile& file) {
      size_t begin = 0;
      for (const auto& r : staged_records_) {
        file.append(std::string_view(staged_).substr(begin, r.end - begin), r.time_nanos);
        begin = r.end;
        ++taken;
        lines_taken += r.starts_line ? 1 : 0;
      }
    });
  } catch (const std::exception& e) {
    ok = false;
    if (ContainerMetrics* metrics = parts_.log->metrics()) metrics->write_errors.Increment();
    const size_t lost = staged_records_.size() - taken;
    lost_records_ += lost;
    const int64_t mono = parts_.clock->monotonic_nanos();
    if (count_losses) {
      for (size_t i = taken; i < staged_records_.size(); ++i) {
        const Staged& r = staged_records_[i];
        parts_.limiter->count_lost(r.stream, r.starts_line ? 1 : 0, r.raw_bytes, mono,
                                   parts_.clock->wall_nanos());
      }
      dirty_ = true;
    }
    if (last_loss_report_ == 0 || mono - last_loss_report_ >= 10'000'000'000) {
      spdlog::error("{}: writing to {} failed, {} records lost so far: {}", parts_.name,
                    parts_.log->dir(), lost_records_, e.what());
      last_loss_report_ = mono;
    }
  }
  // Records (not notices) a failed flush left buffered in the file count
  // as written: the file writes them at the next try.
  ContainerMetrics* metrics = parts_.log->metrics();
  if (metrics != nullptr && count_losses && lines_taken > 0) {
    metrics->written_lines.Increment(static_cast<double>(lines_taken));
  }
  staged_.clear();
  staged_records_.clear();
  parts_.limiter->landed();
  return ok;
}

void StreamPump::save(uint64_t batch_length, uint32_t batch_crc) {
  if (parts_.progress == nullptr) return;
  SessionProgress p;
  p.saved_wall_nanos = parts_.clock->wall_nanos();
  p.limiter = parts_.limiter->snapshot(parts_.clock->monotonic_nanos());
  p.batch_length = batch_length;
  p.batch_crc = batch_crc;
  try {
    parts_.progress->save(p);
    dirty_ = false;
  } catch (const std::exception& e) {
    spdlog::warn("{}: saving the session's progress failed: {}", parts_.name, e.what());
  }
}

void StreamPump::save_progress() {
  if (dirty_ || parts_.limiter->options().bytes_per_sec > 0 ||
      parts_.limiter->options().lines_per_sec > 0) {
    save(0, 0);
  }
}

StreamPump::Turn StreamPump::turn() {
  Turn turn = take_turn();
  publish_metrics();
  return turn;
}

void StreamPump::publish_metrics() {
  if (ContainerMetrics* metrics = parts_.log->metrics()) {
    metrics->publish(parts_.limiter->totals(), published_);
  }
}

StreamPump::Turn StreamPump::take_turn() {
  // One reading of the clocks for the whole batch: the frames of one turn
  // arrived within the gather (read_pacer.h); the limiter decides them as of
  // now, and refills the container's buckets up to each frame's stamp.
  now_ = {parts_.clock->monotonic_nanos(), parts_.clock->wall_nanos()};
  const size_t n = peek();
  if (n == 0 && eof_) {
    write_staged(true);
    return {Turn::kEof, 0, 0};
  }
  // Frames are decoded where the peek put them; the peek starts at the first
  // unconsumed byte, so an unfinished frame is simply peeked again next turn.
  Turn turn;
  bool dropped = false;
  const uint64_t skipped_before = scanner_.skipped_frames();
  const std::string_view bytes(peeked_.data(), n);
  size_t pos = 0;
  size_t end = 0;  // consumed by this turn: through the last frame decided or skipped
  size_t begin = 0;
  LogEntryView e;
  for (;;) {
    if (scanner_.next(bytes, &pos, &e, &begin) != FrameScanner::Status::kFrame) {
      end = pos;
      break;
    }
    int64_t wait = 0;
    Outcome o = offer(e.source, e.line, e.time_nano, starts_line(e), ends_line(e), &wait);
    if (o == Outcome::kWait) {  // block mode: offered again, from the stream, after the wait
      end = begin;
      turn = {Turn::kWait, wait, 0};
      break;
    }
    dropped |= o == Outcome::kDropped;
  }
  if (scanner_.skipped_frames() > skipped_before) {
    spdlog::warn("{}: skipped {} unusable frames of the log stream ({} so far): {}", parts_.name,
                 scanner_.skipped_frames() - skipped_before, scanner_.skipped_frames(),
                 scanner_.last_skip_reason());
  }
  const bool written = write_staged(true);
  // Counted drops are saved before their bytes go, so a crash in between
  // neither loses nor doubles them (reattach() consumes a saved batch).
  if (dropped || !written) save(end, crc_of(std::string_view(peeked_).substr(0, end)));
  consume(end);
  turn.bytes = end;
  if (turn.kind != Turn::kWait) turn.kind = end > 0 ? Turn::kProgress : Turn::kIdle;
  if (turn.kind == Turn::kIdle && n > 0) {
    if (head_frame_unseen(n)) {
      // Passed from the next turn on, as an oversized frame is.
      const uint64_t length = scanner_.pass_unseen(std::string_view(peeked_.data(), n));
      spdlog::error("{}: skipped a frame of {} bytes: a peek of this stream shows at most {} "
                    "(the plugin's pipes are small: root's pipes on this node are over "
                    "fs.pipe-user-pages-soft); its line is lost",
                    parts_.name, length, n);
      return {Turn::kProgress, 0, 0};
    }
    if (parts_.stream->hung_up()) return end_inside_a_frame(n);
  }
  return turn;
}

// Whether the unfinished frame at the head of the stream (the first n bytes
// peeked) can never be seen whole: the stream held more bytes than a peek
// right after could show. Frames of the engine are at most 16 KiB and a
// stream shows 64 KiB or more, but a pipe made while root's pipes are over
// fs.pipe-user-pages-soft is 8 KiB (the plugin lacks CAP_SYS_RESOURCE), and
// tee(2) shows only as many of the stream's buffers as the pipe has slots.
// Waiting for such a frame would hold the container for good; taking the
// end of the peek for a writer that left mid-frame would lose the rest.
bool StreamPump::head_frame_unseen(size_t n) {
  if (n < 4) return false;
  const size_t held = parts_.stream->available();  // all there before the peek below
  return peek() < held;
}

// The writer is gone while the stream holds part of a frame. Unless it
// finished the frame after our peek (then the next turn takes it), the rest
// will never come.
StreamPump::Turn StreamPump::end_inside_a_frame(size_t n) {
  if (peek() != n) return {Turn::kIdle, 0, 0};
  spdlog::error("{}: log stream ended inside a frame; its {} bytes were lost", parts_.name, n);
  consume(n);
  return {Turn::kEof, 0, n};
}

void StreamPump::write_notices(bool ending) {
  const int64_t mono = parts_.clock->monotonic_nanos();
  const int64_t wall = parts_.clock->wall_nanos();
  const Limiter::Snapshot before = parts_.limiter->snapshot(mono);
  std::vector<Notice> notices;
  parts_.limiter->collect_notices(mono, wall, ending, notices);
  if (notices.empty()) return;
  for (Notice& n : notices) {
    Attrs attrs = merged_attrs(std::move(n.attrs), parts_.attrs);
    stage(n.stream, n.text, wall, true, true, &attrs);
  }
  if (!write_staged(false)) {
    // Announced later, when writes work again.
    std::vector<Limiter::PendingDrops> back;
    for (const auto& p : before.pending) {
      bool collected = std::any_of(notices.begin(), notices.end(),
                                   [&](const Notice& n) { return n.stream == p.stream; });
      if (collected) back.push_back(p);
    }
    parts_.limiter->requeue(back, mono);
  }
  dirty_ = true;
  save(0, 0);
}

void StreamPump::reattach(const std::vector<Record>& log_tail) {
  const int64_t mono = parts_.clock->monotonic_nanos();
  const int64_t wall = parts_.clock->wall_nanos();
  std::optional<SessionProgress> progress;
  if (parts_.progress != nullptr) progress = parts_.progress->load();
  size_t n = peek();
  if (progress) {
    parts_.limiter->restore(progress->limiter, mono, wall - progress->saved_wall_nanos);
    const uint64_t saved = progress->batch_length;
    if (saved > 0 && saved <= n &&
        crc_of(std::string_view(peeked_).substr(0, saved)) == progress->batch_crc) {
      consume(saved);  // decided and saved, then killed before consuming
      n = peek();
    }
    // Notices written, then killed before the save that forgot their drops.
    for (const auto& p : progress->limiter.pending) {
      const std::string since = format_rfc3339nano(p.first_wall);
      bool announced = std::any_of(log_tail.begin(), log_tail.end(), [&](const Record& r) {
        return r.stream == p.stream && attr(r, kSinceAttr) == since;
      });
      if (announced) parts_.limiter->forget_pending(p.stream);
    }
  }
  skip_written(log_tail, n, mono, wall);
  publish_metrics();
}

// Frames at the head of the stream that the log already holds were written
// by the dead process, then it was killed before consuming them.
void StreamPump::skip_written(const std::vector<Record>& log_tail, size_t n, int64_t mono,
                              int64_t wall) {
  auto last = std::find_if(log_tail.rbegin(), log_tail.rend(),
                           [](const Record& r) { return !is_notice(r); });
  if (last == log_tail.rend()) return;
  FrameScanner scan;
  struct Frame {
    LogEntryView entry;
    size_t end;
  };
  std::vector<Frame> frames;
  LogEntryView e;
  for (size_t pos = 0; scan.next(std::string_view(peeked_.data(), n), &pos, &e) ==
                       FrameScanner::Status::kFrame;) {
    frames.push_back({e, pos});
  }
  // The newest record names the last frame written; the records before it
  // match the earlier frames written, in order; the frames between them were
  // dropped.
  size_t j = frames.size();
  while (j > 0 && !written_from(*last, frames[j - 1].entry)) --j;
  if (j == 0) return;
  std::vector<bool> written(j, false);
  auto record = last;
  for (size_t i = j; i-- > 0;) {
    while (record != log_tail.rend() && is_notice(*record)) ++record;
    if (record != log_tail.rend() && written_from(*record, frames[i].entry)) {
      written[i] = true;
      ++record;
    }
  }
  size_t redone = 0;
  for (size_t i = 0; i < j; ++i) {
    const LogEntryView& f = frames[i].entry;
    Chunk chunk{f.source, 0, nullptr, f.line.size() + (ends_line(f) ? 1 : 0), starts_line(f),
                ends_line(f)};
    if (written[i]) {
      parts_.limiter->count_admitted_before_restart(chunk);
    } else {
      parts_.limiter->count_dropped_before_restart(chunk, mono, wall);
      ++redone;
    }
  }
  spdlog::info("{}: reattached; {} lines were already written, {} counted as dropped", parts_.name,
               j - redone, redone);
  dirty_ = true;
  const uint64_t length = frames[j - 1].end;
  save(length, crc_of(std::string_view(peeked_).substr(0, length)));
  consume(length);
}

}  // namespace logguard
