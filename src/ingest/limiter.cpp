#include "logguard/ingest/limiter.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "logguard/base/size_parse.h"
#include "logguard/base/time_format.h"

namespace logguard {

Limiter::Limiter(LimitOptions options, NodeGate* node) : options_(std::move(options)), node_(node) {
  if (options_.bytes_per_sec > 0) bytes_.emplace(options_.bytes_per_sec, options_.burst_bytes);
  if (options_.lines_per_sec > 0) lines_.emplace(options_.lines_per_sec, options_.burst_lines);
  streams_.reserve(2);
}


size_t Limiter::cost_of(const Chunk& chunk) {
  return chunk.record ? json_record_size(*chunk.record) + chunk.encoded_bytes : chunk.encoded_bytes;
}

unsigned Limiter::bit_of(NodeGate::Limit limit) {
  switch (limit) {
    case NodeGate::Limit::kRate:
      return kByNodeRate;
    case NodeGate::Limit::kDisk:
      return kByNodeDisk;
    case NodeGate::Limit::kFree:
      return kByNodeFree;
    case NodeGate::Limit::kNone:
      break;
  }
  return 0;
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
    if (sizes_records()) {
      const size_t cost = cost_of(chunk);
      if (bytes_) bytes_->charge(cost);
      if (node_) node_->charge(mono_now, cost);
    }
    admit(s, chunk, false);
    return {Verdict::kAdmit};
  }
  drop(s, chunk, false, s.line_limits, mono_now, wall_now);
  return {Verdict::kDrop};
}

int64_t Limiter::bucket_time(const Chunk& chunk, int64_t mono_now) const {
  if (chunk.logged_mono == 0 || options_.on_limit == OnLimit::kBlock) return mono_now;
  return std::min(chunk.logged_mono, mono_now);
}

