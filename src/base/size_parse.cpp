#include "logguard/base/size_parse.h"

#include <cctype>
#include <cstdio>

namespace logguard {
namespace {

using Wide = unsigned __int128;
constexpr uint64_t kMax = UINT64_MAX;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

std::string_view strip_per_second(std::string_view s) {
  if (s.size() >= 2 && iequals(s.substr(s.size() - 2), "/s")) s.remove_suffix(2);
  return s;
}

// A decimal number split into its integer part and fraction, kept exact so
// that "0.1m" is 100000 and not a rounding away from it.
struct Decimal {
  uint64_t whole = 0;
  uint64_t frac = 0;        // the digits after the point...
  uint64_t frac_scale = 1;  // ...over this power of ten
};

// Consumes [0-9]*(.[0-9]*)? with at least one digit from the front of s.
std::optional<Decimal> take_decimal(std::string_view& s) {
  Decimal d;
  bool digits = false, point = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digits = true;
      if (!point) {
        uint64_t digit = c - '0';
        if (d.whole > (kMax - digit) / 10) return std::nullopt;
        d.whole = d.whole * 10 + digit;
      } else if (d.frac_scale < 1'000'000'000'000'000'000ULL) {  // 18 digits are plenty
        d.frac = d.frac * 10 + (c - '0');
        d.frac_scale *= 10;
      }
    } else {
      break;
    }
  }
  if (!digits) return std::nullopt;
  s.remove_prefix(i);
  return d;
}

// The multiplier a size suffix stands for, 0 if it is not one.
uint64_t suffix_multiplier(std::string_view sfx) {
  if (sfx.empty() || iequals(sfx, "b")) return 1;
  if (sfx.size() > 3) return 0;
  static constexpr std::string_view kLetters = "kmgtp";
  size_t power = kLetters.find(static_cast<char>(std::tolower(static_cast<unsigned char>(sfx[0]))));
  if (power == std::string_view::npos) return 0;
  std::string_view rest = sfx.substr(1);
  uint64_t base;
  if (rest.empty() || iequals(rest, "b")) {
    base = 1000;
  } else if (iequals(rest, "i") || iequals(rest, "ib")) {
    base = 1024;
  } else {
    return 0;
  }
  uint64_t mul = 1;
  for (size_t i = 0; i <= power; ++i) mul *= base;
  return mul;
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  auto number = take_decimal(s);
  if (!number) return std::nullopt;
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  uint64_t mul = suffix_multiplier(s);
  if (mul == 0) return std::nullopt;
  Wide value = Wide{number->whole} * mul + Wide{number->frac} * mul / number->frac_scale;
  if (value > kMax) return std::nullopt;
  return static_cast<uint64_t>(value);
}

std::optional<uint64_t> parse_rate(std::string_view text) {
  std::string_view s = trim(text);
  if (iequals(s, "off")) return 0;
  return parse_size(strip_per_second(s));
}

std::optional<double> parse_count_rate(std::string_view text) {
  std::string_view s = trim(text);
  if (iequals(s, "off")) return 0.0;
  s = strip_per_second(s);
  auto number = take_decimal(s);
  if (!number || !s.empty()) return std::nullopt;
  return static_cast<double>(number->whole) +
         static_cast<double>(number->frac) / static_cast<double>(number->frac_scale);
}

std::string format_size(uint64_t bytes, std::string_view sep) {
  static constexpr const char* kDecimal[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  static constexpr const char* kBinary[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1000) return std::to_string(bytes) + std::string(sep) + "B";

  int d = 0;
  uint64_t dec_unit = 1;
  while (d < 6 && bytes / dec_unit >= 1000) dec_unit *= 1000, ++d;
  if (bytes % dec_unit == 0)
    return std::to_string(bytes / dec_unit) + std::string(sep) + kDecimal[d];

  int b = 0;
  uint64_t bin_unit = 1;
  while (b < 6 && bytes / bin_unit >= 1024) bin_unit *= 1024, ++b;
  if (b > 0 && bytes % bin_unit == 0) {
    return std::to_string(bytes / bin_unit) + std::string(sep) + kBinary[b];
  }

  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g",
                static_cast<double>(bytes) / static_cast<double>(dec_unit));
  return std::string(buf) + std::string(sep) + kDecimal[d];
}

}  // namespace logguard
