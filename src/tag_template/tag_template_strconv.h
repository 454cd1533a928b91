// Go's strconv as the tag template needs it: quoting for messages, and
// reading string, character and number literals as Go's template parser does
// (runes are decoded and encoded by logguard/format/utf8.h). Pure functions on
// text. Private to the tag template.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logguard::tag {

// Go's strconv.Quote-like form used in messages ("%q" of a string).
std::string quote(std::string_view s);

// The backslash escapes Go's strconv.Quote and encoding/json share: \" \\ \n
// \r \t. Appends the escape of c and returns true, or returns false.
bool append_short_escape(std::string& out, char c);

// Go's strconv.UnquoteChar: decodes one character or escape at s[i] of a
// literal quoted with `quote` and advances i past it; false for bad syntax.
// Sets *multibyte when the value is a rune to encode as UTF-8 (rather than a
// byte from \x or octal).
bool unquote_char(std::string_view s, size_t& i, char quote, char32_t* value, bool* multibyte);

// Go's strconv.Unquote of a "..." or `...` token; nullopt for bad syntax.
std::optional<std::string> unquote(std::string_view token);

// Go's strconv.ParseUint/ParseInt(text, 0, 64): base from the prefix (0x, 0o,
// 0b, 0), no underscores (the parser refuses them first). nullopt if the text
// is not such a number or does not fit.
std::optional<uint64_t> parse_uint_base0(std::string_view s);
std::optional<int64_t> parse_int_base0(std::string_view s);

// Go's strconv.ParseFloat for decimal text (hex floats are refused earlier).
std::optional<double> parse_float(std::string_view s);

// Whether f converts to int64 / uint64 without overflow.
bool fits_int64(double f);
bool fits_uint64(double f);

}  // namespace logguard::tag
