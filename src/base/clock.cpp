#include "logguard/base/clock.h"

#include <ctime>

namespace logguard {
namespace {

int64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

class SystemClock : public Clock {
 public:
  int64_t monotonic_nanos() override { return read_clock(CLOCK_MONOTONIC); }
  int64_t wall_nanos() override { return read_clock(CLOCK_REALTIME); }
};

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace logguard
