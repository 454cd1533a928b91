#include "logguard/base/time_format.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian,
// no time zone database, no locale.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

// "00" to "99": digits are written two at a time.
constexpr std::array<char, 200> make_digit_pairs() {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}
constexpr auto kDigitPairs = make_digit_pairs();

// Writes value as `width` digits ending just before end.
void put_digits(char* end, uint32_t value, int width) {
  for (; width >= 2; width -= 2) {
    end -= 2;
    std::memcpy(end, &kDigitPairs[2 * (value % 100)], 2);
    value /= 100;
  }
  if (width == 1) *--end = static_cast<char>('0' + value % 10);
}

// Digits of a fraction of a second once Go trims its trailing zeros; 0 for
// none (then no '.' either).
int fraction_digits(uint32_t nanos) {
  if (nanos == 0) return 0;
  int digits = 9;
  for (; nanos % 10 == 0; nanos /= 10) --digits;
  return digits;
}

// A time as whole seconds since the Unix epoch (floor) and the nanoseconds
// past them.
struct SplitTime {
  int64_t seconds;
  uint32_t nanos;
};

SplitTime split_time(int64_t unix_nanos) {
  int64_t seconds = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    seconds -= 1;
  }
  return {seconds, static_cast<uint32_t>(nanos)};
}

// "2006-01-02T15:04:05" of one second, or not representable (a year outside
// 0..9999).
struct SecondText {
  int64_t second = INT64_MIN;  // no int64 nanosecond time falls in this second
  bool representable = false;
  char text[19] = {};
};

SecondText make_second_text(int64_t seconds) {
  SecondText result;
  result.second = seconds;
  int64_t days = seconds / kSecondsPerDay;
  int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    days -= 1;
  }
  const Civil date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) return result;
  result.representable = true;
  char* t = result.text;
  std::memcpy(t, "YYYY-MM-DDThh:mm:ss", sizeof result.text);
  put_digits(t + 4, static_cast<uint32_t>(date.year), 4);
  put_digits(t + 7, date.month, 2);
  put_digits(t + 10, date.day, 2);
  put_digits(t + 13, static_cast<uint32_t>(second_of_day / 3600), 2);
  put_digits(t + 16, static_cast<uint32_t>(second_of_day / 60 % 60), 2);
  put_digits(t + 19, static_cast<uint32_t>(second_of_day % 60), 2);
  return result;
}

// The calendar arithmetic costs several times what the rest of a record's
// time does, and consecutive records mostly share their second: each thread
// (a session's writer) keeps the last one it made. Constant-initialized, so
// reaching it costs no guard.
const SecondText& second_text_cached(int64_t seconds) {
  thread_local SecondText last;
  if (last.second != seconds) last = make_second_text(seconds);
  return last;
}

// Reads exactly `width` decimal digits.
bool read_digits(std::string_view& text, int width, int& value) {
  if (text.size() < static_cast<size_t>(width)) return false;
  value = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  text.remove_prefix(static_cast<size_t>(width));
  return true;
}

bool expect(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// A parsed time as whole seconds since the Unix epoch (floor) and the
// nanoseconds past them; years 0000..9999 fit without saturation.
struct Instant {
  int64_t seconds;
  int64_t nanos;
};

// Go's time.Parse(time.RFC3339, ...) rules: 'T' (or 't'), seconds < 60,
// fraction of any length after '.' (digits beyond the ninth ignored), and a
// 'Z' or "+hh:mm"/"-hh:mm" offset.
std::optional<Instant> parse_instant(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!read_digits(text, 4, year) || !expect(text, '-') || !read_digits(text, 2, month) ||
      !expect(text, '-') || !read_digits(text, 2, day) || text.empty() ||
      (text.front() != 'T' && text.front() != 't')) {
    return std::nullopt;
  }
  text.remove_prefix(1);
  if (!read_digits(text, 2, hour) || !expect(text, ':') || !read_digits(text, 2, minute) ||
      !expect(text, ':') || !read_digits(text, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (expect(text, '.')) {
    int digits = 0;
    while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text.front() - '0');
      ++digits;
      text.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (!expect(text, 'Z') && !expect(text, 'z')) {
    if (text.empty() || (text.front() != '+' && text.front() != '-')) return std::nullopt;
    const int sign = text.front() == '+' ? 1 : -1;
    text.remove_prefix(1);
    int offset_hours, offset_minutes;
    if (!read_digits(text, 2, offset_hours) || !expect(text, ':') ||
        !read_digits(text, 2, offset_minutes) || offset_hours > 23 || offset_minutes > 59) {
      return std::nullopt;
    }
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
  }
  if (!text.empty()) return std::nullopt;
  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return Instant{days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_seconds,
                 nanos};
}

}  // namespace

bool append_rfc3339nano(std::string& out, int64_t unix_nanos) {
  char text[kMaxRfc3339NanoSize];
  const char* end = write_rfc3339nano(text, unix_nanos);
  if (end == nullptr) return false;
  out.append(text, static_cast<size_t>(end - text));
  return true;
}

char* write_rfc3339nano(char* out, int64_t unix_nanos) {
  const SplitTime time = split_time(unix_nanos);
  const SecondText& second = second_text_cached(time.seconds);
  if (!second.representable) return nullptr;
  std::memcpy(out, second.text, sizeof second.text);
  char* p = out + sizeof second.text;
  if (time.nanos != 0) {
    *p = '.';
    p += 10;
    put_digits(p, time.nanos, 9);
    while (p[-1] == '0') --p;  // Go trims the fraction's trailing zeros
  }
  *p++ = 'Z';
  return p;
}

size_t rfc3339nano_size(int64_t unix_nanos) {
  const int digits = fraction_digits(split_time(unix_nanos).nanos);
  return 20 + (digits > 0 ? 1 + static_cast<size_t>(digits) : 0);
}

std::string format_rfc3339nano(int64_t unix_nanos) {
  std::string out;
  append_rfc3339nano(out, unix_nanos);
  return out;
}

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  const auto instant = parse_instant(text);
  if (!instant) return std::nullopt;
  // A negative time with a fraction is (seconds + 1) minus the complement of
  // the fraction, so that INT64_MIN itself is reached without overflow.
  int64_t seconds = instant->seconds;
  int64_t nanos = instant->nanos;
  if (seconds < 0 && nanos > 0) {
    seconds += 1;
    nanos -= kNanosPerSecond;
  }
  int64_t result;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &result) ||
      __builtin_add_overflow(result, nanos, &result)) {
    return seconds < 0 ? INT64_MIN : INT64_MAX;
  }
  return result;
}

bool is_zero_go_time(std::string_view text) {
  // Compared as an instant, so "0001-01-01T01:00:00+01:00" is zero too, as
  // Go's Time.IsZero says.
  static const int64_t kZeroSeconds = days_from_civil(1, 1, 1) * kSecondsPerDay;
  const auto instant = parse_instant(text);
  return instant && instant->seconds == kZeroSeconds && instant->nanos == 0;
}

}  // namespace logguard
