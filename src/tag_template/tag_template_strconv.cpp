// Go's unicode/utf8 and strconv for the tag template (tag_template_strconv.h).
#include "tag_template_strconv.h"

#include <charconv>
#include <cstdio>

namespace logguard::tag {
namespace {

bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_unquoted(std::string& out, char32_t value, bool multibyte) {
  if (value < 0x80 || !multibyte) {
    out += static_cast<char>(value);
  } else {
    append_rune(out, value);
  }
}

// Takes a leading '+' or '-' off s; true for '-'.
bool take_sign(std::string_view& s) {
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  const bool negative = s[0] == '-';
  s.remove_prefix(1);
  return negative;
}

}  // namespace

std::pair<char32_t, size_t> decode_rune(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    return i + k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const uint8_t b = at(0);
  if (b < 0x80) return {b, 1};
  if (b >= 0xC2 && b <= 0xDF && cont(1)) return {((b & 0x1F) << 6) | (at(1) & 0x3F), 2};
  if (b >= 0xE0 && b <= 0xEF) {
    const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2)) {
      return {((b & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F), 3};
    }
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2) && cont(3)) {
      return {((b & 0x07) << 18) | ((at(1) & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F),
              4};
    }
  }
  return {0xFFFD, 1};
}

void append_rune(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

bool append_short_escape(std::string& out, char c) {
  switch (c) {
    case '"': out += "\\\""; return true;
    case '\\': out += "\\\\"; return true;
    case '\n': out += "\\n"; return true;
    case '\r': out += "\\r"; return true;
    case '\t': out += "\\t"; return true;
    default: return false;
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (append_short_escape(out, c)) continue;
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool unquote_char(std::string_view s, size_t& i, char quote, char32_t* value, bool* multibyte) {
  const char c = s[i];
  *multibyte = false;
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (is_non_ascii(c)) {
    auto [r, size] = decode_rune(s, i);
    i += size;
    *value = r;
    *multibyte = true;
    return true;
  }
  if (c != '\\') {
    *value = static_cast<unsigned char>(c);
    ++i;
    return true;
  }
  if (i + 1 >= s.size()) return false;
  const char e = s[i + 1];
  i += 2;
  switch (e) {
    case 'a': *value = '\a'; return true;
    case 'b': *value = '\b'; return true;
    case 'f': *value = '\f'; return true;
    case 'n': *value = '\n'; return true;
    case 'r': *value = '\r'; return true;
    case 't': *value = '\t'; return true;
    case 'v': *value = '\v'; return true;
    case '\\': *value = '\\'; return true;
    case '\'': case '"':
      if (e != quote) return false;
      *value = static_cast<unsigned char>(e);
      return true;
    case 'x': case 'u': case 'U': {
      const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (i + n > s.size()) return false;
      char32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        const int d = hex_digit(s[i + k]);
        if (d < 0) return false;
        v = v * 16 + static_cast<char32_t>(d);
      }
      i += n;
      if (e == 'x') {
        *value = v;
        return true;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
      *value = v;
      *multibyte = true;
      return true;
    }
    default:
      if (e >= '0' && e <= '7') {
        if (i + 2 > s.size()) return false;
        char32_t v = static_cast<char32_t>(e - '0');
        for (size_t k = 0; k < 2; ++k) {
          const char d = s[i + k];
          if (d < '0' || d > '7') return false;
          v = v * 8 + static_cast<char32_t>(d - '0');
        }
        if (v > 255) return false;
        i += 2;
        *value = v;
        return true;
      }
      return false;
  }
}

// Go's strconv.Unquote of a "..." or `...` token.
std::optional<std::string> unquote(std::string_view token) {
  if (token.size() < 2) return std::nullopt;
  const std::string_view body = token.substr(1, token.size() - 2);
  if (token[0] == '`') {
    std::string out;
    for (char c : body) {
      if (c != '\r') out += c;
    }
    return out;
  }
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    char32_t value = 0;
    bool multibyte = false;
    if (body[i] == '\n' || !unquote_char(body, i, '"', &value, &multibyte)) return std::nullopt;
    append_unquoted(out, value, multibyte);
  }
  return out;
}

std::optional<uint64_t> parse_uint_base0(std::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_int_base0(std::string_view s) {
  const bool negative = take_sign(s);
  auto magnitude = parse_uint_base0(s);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (negative) {
    if (*magnitude > kLimit) return std::nullopt;
    return static_cast<int64_t>(0 - *magnitude);
  }
  if (*magnitude >= kLimit) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

std::optional<double> parse_float(std::string_view s) {
  const bool negative = take_sign(s);
  // Decimal syntax only: digits [. digits] [e [+-] digits], one digit at least.
  size_t i = 0, mantissa_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

bool fits_int64(double f) { return f >= -9223372036854775808.0 && f < 9223372036854775808.0; }
bool fits_uint64(double f) { return f >= 0 && f < 18446744073709551616.0; }

}  // namespace logguard::tag
