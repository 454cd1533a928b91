// The string functions of the tag template (tag_template_strings.h).
#include "tag_template_strings.h"

#include "logguard/tag_template.h"
#include "tag_template_funcs.h"
#include "tag_template_strconv.h"
#include "unicode_case.h"

namespace logguard::tag {
namespace {

// Go's strings.Map over runes; invalid bytes come out as U+FFFD.
template <typename F>
std::string map_runes(std::string_view s, F&& mapping) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto [r, size] = decode_rune(s, i);
    append_rune(out, mapping(r));
    i += size;
  }
  return out;
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

// Go panics on a negative count; a count beyond what a log tag could use
// would make Go allocate it: both are refused.
std::string repeat_space(int64_t count) {
  constexpr int64_t kLimit = 1 << 20;
  if (count < 0) throw CallError{"strings: negative Repeat count"};
  if (count > kLimit) {
    throw TemplateError("pad by more than " + std::to_string(kLimit) +
                        " spaces is not supported by logguard");
  }
  return std::string(static_cast<size_t>(count), ' ');
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
  if (sep.empty()) {  // one element per UTF-8 sequence; the last is the rest as is
    size_t runes = 0;
    for (size_t i = 0; i < s.size(); i += decode_rune(s, i).second) ++runes;
    size_t i = 0;
    for (size_t k = 0; k + 1 < runes; ++k) {
      auto [r, size] = decode_rune(s, i);
      out.emplace_back(r == 0xFFFD ? std::string_view("\xEF\xBF\xBD") : s.substr(i, size));
      i += size;
    }
    if (runes > 0) out.emplace_back(s.substr(i));
    return out;
  }
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
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string pad(const std::string& s, int64_t before, int64_t after) {
  if (s.empty()) return "";
  std::string padded = repeat_space(before);
  const std::string trailer = repeat_space(after);
  return padded + s + trailer;
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
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\0': out += "\xEF\xBF\xBD"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

// url.QueryEscape.
std::string query_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += "0123456789ABCDEF"[u >> 4];
      out += "0123456789ABCDEF"[u & 0xF];
    }
  }
  return out;
}

}  // namespace logguard::tag
