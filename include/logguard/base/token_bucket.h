// TokenBucket: a budget of bytes (or lines) that refills continuously at
// `rate` tokens per second up to `capacity` (the burst), and starts full.
// It reads no clock: callers pass monotonic nanoseconds, so tests prove exact
// counts with made-up times. The first time passed is the bucket's start.
//
// Admission rule: a record is admitted while the bucket holds any tokens at
// all (> 0), and then costs its full size, so the bucket may go into debt.
// Over any window of T seconds the admitted cost is therefore at most
// capacity + rate*T + one record, and a sustained flood gets nearly all of
// that: no record is refused for being bigger than what is left.
//
// Tokens are fixed point (1e-9 token) and the rounding remainder of each
// refill is carried, so refill is exact and never drifts with the call
// pattern. Rates and capacities above 1e15 are treated as 1e15 (a petabyte
// per second is no limit), and debt stops growing at 1e15 tokens, which keeps
// the arithmetic in range.
#pragma once

#include <cstdint>

namespace logguard {

class TokenBucket {
 public:
  // rate > 0 tokens per second, capacity > 0 tokens.
  TokenBucket(double rate, double capacity);

  // Refills up to now; whether the bucket holds more than zero tokens.
  bool has_tokens(int64_t now);
  // !has_tokens(now), but a bucket found dry remembers until when it stays
  // so and answers without refilling until then (the drop path of a flood:
  // a comparison per record). tokens() may then lag; tokens_at() does not.
  bool dry(int64_t now);
  // What tokens() would be after a refill up to now, without refilling.
  double tokens_at(int64_t now) const;
  // Takes cost tokens unconditionally (may leave a debt); for the rest of a
  // record already admitted.
  void charge(uint64_t cost);
  // has_tokens(now), and if so charge(cost). Returns whether admitted.
  bool try_take(int64_t now, uint64_t cost);
  // Nanoseconds from now until has_tokens() becomes true; 0 if it is now.
  int64_t nanos_until_positive(int64_t now);
  // Refills up to now at the old rate, then goes on at the new rate and
  // capacity (tokens above the new capacity are cut to it).
  void reconfigure(int64_t now, double rate, double capacity);
  // Tokens at the last refill (negative while in debt), for tests and metrics.
  double tokens() const;

 private:
  using Fixed = __int128;  // nano-tokens; 1e15 tokens are 1e24 of them
  void refill(int64_t now);

  Fixed rate_;       // nano-tokens per second (= tokens per ns * 1e18)
  Fixed capacity_;   // nano-tokens
  Fixed tokens_;     // nano-tokens; may be negative (debt)
  Fixed carry_ = 0;  // refill remainder, in nano-tokens * 1e-9 (0 <= carry_ < 1e9)
  int64_t last_ = 0;
  bool started_ = false;
  // dry() is true before this: set when the bucket was found dry (charges
  // since only lower the tokens; reconfigure() forgets it).
  int64_t dry_until_ = INT64_MIN;
};

}  // namespace logguard
