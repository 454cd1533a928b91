// Clock: the seam through which logguard reads time, so budgets and rotation
// can be tested with a fake clock that tests advance by hand.
#pragma once

#include <cstdint>

namespace logguard {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds (CLOCK_MONOTONIC); only differences are meaningful.
  virtual int64_t monotonic_nanos() = 0;
  // Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME), for record times.
  virtual int64_t wall_nanos() = 0;
};

// The real clock: main makes one and passes it down.
class SystemClock : public Clock {
 public:
  int64_t monotonic_nanos() override;
  int64_t wall_nanos() override;
};

// A clock that only moves when told to. Not thread-safe; for tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t wall_start = 1'700'000'000'000'000'000) : wall_(wall_start) {}
  int64_t monotonic_nanos() override { return mono_; }
  int64_t wall_nanos() override { return wall_; }
  void advance(int64_t nanos) {
    mono_ += nanos;
    wall_ += nanos;
  }

 private:
  int64_t mono_ = 1'000'000'000;
  int64_t wall_;
};

}  // namespace logguard
