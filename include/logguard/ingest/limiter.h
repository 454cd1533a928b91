// Limiter: one container's budget. Decides for every chunk the engine sends
// whether it is written, dropped or must wait, counts what it drops, and
// composes the drop notices written into the container's own log. Pure: the
// session passes the times, so tests drive it with made-up clocks.
//
// Rules:
//  - Buckets (token_bucket.h): bytes (charged the chunk's json-file record
//    size) and lines (charged 1 per line). A line is admitted when every
//    bucket in force holds tokens and then the node gate (node_gate.h: the
//    node's write budget and disk guard) lets it through; an unlimited
//    container without a node gate admits everything.
//  - A line that Docker split into 16 KiB chunks is decided as a whole at its
//    first chunk, per stream (stdout and stderr lines may interleave); its
//    later chunks follow that decision, and admitted ones are charged even
//    if that puts the byte bucket into debt. A chunk continuing no open line
//    (the session started mid-line) is decided as a new line.
//  - on-limit=block: instead of dropping, offer() says how long to wait; the
//    caller sleeps and offers the same chunk again. This holds for the node's
//    limits too.
//  - Notices (only with drop_notice; counting always happens): a stream's
//    drops accumulate until a notice covers them. One is due when the stream
//    has had no drop for 1 s (the flood is over; a flood alternates admits
//    and drops so quickly that "the next admit" would mean a notice per
//    line), when its first uncovered drop is 10 s old (a reminder while the
//    flood lasts), and at stream end. Notices are not charged to buckets.
//  - Exactness: per stream, lines admitted + dropped lines of all notices =
//    lines received (lines = line starts), and the same for raw bytes.
//  - The drop path allocates nothing and formats nothing (a dropped line is
//    not even sized); text is made only when a notice is collected.
//  - Across a plugin restart the buckets' tokens and the drops not yet
//    announced are carried over (snapshot/restore), so a flood gets no fresh
//    burst from a crash and the counts stay exact.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/format/json_record.h"
#include "logguard/config/limit_counts.h"
#include "logguard/ingest/node_gate.h"
#include "logguard/config/options.h"
#include "logguard/base/token_bucket.h"

namespace logguard {

struct Chunk {
  std::string_view stream;   // "stdout" / "stderr"
  // Its json-file record size, what the buckets charge: encoded_bytes, or
  // if record is set, json_record_size(*record) + encoded_bytes, computed
  // only when needed (a dropped line is never sized).
  size_t encoded_bytes = 0;
  const RecordView* record = nullptr;
  size_t raw_bytes = 0;      // line bytes, +1 if it ends a line: what notices count
  bool starts_line = true;   // false for the 2nd and later chunks of a split line
  bool ends_line = true;     // false for all but the last chunk of a split line
  // When the engine read the chunk from the container (monotonic ns; 0 =
  // unknown). Reads are paced (read_pacer.h), so a batch is decided up to
  // ~0.4 s after its lines were logged; the container's buckets refill up to
  // this time, not the decision's, so a burst read late is judged at the rate
  // the container wrote it. In block mode, and for the node gate, the
  // decision's time counts: there the plugin's own pace is what is limited.
  int64_t logged_mono = 0;
};

// A record to write into the container's log, on `stream`, at collect time:
//   logguard: dropped 123456 lines (11.8 MB) from stdout between <t0> and
//   <t1>; limit rate=1MB/s burst=10MB
// with attrs (sorted) logguard.dropped_bytes, logguard.dropped_lines,
// logguard.limit (what dropped them, comma separated: rate, line-rate,
// node-rate, node-disk, node-free, write-error for records the disk refused,
// or restart for lines a crashed plugin had
// dropped and the restarted one counted again) and logguard.since
// (RFC3339Nano of the first drop covered).
struct Notice {
  std::string stream;
  std::string text;
  Attrs attrs;
};

class Limiter {
 public:
  // The causes and counts are plain data (limit_counts.h), shared with the
  // session store and the metrics.
  using enum DropCause;
  static const char* drop_cause_name(size_t cause) { return logguard::drop_cause_name(cause); }
  using PendingDrops = logguard::PendingDrops;
  using Snapshot = LimiterSnapshot;
  using Totals = LimitTotals;

  // node may be null (no node-wide limits); it must outlive the limiter.
  explicit Limiter(LimitOptions options, NodeGate* node = nullptr);

