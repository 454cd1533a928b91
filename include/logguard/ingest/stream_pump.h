// StreamPump: the work of one logging session, without its thread — take
// frames from the container's stream, let the limiter decide, write what it
// admits, and only then consume the bytes (log_stream.h). Driven by Session;
// tests drive it with a fake stream and a file system that crashes after
// any operation. What it received, wrote and dropped is added to the log's
// metrics (metrics.h) once per turn.
//
// The guarantee across a plugin crash at any moment (kill -9; the page cache
// survives): every line the engine put in the FIFO is written exactly once
// or counted as dropped exactly once.
//  - Nothing is consumed before it is durable: one turn peeks at the stream,
//    decides every frame, writes the admitted records, saves the progress
//    (limiter counts) if anything was dropped, and then consumes the batch.
//  - A restart (reattach()) first consumes the batch its progress names if
//    the stream still starts with it (saved, then killed before consuming);
//    then skips the leading frames the log's last records already hold (same
//    time, stream and text) — written, then killed before consuming — and
//    counts the frames between them that the log does not hold as dropped
//    (the dead process dropped them and never saved that); then goes on.
//  - Notices are written in a turn of their own and the progress saved after;
//    a notice already in the log (killed before the save) is recognised by
//    its logguard.since and not written again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "logguard/base/clock.h"
#include "logguard/storage/container_log.h"
#include "logguard/format/frame.h"
#include "logguard/format/json_record.h"
#include "logguard/ingest/limiter.h"
#include "logguard/ingest/log_stream.h"
#include "logguard/storage/session_store.h"

namespace logguard {

class StreamPump {
 public:
  struct Parts {
    std::string name;        // for the plugin's log (the FIFO path)
    LogStream* stream;
    ContainerLog* log;
    Limiter* limiter;
    ProgressLog* progress;   // null: nothing is persisted
    Clock* clock;
    const Attrs* attrs;      // null or empty: records without attrs
  };
  explicit StreamPump(Parts parts);

  // After a plugin restart, before the first turn: see above. `log_tail` is
  // the log's newest records (log_tail.h).
  void reattach(const std::vector<Record>& log_tail);

  struct Turn {
    enum Kind { kProgress, kIdle, kWait, kEof } kind = kIdle;
    int64_t wait_nanos = 0;  // kWait: block mode, ask again after this
    size_t bytes = 0;        // consumed by this turn
  };
  Turn turn();

  // Writes the notices that are due (all pending ones if ending).
  void write_notices(bool ending);
  // Saves the limiter's state (tokens, unannounced drops) if it may have
  // changed since the last save; for periodic saves and shutdown.
  void save_progress();
  // Gives back buffer memory after a burst.
  void release_memory();

  const Limiter& limiter() const { return *parts_.limiter; }
  uint64_t lost_records() const { return lost_records_; }

 private:
  struct Staged {
    size_t end;             // in staged_
    int64_t time_nanos;
    // A copy (short: no allocation). A view into the peek buffer or the
    // notice would now do: every stage is written in the call that made it.
    std::string stream;
    uint64_t raw_bytes;
    bool starts_line;
  };
  enum class Outcome { kWritten, kDropped, kWait };
  Turn take_turn();
  Turn end_inside_a_frame(size_t n);
  bool head_frame_unseen(size_t n);
  void publish_metrics();
  int64_t logged_mono(int64_t time) const;
  Outcome offer(std::string_view source, std::string_view line, int64_t time, bool starts_line,
                bool ends_line, int64_t* wait);
  void stage(std::string_view source, std::string_view line, int64_t time, bool starts_line,
             bool ends_line, const Attrs* attrs);
  bool write_staged(bool count_losses);
  void skip_written(const std::vector<Record>& log_tail, size_t n, int64_t mono, int64_t wall);
  void save(uint64_t batch_length, uint32_t batch_crc);
  size_t peek();
  void consume(size_t n);

  Parts parts_;
  FrameScanner scanner_;         // decodes frames in peeked_, in place
  std::string peeked_;           // the stream's unconsumed bytes as last peeked
  bool eof_ = false;             // the last peek found the stream ended
  uint64_t consumed_ = 0;        // stream bytes consumed so far
  bool dirty_ = false;           // limiter state changed since the last save
  std::string staged_;           // admitted records, encoded back to back
  std::vector<Staged> staged_records_;
  uint64_t lost_records_ = 0;
  int64_t last_loss_report_ = 0;  // monotonic time of the last error logged
  Limiter::Totals published_;     // the limiter's totals as last added to the metrics
  struct {
    int64_t mono = 0, wall = 0;
  } now_;                         // the clocks as of the turn's start
};

}  // namespace logguard
