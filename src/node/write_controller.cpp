#include "logguard/node/write_controller.h"

#include <algorithm>
#include <cmath>

#include "logguard/base/size_parse.h"

namespace logguard {

WriteController::WriteController(WriteControllerConfig config)
    : config_(config),
      floor_(std::min(config.floor, config.ceiling)),
      ceiling_(config.ceiling),
      rate_(ceiling_),
      reported_rate_(rate_) {}

void WriteController::set_bounds(double low, double high) {
  const double floor = std::min(config_.floor, config_.ceiling);
  ceiling_ = std::clamp(high, floor, config_.ceiling);
  floor_ = std::clamp(low, floor, ceiling_);
  rate_ = std::clamp(rate_, floor_, ceiling_);
}

void WriteController::forget_before(int64_t mono_now) {
  while (!window_.empty() && mono_now - window_.front().first > kWindowNanos) window_.pop_front();
}

int64_t WriteController::window_latency() const {
  int64_t worst = 0, second = 0;
  for (const auto& [time, latency] : window_) {
    if (latency > worst) {
      second = worst;
      worst = latency;
    } else {
      second = std::max(second, latency);
    }
  }
  return second;
}

void WriteController::on_probe(int64_t mono_now, int64_t latency_nanos) {
  worst_latency_ = std::max(worst_latency_, latency_nanos);
  forget_before(mono_now);
  window_.emplace_back(mono_now, latency_nanos);
  const int64_t latency = window_latency();
  if (latency > config_.target_nanos) congested(mono_now, latency);
}

void WriteController::on_tick(int64_t mono_now, int64_t in_flight_nanos) {
  const int64_t elapsed = last_tick_ == 0 ? 0 : mono_now - last_tick_;
  last_tick_ = mono_now;
  if (in_flight_nanos > kStallFactor * config_.target_nanos) {
    worst_latency_ = std::max(worst_latency_, in_flight_nanos);
    congested(mono_now, in_flight_nanos);
    return;
  }
  forget_before(mono_now);
  if (mono_now < hold_until_) return;
  // How far under the target, 0..1 (the latency of a probe in flight counts).
  const int64_t latency = std::max(window_latency(), in_flight_nanos);
  const double under = 1.0 - static_cast<double>(latency) / static_cast<double>(config_.target_nanos);
  if (under <= 0) return;
  const double seconds = static_cast<double>(elapsed) / 1e9;
  rate_ = std::min(ceiling_, rate_ * (1 + kIncreasePerSecond * under * seconds));
}

void WriteController::congested(int64_t mono_now, int64_t latency_nanos) {
  if (mono_now < hold_until_) return;
  // The further over the target, the deeper the cut: a queue of seconds
  // must drain before anyone's fsync returns quickly again.
  const double factor = std::clamp(static_cast<double>(config_.target_nanos) /
                                       static_cast<double>(latency_nanos),
                                   kDeepestDecrease, kDecrease);
  rate_ = std::max(floor_, rate_ * factor);
  hold_until_ = mono_now + std::clamp(latency_nanos, kMinHoldNanos, kMaxHoldNanos);
}

std::optional<std::string> WriteController::take_report() {
  if (std::abs(rate_ - reported_rate_) <= 0.5 * reported_rate_) return std::nullopt;
  std::string line = "node write budget " +
                     std::string(rate_ < reported_rate_ ? "cut" : "raised") + " from " +
                     format_size(static_cast<uint64_t>(reported_rate_)) + "/s to " +
                     format_size(static_cast<uint64_t>(rate_)) + "/s; log disk latency up to " +
                     std::to_string(worst_latency_ / 1'000'000) + " ms (target " +
                     std::to_string(config_.target_nanos / 1'000'000) + " ms)";
  if (rate_ == ceiling_ && ceiling_ < config_.ceiling) {
    line += "; at most " + format_size(static_cast<uint64_t>(ceiling_)) +
            "/s, a share of what the disk takes";
  } else if (rate_ == floor_ && floor_ > std::min(config_.floor, config_.ceiling)) {
    line += "; at least " + format_size(static_cast<uint64_t>(floor_)) +
            "/s, a share of what the disk takes";
  }
  reported_rate_ = rate_;
  worst_latency_ = 0;
  return line;
}

}  // namespace logguard
