// UTF-8 as Go reads and writes it (utf8.h).
#include "logguard/format/utf8.h"

#include <cstdint>

namespace logguard::utf8 {
namespace {

// What a lead byte starts: the length of its sequence (0: it starts none) and
// the range of the byte after it. The ranges are RFC 3629's table; they are
// what refuses overlong forms (E0, F0), surrogates (ED) and values above
// U+10FFFF (F4). The later bytes are all 80..BF.
struct Lead {
  size_t size;
  uint8_t low, high;
};

Lead lead(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  return {0, 0, 0};  // a continuation byte, C0, C1 (only overlongs), F5..FF
}

constexpr Rune kInvalid{kReplacement, 1};

bool is_surrogate(char32_t r) { return r >= 0xD800 && r <= 0xDFFF; }

}  // namespace

Rune decode(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t b = byte(0);
  if (b < 0x80) return {b, 1};
  const Lead l = lead(b);
  if (l.size == 0 || l.size > s.size() - i) return kInvalid;
  char32_t value = b & (0x7F >> l.size);  // the lead byte's payload bits
  for (size_t k = 1; k < l.size; ++k) {
    const uint8_t low = k == 1 ? l.low : 0x80, high = k == 1 ? l.high : 0xBF;
    if (byte(k) < low || byte(k) > high) return kInvalid;
    value = value << 6 | (byte(k) & 0x3F);
  }
  return {value, l.size};
}

void append(std::string& out, char32_t r) {
  if (is_surrogate(r) || r > kMaxRune) r = kReplacement;
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

}  // namespace logguard::utf8
