#include "logguard/limiter.h"

#include <algorithm>
#include <utility>

#include "logguard/size_parse.h"
#include "logguard/time_format.h"

namespace logguard {

Limiter::Limiter(LimitOptions options) : options_(std::move(options)) {
  if (options_.bytes_per_sec > 0) bytes_.emplace(options_.bytes_per_sec, options_.burst_bytes);
  if (options_.lines_per_sec > 0) lines_.emplace(options_.lines_per_sec, options_.burst_lines);
  streams_.reserve(2);
}

Limiter::Stream& Limiter::stream(std::string_view name) {
  for (Stream& s : streams_) {
    if (s.name == name) return s;
  }
  streams_.push_back(Stream{std::string(name)});
  return streams_.back();
}

Limiter::Decision Limiter::offer(const Chunk& chunk, int64_t mono_now, int64_t wall_now) {
  Stream& s = stream(chunk.stream);
  if (chunk.starts_line || !s.in_line) return decide_line(s, chunk, mono_now, wall_now);
  if (s.line_admitted) {
    if (bytes_) bytes_->charge(chunk.encoded_bytes);
    admit(s, chunk, false);
    return {Verdict::kAdmit};
  }
  drop(s, chunk, false, s.line_limits, mono_now, wall_now);
  return {Verdict::kDrop};
}

Limiter::Decision Limiter::decide_line(Stream& s, const Chunk& chunk, int64_t mono_now,
                                       int64_t wall_now) {
  unsigned limits = 0;
  if (bytes_ && !bytes_->has_tokens(mono_now)) limits |= kByByteRate;
  if (lines_ && !lines_->has_tokens(mono_now)) limits |= kByLineRate;
  if (limits == 0) {
    if (bytes_) bytes_->charge(chunk.encoded_bytes);
    if (lines_) lines_->charge(1);
    admit(s, chunk, true);
    return {Verdict::kAdmit};
  }
  if (options_.on_limit == OnLimit::kBlock) {
    // The buckets refill independently, so after the longer wait both hold tokens.
    int64_t wait = 1;
    if (bytes_) wait = std::max(wait, bytes_->nanos_until_positive(mono_now));
    if (lines_) wait = std::max(wait, lines_->nanos_until_positive(mono_now));
    return {Verdict::kWait, wait};
  }
  drop(s, chunk, true, limits, mono_now, wall_now);
  return {Verdict::kDrop};
}

void Limiter::admit(Stream& s, const Chunk& chunk, bool new_line) {
  if (new_line) {
    s.in_line = true;
    s.line_admitted = true;
    s.line_limits = 0;
    ++totals_.lines_received;
    ++totals_.lines_admitted;
  }
  totals_.bytes_received += chunk.raw_bytes;
  totals_.bytes_admitted += chunk.raw_bytes;
  if (chunk.ends_line) s.in_line = false;
}

void Limiter::drop(Stream& s, const Chunk& chunk, bool new_line, unsigned limits, int64_t mono_now,
                   int64_t wall_now) {
  if (new_line) {
    s.in_line = true;
    s.line_admitted = false;
    s.line_limits = limits;
    ++totals_.lines_received;
    ++totals_.lines_dropped;
  }
  totals_.bytes_received += chunk.raw_bytes;
  totals_.bytes_dropped += chunk.raw_bytes;
  if (chunk.ends_line) s.in_line = false;

  if (!options_.drop_notice) return;
  if (!s.pending) {
    s.pending = true;
    s.first_drop_mono = mono_now;
    s.first_drop_wall = wall_now;
  }
  s.pending_lines += new_line ? 1 : 0;
  s.pending_bytes += chunk.raw_bytes;
  s.pending_limits |= limits;
  s.last_drop_mono = mono_now;
  s.last_drop_wall = wall_now;
}

bool Limiter::notice_due(const Stream& s, int64_t mono_now) const {
  return mono_now - s.last_drop_mono >= kQuietNanos ||
         mono_now - s.first_drop_mono >= kReminderNanos;
}

void Limiter::collect_notices(int64_t mono_now, int64_t wall_now, bool stream_ending,
                              std::vector<Notice>& out) {
  for (Stream& s : streams_) {
    if (!s.pending || !(stream_ending || notice_due(s, mono_now))) continue;
    out.push_back(make_notice(s));
    s.pending = false;
    s.pending_lines = 0;
    s.pending_bytes = 0;
    s.pending_limits = 0;
  }
}

std::optional<int64_t> Limiter::next_notice_due() const {
  std::optional<int64_t> due;
  for (const Stream& s : streams_) {
    if (!s.pending) continue;
    int64_t t = std::min(s.last_drop_mono + kQuietNanos, s.first_drop_mono + kReminderNanos);
    if (!due || t < *due) due = t;
  }
  return due;
}

Notice Limiter::make_notice(const Stream& s) const {
  std::string limit_keys, limit_text;
  if (s.pending_limits & kByByteRate) {
    limit_keys = "rate";
    limit_text = options_.describe_rate();
  }
  if (s.pending_limits & kByLineRate) {
    limit_keys += limit_keys.empty() ? "line-rate" : ",line-rate";
    limit_text += (limit_text.empty() ? "" : ", ") + options_.describe_line_rate();
  }
  std::string since = format_rfc3339nano(s.first_drop_wall);

  Notice n;
  n.stream = s.name;
  n.text = "logguard: dropped " + std::to_string(s.pending_lines) +
           (s.pending_lines == 1 ? " line (" : " lines (") + format_size(s.pending_bytes, " ") +
           ") from " + s.name + " between " + since + " and " +
           format_rfc3339nano(s.last_drop_wall) + "; limit " + limit_text;
  n.attrs = {{"logguard.dropped_bytes", std::to_string(s.pending_bytes)},
             {"logguard.dropped_lines", std::to_string(s.pending_lines)},
             {"logguard.limit", limit_keys},
             {"logguard.since", std::move(since)}};
  return n;
}

}  // namespace logguard