Limiter::Decision Limiter::decide_line(Stream& s, const Chunk& chunk, int64_t mono_now,
                                       int64_t wall_now) {
  unsigned limits = 0;
  const int64_t logged = bucket_time(chunk, mono_now);
  if (bytes_ && bytes_->dry(logged)) limits |= kByByteRate;
  if (lines_ && lines_->dry(logged)) limits |= kByLineRate;
  int64_t node_wait = 0;
  size_t cost = 0;
  if (limits == 0 && sizes_records()) {
    cost = cost_of(chunk);
    if (node_) {
      NodeGate::Verdict v = node_->admit(mono_now, cost);
      limits |= bit_of(v.limit);
      node_wait = v.wait_nanos;
    }
  }
  if (limits == 0) {
    if (bytes_) bytes_->charge(cost);
    if (lines_) lines_->charge(1);
    admit(s, chunk, true);
    return {Verdict::kAdmit};
  }
  if (options_.on_limit == OnLimit::kBlock) {
    // The buckets refill independently, so after the longer wait all hold tokens.
    int64_t wait = std::max<int64_t>(1, node_wait);
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
  const size_t cause = std::min<size_t>(std::countr_zero(limits), kDropCauses - 1);
  totals_.lines_dropped_by[cause] += new_line ? 1 : 0;
  totals_.bytes_dropped_by[cause] += chunk.raw_bytes;
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

void Limiter::count_dropped_before_restart(const Chunk& chunk, int64_t mono_now,
                                           int64_t wall_now) {
  Stream& s = stream(chunk.stream);
  const bool new_line = chunk.starts_line || !s.in_line;
  drop(s, chunk, new_line, new_line ? kByRestart : s.line_limits | kByRestart, mono_now,
       wall_now);
}

void Limiter::count_admitted_before_restart(const Chunk& chunk) {
  Stream& s = stream(chunk.stream);
  admit(s, chunk, chunk.starts_line || !s.in_line);
}

void Limiter::count_lost(std::string_view name, uint64_t lines, uint64_t raw_bytes,
                         int64_t mono_now, int64_t wall_now) {
  Stream& s = stream(name);
  totals_.lines_admitted -= std::min(totals_.lines_admitted, lines);
  totals_.lines_dropped += lines;
  totals_.bytes_admitted -= std::min(totals_.bytes_admitted, raw_bytes);
  totals_.bytes_dropped += raw_bytes;
  totals_.lines_dropped_by[kCauseWriteError] += lines;
  totals_.bytes_dropped_by[kCauseWriteError] += raw_bytes;
  if (!options_.drop_notice) return;
  if (!s.pending) {
    s.pending = true;
    s.first_drop_mono = mono_now;
    s.first_drop_wall = wall_now;
  }
  s.pending_lines += lines;
  s.pending_bytes += raw_bytes;
  s.pending_limits |= kByWriteError;
  s.last_drop_mono = mono_now;
  s.last_drop_wall = wall_now;
}

void Limiter::requeue(const std::vector<PendingDrops>& pending, int64_t mono_now) {
  for (const PendingDrops& p : pending) {
    Stream& s = stream(p.stream);
    if (!s.pending) {
      s.first_drop_wall = p.first_wall;
      s.first_drop_mono = mono_now;
    }
    s.pending = true;
    s.pending_lines += p.lines;
    s.pending_bytes += p.bytes;
    s.pending_limits |= p.limits;
    s.first_drop_wall = std::min(s.first_drop_wall, p.first_wall);
    s.last_drop_wall = std::max(s.last_drop_wall, p.last_wall);
    s.last_drop_mono = mono_now;
  }
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

bool Limiter::has_pending() const {
  return std::any_of(streams_.begin(), streams_.end(), [](const Stream& s) { return s.pending; });
}

void Limiter::forget_pending(std::string_view name) {
  for (Stream& s : streams_) {
    if (s.name != name) continue;
    s.pending = false;
    s.pending_lines = s.pending_bytes = 0;
    s.pending_limits = 0;
  }
}

Limiter::Snapshot Limiter::snapshot(int64_t mono_now) const {
  Snapshot snap;
  // As of now (the saved wall time), without refilling (that would change the state).
  if (bytes_) snap.byte_tokens = bytes_->tokens_at(mono_now);
  if (lines_) snap.line_tokens = lines_->tokens_at(mono_now);
  for (const Stream& s : streams_) {
    if (!s.pending) continue;
    snap.pending.push_back({s.name, s.pending_lines, s.pending_bytes, s.pending_limits,
                            s.first_drop_wall, s.last_drop_wall});
  }
  return snap;
}

void Limiter::restore(const Snapshot& snap, int64_t mono_now, int64_t elapsed_nanos) {
  // The buckets were last seen elapsed_nanos ago: start them then, at the
  // saved tokens, and let them refill up to now.
  const int64_t then = mono_now - std::max<int64_t>(elapsed_nanos, 0);
  auto set = [&](std::optional<TokenBucket>& bucket, double tokens) {
    if (!bucket) return;
    bucket->has_tokens(then);  // starts the bucket's clock, full
    const double excess = bucket->tokens() - tokens;
    if (excess > 0) bucket->charge(static_cast<uint64_t>(excess));
    bucket->has_tokens(mono_now);
  };
  set(bytes_, snap.byte_tokens);
  set(lines_, snap.line_tokens);
  for (const PendingDrops& p : snap.pending) {
    Stream& s = stream(p.stream);
    s.pending = true;
    s.pending_lines += p.lines;
    s.pending_bytes += p.bytes;
    s.pending_limits |= p.limits;
    s.first_drop_wall = p.first_wall;
    s.last_drop_wall = std::max(s.last_drop_wall, p.last_wall);
    // Due at once: the counts span a restart, say so without waiting.
    s.first_drop_mono = mono_now - kReminderNanos;
    s.last_drop_mono = mono_now - kQuietNanos;
  }
}

Notice Limiter::make_notice(const Stream& s) const {
  std::string limit_keys, limit_text;
  auto add = [&](std::string_view key, const std::string& text) {
    limit_keys += (limit_keys.empty() ? "" : ",") + std::string(key);
    if (!text.empty()) limit_text += (limit_text.empty() ? "" : ", ") + text;
  };
  if (s.pending_limits & kByByteRate) add("rate", options_.describe_rate());
  if (s.pending_limits & kByLineRate) add("line-rate", options_.describe_line_rate());
  if (s.pending_limits & kByNodeRate) {
    add("node-rate", node_ ? node_->describe(NodeGate::Limit::kRate) : "");
  }
  if (s.pending_limits & kByNodeDisk) {
    add("node-disk", node_ ? node_->describe(NodeGate::Limit::kDisk) : "");
  }
  if (s.pending_limits & kByNodeFree) {
    add("node-free", node_ ? node_->describe(NodeGate::Limit::kFree) : "");
  }
  if (s.pending_limits & kByWriteError) {
    add("write-error", "the log disk refused to take them");
  }
  if (s.pending_limits & kByRestart) {
    add("restart", "some of these were dropped before the plugin restarted and counted again");
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
