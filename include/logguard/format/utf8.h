// UTF-8 as Go's unicode/utf8 reads and writes it: logguard's one decoder and
// encoder. json-file's escaping (json_record.h), reading \u escapes back
// (json_record_parser.h) and the tag template's strings, strconv and json
// (tag_template/) all use it, so each treats the same bytes as Go does.
//
// decode accepts exactly the well-formed sequences of RFC 3629: U+0000 to
// U+10FFFF in their shortest form, surrogates excluded. Anything else - a
// stray continuation byte, a sequence cut short by a wrong byte or by the end
// of the text, an overlong form (C0 80, E0 80 80, F0 80 80 80), a surrogate
// (ED A0 80 .. ED BF BF), a value above U+10FFFF (F4 90 80 80 and up, F5..FF)
// - decodes as U+FFFD taking one byte, and decoding goes on at the next byte:
// json-file writes one \ufffd per such byte, as Go does.
//
// Pure functions, safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace logguard::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;  // Go's utf8.RuneError
inline constexpr std::string_view kReplacementBytes = "\xEF\xBF\xBD";
inline constexpr char32_t kMaxRune = 0x10FFFF;

// One code point read from a text.
struct Rune {
  char32_t value = 0;  // the code point, kReplacement for an invalid byte
  size_t size = 0;     // the bytes it takes: 1 to 4

  // Whether the byte was not UTF-8, rather than an encoded U+FFFD (3 bytes).
  bool invalid() const { return size == 1 && value == kReplacement; }
};

// Go's utf8.DecodeRuneInString(s[i:]): the code point starting at s[i].
// Requires i < s.size().
Rune decode(std::string_view s, size_t i);

// Go's utf8.AppendRune: appends the 1 to 4 bytes of r; a surrogate or a value
// above kMaxRune, which has no UTF-8 form, as U+FFFD.
void append(std::string& out, char32_t r);

}  // namespace logguard::utf8
