#include "logguard/base/clock.h"

#include <ctime>

namespace logguard {
namespace {

int64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

int64_t SystemClock::monotonic_nanos() { return read_clock(CLOCK_MONOTONIC); }
int64_t SystemClock::wall_nanos() { return read_clock(CLOCK_REALTIME); }

}  // namespace logguard
