// The string functions of the tag template (tag_template_strings.h).
#include "tag_template_strings.h"

#include <algorithm>

#include "logguard/format/utf8.h"
#include "logguard/tag_template/tag_template.h"
#include "tag_template_bounds.h"
#include "tag_template_funcs.h"
#include "unicode_case.h"

namespace logguard::tag {
namespace {

// Go's strings.Map over runes; invalid bytes come out as U+FFFD.
template <typename F>
std::string map_runes(std::string_view s, F&& mapping) {
  ValueText out;
  std::string rune;
  for (size_t i = 0; i < s.size();) {
    const utf8::Rune r = utf8::decode(s, i);
    rune.clear();
    utf8::append(rune, mapping(r.value));
    out += rune;
    i += r.size;
  }
  return std::move(out).take();
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Go's strings.ToUpper/ToLower: bytes mapped in place for ASCII text, else
// rune by rune.
template <typename F>
std::string map_case(std::string_view s, F&& mapping) {
  if (is_ascii(s)) {
    check_value_size(s.size());
    std::string out(s);
    for (char& c : out) c = static_cast<char>(mapping(static_cast<unsigned char>(c)));
    return out;
  }
  return map_runes(s, mapping);
}

// strings.Title: ASCII letters, digits and '_' continue a word, so do
// non-ASCII runes except spaces; everything else separates words.
bool is_separator(char32_t r) {
  if (r < 0x80) {
    const bool word = (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
                      r == '_';
    return !word;
  }
  return is_space(r);
}


}  // namespace

std::string to_upper_string(std::string_view s) { return map_case(s, to_upper); }
std::string to_lower_string(std::string_view s) { return map_case(s, to_lower); }

std::string title(std::string_view s) {
  char32_t previous = ' ';
  return map_runes(s, [&](char32_t r) {
    const char32_t mapped = is_separator(previous) ? to_title(r) : r;
    previous = r;
    return mapped;
  });
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  // The pieces are counted before any is made: one-byte pieces cost a string
  // object each, far more than their byte (an invalid byte becomes U+FFFD,
  // three bytes).
  if (sep.empty()) {  // one element per UTF-8 sequence; the last is the rest as is
    size_t runes = 0, bytes = 0;
    for (size_t i = 0; i < s.size(); ++runes) {
      const utf8::Rune r = utf8::decode(s, i);
      bytes += r.invalid() ? utf8::kReplacementBytes.size() : r.size;
      i += r.size;
    }
    check_value_size(bytes + runes * sizeof(std::string));
    out.reserve(runes);
    size_t i = 0;
    for (size_t k = 0; k + 1 < runes; ++k) {
      const utf8::Rune r = utf8::decode(s, i);
      out.emplace_back(r.invalid() ? utf8::kReplacementBytes : s.substr(i, r.size));
      i += r.size;
    }
    if (runes > 0) out.emplace_back(s.substr(i));
    return out;
  }
  size_t pieces = 1;
  for (size_t at = s.find(sep); at != std::string_view::npos; at = s.find(sep, at + sep.size())) {
    ++pieces;
  }
  check_value_size(s.size() + pieces * sizeof(std::string));
  out.reserve(pieces);
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  ValueText out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return std::move(out).take();
}

std::string pad(const std::string& s, int64_t before, int64_t after) {
  if (s.empty()) return "";
  if (before < 0 || after < 0) throw CallError{"strings: negative Repeat count"};  // Go panics
  // Sized before it is made; a count may be near 2^63, so each is capped first.
  const auto capped = [](int64_t n) { return std::min<uint64_t>(n, kMaxValueBytes + 1); };
  const uint64_t size = s.size() + capped(before) + capped(after);
  check_value_size(size);
  std::string padded;
  padded.reserve(size);
  padded.append(static_cast<size_t>(before), ' ');
  padded += s;
  padded.append(static_cast<size_t>(after), ' ');
  return padded;
}

std::string truncate(const std::string& s, int64_t n) {
  if (static_cast<int64_t>(s.size()) < n) return s;
  if (n < 0) {
    throw CallError{"runtime error: slice bounds out of range [:" + std::to_string(n) + "]"};
  }
  return s.substr(0, static_cast<size_t>(n));
}

// template.HTMLEscapeString.
std::string html_escape(std::string_view s) {
  ValueText out;
  for (char c : s) {
    switch (c) {
      case '\0': out += utf8::kReplacementBytes; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return std::move(out).take();
}

// url.QueryEscape.
std::string query_escape(std::string_view s) {
  ValueText out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      const char escape[] = {'%', "0123456789ABCDEF"[u >> 4], "0123456789ABCDEF"[u & 0xF]};
      out += std::string_view(escape, sizeof escape);
    }
  }
  return std::move(out).take();
}

}  // namespace logguard::tag
