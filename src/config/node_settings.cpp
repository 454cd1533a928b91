#include "logguard/config/node_settings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "logguard/config/options.h"
#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

std::optional<DiskAmount> parse_amount(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    double v = 0;
    std::string number(text.substr(0, text.size() - 1));
    char* end = nullptr;
    v = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(v > 0) || v > 100) {
      return std::nullopt;
    }
    return DiskAmount{true, v};
  }
  auto bytes = parse_size(text);
  if (!bytes || *bytes == 0) return std::nullopt;
  return DiskAmount{false, static_cast<double>(*bytes)};
}

std::string format_duration(int64_t nanos) {
  if (nanos % (3600LL * 1'000'000'000) == 0) return std::to_string(nanos / 3'600'000'000'000) + "h";
  if (nanos % 1'000'000'000 == 0) return std::to_string(nanos / 1'000'000'000) + "s";
  return std::to_string(nanos / 1'000'000) + "ms";
}

}  // namespace

uint64_t DiskAmount::resolve(uint64_t filesystem_bytes) const {
  if (!percent) return static_cast<uint64_t>(value);
  return static_cast<uint64_t>(static_cast<double>(filesystem_bytes) * value / 100.0);
}

std::string DiskAmount::describe() const {
  if (!percent) return format_size(static_cast<uint64_t>(value));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", value);
  return buf;
}

std::optional<int64_t> parse_duration(std::string_view text) {
  static const std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9},
      {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) ||
                                     text[digits] == '.')) {
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    std::string number(text.substr(0, digits));
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    text.remove_prefix(digits);
    size_t unit_len = 0;
    while (unit_len < text.size() && !std::isdigit(static_cast<unsigned char>(text[unit_len])) &&
           text[unit_len] != '.') {
      ++unit_len;
    }
    std::string_view unit = text.substr(0, unit_len);
    const auto* match = std::find_if(std::begin(kUnits), std::end(kUnits),
                                     [&](const auto& u) { return u.first == unit; });
    if (match == std::end(kUnits)) return std::nullopt;
    total += v * match->second;
    text.remove_prefix(unit_len);
  }
  if (total > 9e18) return std::nullopt;
  return static_cast<int64_t>(std::llround(total));
}

NodeSettings node_settings_from_env(const std::function<const char*(const char*)>& getenv) {
  NodeSettings s;
  auto value = [&](const char* name) { return env_setting(getenv, name); };
  if (auto v = value("NODE_WRITE_RATE")) {
    const std::string l = ascii_lower(*v);
    const std::string_view want = "auto, auto:<ceiling> such as auto:64m, a rate such as 32m, or off";
    if (l == "auto") {
      s.rate_mode = NodeSettings::RateMode::kAuto;
    } else if (l.rfind("auto:", 0) == 0) {
      auto ceiling = parse_rate(l.substr(5));
      if (!ceiling || *ceiling < 1'000'000) invalid_setting("NODE_WRITE_RATE", *v, want);
      s.rate_mode = NodeSettings::RateMode::kAuto;
      s.rate = static_cast<double>(*ceiling);
    } else if (auto rate = parse_rate(l)) {
      s.rate_mode = *rate == 0 ? NodeSettings::RateMode::kOff : NodeSettings::RateMode::kFixed;
      s.rate = static_cast<double>(*rate);
    } else {
      invalid_setting("NODE_WRITE_RATE", *v, want);
    }
  }
  if (auto v = value("NODE_WRITE_BURST")) {
    auto bytes = parse_size(*v);
    if (!bytes || *bytes < kMinWriteBurst) {
      invalid_setting("NODE_WRITE_BURST", *v, "a size of at least 1m such as 64m");
    }
    s.write_burst = *bytes;
  }
  if (auto v = value("NODE_LATENCY_TARGET")) {
    auto d = parse_duration(*v);
    if (!d || *d < 1'000'000 || *d > 60'000'000'000) {
      invalid_setting("NODE_LATENCY_TARGET", *v,
                      "a duration between 1ms and 60s such as 50ms");
    }
    s.latency_target_nanos = *d;
  }
  if (auto v = value("NODE_MAX_DISK")) {
    auto a = parse_amount(*v);
    if (!a) {
      invalid_setting("NODE_MAX_DISK", *v, "a size such as 5g or a percentage such as 10%");
    }
    s.max_disk = *a;
  }
  if (auto v = value("NODE_MIN_FREE")) {
    auto a = parse_amount(*v);
    if (!a) {
      invalid_setting("NODE_MIN_FREE", *v, "a size such as 2g or a percentage such as 15%");
    }
    s.min_free = *a;
  }
  if (auto v = value("RETAIN")) {
    const std::string l = ascii_lower(*v);
    if (l == "off") {
      s.retain_nanos = 0;
    } else {
      auto d = parse_duration(l);
      if (!d) invalid_setting("RETAIN", *v, "a duration such as 168h or 7d, or off");
      s.retain_nanos = *d;
    }
  }
  return s;
}

std::string NodeSettings::describe() const {
  std::string rate_text;
  switch (rate_mode) {
    case RateMode::kAuto:
      rate_text = "auto (ceiling " + format_size(static_cast<uint64_t>(rate)) + "/s, latency target " +
                  format_duration(latency_target_nanos) + ")";
      break;
    case RateMode::kFixed:
      rate_text = format_size(static_cast<uint64_t>(rate)) + "/s";
      break;
    case RateMode::kOff:
      rate_text = "off";
      break;
  }
  return "NODE_WRITE_RATE=" + rate_text + " NODE_WRITE_BURST=" + format_size(write_burst) +
         " NODE_MAX_DISK=" + max_disk.describe() +
         " NODE_MIN_FREE=" + min_free.describe() +
         " RETAIN=" + (retain_nanos == 0 ? std::string("off") : format_duration(retain_nanos));
}

}  // namespace logguard
