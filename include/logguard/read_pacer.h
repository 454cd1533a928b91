// ReadPacer: how long a session lets a container's stream gather before it
// looks again. The engine writes one frame per write(2); a reader that takes
// each as it comes pays a wake-up and a turn (tee, read, write, consume) per
// line, and so does the engine, which wakes it. A session that waits after
// a turn instead finds many frames at once — but it must not wait until the
// pipe is full, or the container's writes would block on us.
//
// The rule: wait until the stream, at its recent rate, would fill a quarter
// of the pipe, never longer than `max_gather`; no wait after a turn that
// found the pipe half full (we are behind). The rate of a turn is the bytes
// it took over the time from the end of the turn before (when the pipe was
// last emptied) to its start; the recent rate is the highest such rate,
// decaying by half every second, so one small turn right after a big one
// (the writer had just been unblocked) does not make a flood look quiet.
//
// A stream that was quiet (nothing for twice the longest gather) is read the
// moment it speaks (the session's poll wakes it), and then looked at again
// after only kWakeGatherNanos: what comes first after a quiet may be the
// start of a burst, and a pipe held full meanwhile would stop the container
// and let the engine stamp its later lines out of order with its other
// stream. From the next turn on the stream's rate decides. It reads no
// clock: callers pass monotonic nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace logguard {

class ReadPacer {
 public:
  // The longest gathers. Nobody follows: 400 ms, a quarter of the wake-ups
  // of a container logging 10 lines a second (250 ms measured at the limit
  // of 5 % of a core for 200 such containers); a container that logs
  // steadily and then bursts may find its writes held that long, once,
  // after its first pipe-full. Someone follows (`docker logs -f`): lines at
  // most 50 ms late.
  static constexpr int64_t kMaxGatherNanos = 400'000'000;
  static constexpr int64_t kFollowedGatherNanos = 50'000'000;
  static constexpr int64_t kWakeGatherNanos = 5'000'000;

  // After a turn that ran from `start` to `end` and took `bytes` from a
  // pipe of `capacity` bytes: nanoseconds to wait before the next look (0:
  // look again now), at most `max_gather`.
  int64_t after_turn(int64_t start, int64_t end, size_t bytes, size_t capacity,
                     int64_t max_gather = kMaxGatherNanos);

 private:
  double rate_ = 0;        // recent rate, bytes per nanosecond
  int64_t rate_at_ = 0;    // when rate_ was last raised or decayed
  int64_t last_end_ = 0;   // end of the last turn that took bytes; 0: none yet
};

}  // namespace logguard
