// Go's strconv for the tag template (tag_template_strconv.h).
#include "tag_template_strconv.h"

#include <charconv>
#include <cstdio>

#include "logguard/format/utf8.h"

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
    utf8::append(out, value);
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
    const utf8::Rune rune = utf8::decode(s, i);
    i += rune.size;
    *value = rune.value;
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
      if (v > utf8::kMaxRune || (v >= 0xD800 && v <= 0xDFFF)) return false;
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
