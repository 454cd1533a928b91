#include "logguard/base/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace logguard {
namespace {

constexpr double kMaxTokens = 1e15;
constexpr int64_t kNano = 1'000'000'000;
// rate_ (at most 1e24) times this (1e14 ns, a day and more) plus a carry
// stays below 2^127 (1.7e38).
constexpr int64_t kMaxExactElapsed = 100'000'000'000'000;

// x tokens (clamped to (0, 1e15]) in nano-tokens, never less than one.
__int128 to_nano(double x) {
  double clamped = std::min(std::max(x, 0.0), kMaxTokens);
  double whole = std::floor(clamped);
  __int128 nano = static_cast<__int128>(static_cast<int64_t>(whole)) * kNano +
                  std::llround((clamped - whole) * 1e9);
  return std::max<__int128>(nano, 1);
}

}  // namespace

TokenBucket::TokenBucket(double rate, double capacity)
    : rate_(to_nano(rate)), capacity_(to_nano(capacity)), tokens_(capacity_) {}

void TokenBucket::refill(int64_t now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;  // a clock that stalls or steps back adds nothing
  Fixed elapsed = now - last_;
  last_ = now;
  // Refilling `need` nano-tokens takes rate_ * elapsed + carry_ >= need * 1e9
  // (below 1e34). The product overflows only after a long idle (rate_ is at
  // most 1e24), so up to kMaxExactElapsed it is compared as it is, and only
  // beyond by a division (a library call on 128 bits), which a bucket in use
  // never needs.
  const Fixed need = capacity_ - tokens_;
  if (need <= 0) return;
  const Fixed target = need * kNano;
  if (elapsed > kMaxExactElapsed ? elapsed >= (target - carry_ + rate_ - 1) / rate_
                                 : rate_ * elapsed + carry_ >= target) {
    tokens_ = capacity_;
    carry_ = 0;
    return;
  }
  // Not full: then rate_ * elapsed is below target, whatever elapsed was.
  const Fixed added = rate_ * elapsed + carry_;
  // What a short gap adds fits in 64 bits, where dividing by a constant is a
  // multiplication; in 128 bits it is a library call.
  if (added <= UINT64_MAX) {
    const auto small = static_cast<uint64_t>(added);
    tokens_ += small / kNano;
    carry_ = small % kNano;
  } else {
    tokens_ += added / kNano;
    carry_ = added % kNano;
  }
}

bool TokenBucket::has_tokens(int64_t now) {
  refill(now);
  return tokens_ > 0;
}

bool TokenBucket::dry(int64_t now) {
  // Refill is exact however often it runs, so a bucket known to stay dry
  // until then needs none: a flood's dropped records cost a comparison.
  if (now < dry_until_) return true;
  const int64_t wait = nanos_until_positive(now);
  if (wait == 0) return false;
  dry_until_ = static_cast<int64_t>(std::min<Fixed>(Fixed{now} + wait, INT64_MAX));
  return true;
}

double TokenBucket::tokens_at(int64_t now) const {
  TokenBucket later = *this;
  later.refill(now);
  return later.tokens();
}

void TokenBucket::charge(uint64_t cost) {
  static const Fixed kMaxDebt = -static_cast<Fixed>(kMaxTokens) * kNano;
  Fixed c = static_cast<Fixed>(std::min<uint64_t>(cost, static_cast<uint64_t>(kMaxTokens))) * kNano;
  tokens_ = std::max(tokens_ - c, kMaxDebt);
}

bool TokenBucket::try_take(int64_t now, uint64_t cost) {
  if (!has_tokens(now)) return false;
  charge(cost);
  return true;
}

int64_t TokenBucket::nanos_until_positive(int64_t now) {
  if (has_tokens(now)) return 0;
  // Positive means at least one nano-token: rate_ * t + carry_ >= (1 - tokens_) * 1e9.
  Fixed want = (1 - tokens_) * kNano - carry_;
  Fixed t = (want + rate_ - 1) / rate_;
  return t > INT64_MAX ? INT64_MAX : static_cast<int64_t>(t);
}

void TokenBucket::reconfigure(int64_t now, double rate, double capacity) {
  dry_until_ = INT64_MIN;
  refill(now);
  rate_ = to_nano(rate);
  capacity_ = to_nano(capacity);
  tokens_ = std::min(tokens_, capacity_);
}

double TokenBucket::tokens() const {
  // Whole tokens and fraction apart, so whole numbers come out exact.
  return static_cast<double>(tokens_ / kNano) + static_cast<double>(tokens_ % kNano) / 1e9;
}

}  // namespace logguard
