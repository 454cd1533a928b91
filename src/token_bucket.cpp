#include "logguard/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace logguard {
namespace {

constexpr double kMaxTokens = 1e15;
constexpr int64_t kNano = 1'000'000'000;

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
  // Refilling `need` nano-tokens takes rate_ * elapsed + carry_ >= need * 1e9.
  Fixed need = capacity_ - tokens_;
  if (need <= 0) return;
  // Compared before multiplying, as rate_ * elapsed could overflow after a
  // long idle; need * 1e9 stays below 1e34.
  if (elapsed >= (need * kNano - carry_ + rate_ - 1) / rate_) {
    tokens_ = capacity_;
    carry_ = 0;
    return;
  }
  Fixed added = rate_ * elapsed + carry_;
  tokens_ += added / kNano;
  carry_ = added % kNano;
}

bool TokenBucket::has_tokens(int64_t now) {
  refill(now);
  return tokens_ > 0;
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
