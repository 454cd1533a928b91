// ReadPacer: how long a session lets a container's stream gather before it
// looks again. The engine writes one frame per write(2); a reader that takes
// each as it comes pays a wake-up and a turn (tee, read, write, consume) per
// line, and so does the engine, which wakes it. A session that waits after
// a turn instead finds many frames at once — but it must not wait until the
// pipe is full, or the container's writes would block on us.
//
// The rule: wait until the stream, at its recent rate, would fill a quarter
// of the pipe (half of a large one, kLargePipeBytes or more: only busy
// streams get those), never longer than `max_gather`; no wait after a turn
// that found a quarter of the pipe more than that (we are behind). The rate
// of a turn is the bytes it took over the time from the end of the turn
// before (when the pipe was last emptied) to its start; the recent rate is
// the bytes over the time of the turns of about the last 100 ms (each turn's
// weight halves every 100 ms after it). An average, not the fastest turn:
// the engine writes a container's output in bursts (a read's worth of lines
// at memory speed), so one turn a few µs after the last can see hundreds of
// MB/s; a peak held for a second kept the gathers of a 28 MB/s flood at
// 60 µs, thousands of turns a second of 7 KB each (measured).
//
// A stream that was quiet (nothing for twice the longest gather) is read the
// moment it speaks (the session's poll wakes it), and then looked at again
// after only kWakeGatherNanos: what comes first after a quiet may be the
// start of a burst, and a pipe held full meanwhile would stop the container
// and let the engine stamp its later lines out of order with its other
// stream. From the next turn on the stream's rate decides; its quiet past
// does not count. It reads no clock: callers pass monotonic nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace logguard {

class ReadPacer {
 public:
  // The longest gathers. Nobody follows: 1 s, a tenth of the wake-ups of a
  // container logging 10 lines a second. A turn costs a quiet session ~100
  // µs of syscalls and wake-up on a virtual machine whatever it carries, so
  // 500 such containers took 9.4 % of a core with 400 ms gathers (the goal
  // is 5 %); a container that logs steadily and then bursts may find its
  // writes held that long, once, after its first pipe-full. Someone follows
  // (`docker logs -f`): lines at most 50 ms late.
  static constexpr int64_t kMaxGatherNanos = 1'000'000'000;
  static constexpr int64_t kFollowedGatherNanos = 50'000'000;
  static constexpr int64_t kWakeGatherNanos = 5'000'000;
  static constexpr size_t kLargePipeBytes = 1 << 20;

  // After a turn that ran from `start` to `end` and took `bytes` from a
  // pipe of `capacity` bytes: nanoseconds to wait before the next look (0:
  // look again now), at most `max_gather`.
  int64_t after_turn(int64_t start, int64_t end, size_t bytes, size_t capacity,
                     int64_t max_gather = kMaxGatherNanos);

  // Whether, as of the last turn, the stream fills what a gather aims at in
  // less than kBusyNanos (or the turn found it behind): more than ~100 turns
  // a second at this pipe size, so it deserves a larger pipe.
  bool busy() const { return busy_; }
  static constexpr int64_t kBusyNanos = 10'000'000;

 private:
  // The recent turns' bytes and intervals, each weighted by how long ago it
  // was (halving every kRateHalfLifeNanos); their ratio is the rate.
  double recent_bytes_ = 0;
  double recent_nanos_ = 0;
  int64_t last_end_ = 0;   // end of the last turn that took bytes; 0: none yet
  bool busy_ = false;
};

}  // namespace logguard