  enum class Verdict { kAdmit, kDrop, kWait };
  struct Decision {
    Verdict verdict;
    int64_t wait_nanos = 0;  // kWait only: sleep this long, then offer again
  };
  // mono_now: monotonic ns for the buckets; wall_now: Unix ns for notices.
  Decision offer(const Chunk& chunk, int64_t mono_now, int64_t wall_now);

  // Appends the notices due at mono_now, in stream order of first use;
  // stream_ending makes every pending one due.
  void collect_notices(int64_t mono_now, int64_t wall_now, bool stream_ending,
                       std::vector<Notice>& out);
  // When the earliest pending notice becomes due (monotonic ns), so the
  // session can wake for it when the container goes quiet; nullopt if none.
  std::optional<int64_t> next_notice_due() const;

  // Counts a line (or chunk) that a crashed predecessor had dropped and not
  // yet announced, found again in the stream after a restart.
  void count_dropped_before_restart(const Chunk& chunk, int64_t mono_now, int64_t wall_now);
  // Notes a chunk that a crashed predecessor had written (so a split line
  // goes on as admitted); charges nothing.
  void count_admitted_before_restart(const Chunk& chunk);
  // Counts admitted records the disk refused to take (a full or failing
  // disk), to be announced like drops ("write-error") once writes work.
  void count_lost(std::string_view stream, uint64_t lines, uint64_t raw_bytes, int64_t mono_now,
                  int64_t wall_now);
  // The records admitted so far are written (or lost); tells the node gate.
  void landed() {
    if (node_) node_->landed();
  }
  // Puts back drops whose notice could not be written.
  void requeue(const std::vector<PendingDrops>& pending, int64_t mono_now);

  // What a restart carries over: tokens and unannounced drops.
  Snapshot snapshot(int64_t mono_now) const;
  // Restores a snapshot taken `elapsed_nanos` ago (by the clock on the wall):
  // buckets refill for that long; carried drops become due for a notice at once.
  void restore(const Snapshot& snapshot, int64_t mono_now, int64_t elapsed_nanos);
  // Forgets the unannounced drops of a stream (a notice for them is already
  // in the log).
  void forget_pending(std::string_view stream);
  // Whether any drops await a notice.
  bool has_pending() const;

  Totals totals() const { return totals_; }
  const LimitOptions& options() const { return options_; }

  static constexpr int64_t kQuietNanos = 1'000'000'000;      // run ends after 1 s without drops
  static constexpr int64_t kReminderNanos = 10'000'000'000;  // notice at least this often

 private:
  // Bit i stands for DropCause i.
  enum LimitBits : unsigned {
    kByByteRate = 1,
    kByLineRate = 2,
    kByNodeRate = 4,
    kByNodeDisk = 8,
    kByNodeFree = 16,
    kByRestart = 32,
    kByWriteError = 64,
  };
  static_assert(kByByteRate == 1u << kCauseRate && kByNodeFree == 1u << kCauseNodeFree &&
                kByWriteError == 1u << kCauseWriteError);
  static unsigned bit_of(NodeGate::Limit limit);

  struct Stream {
    std::string name;
    bool in_line = false;        // a line started and has not ended
    bool line_admitted = false;  // the decision for that line
    unsigned line_limits = 0;    // LimitBits that dropped it
    // Drops not yet covered by a notice.
    uint64_t pending_lines = 0;
    uint64_t pending_bytes = 0;
    unsigned pending_limits = 0;  // LimitBits
    bool pending = false;
    int64_t first_drop_mono = 0, last_drop_mono = 0;
    int64_t first_drop_wall = 0, last_drop_wall = 0;
  };

  Stream& stream(std::string_view name);
  Decision decide_line(Stream& s, const Chunk& chunk, int64_t mono_now, int64_t wall_now);
  // The time the container's buckets refill up to for this chunk.
  int64_t bucket_time(const Chunk& chunk, int64_t mono_now) const;
  void admit(Stream& s, const Chunk& chunk, bool new_line);
  void drop(Stream& s, const Chunk& chunk, bool new_line, unsigned limits, int64_t mono_now,
            int64_t wall_now);
  bool notice_due(const Stream& s, int64_t mono_now) const;
  Notice make_notice(const Stream& s) const;
  static size_t cost_of(const Chunk& chunk);
  // Whether anything charges admitted records their size: sizing one scans
  // its line, so an unlimited container without a node gate skips it.
  bool sizes_records() const { return bytes_ || node_; }

  LimitOptions options_;
  NodeGate* node_;
  std::optional<TokenBucket> bytes_;
  std::optional<TokenBucket> lines_;
  std::vector<Stream> streams_;
  Totals totals_;
};

}  // namespace logguard
