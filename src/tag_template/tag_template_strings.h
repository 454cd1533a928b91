// The string functions of the tag template: Docker's upper, lower, title,
// split, join, pad and truncate (Go's strings package over UTF-8, with Go
// 1.19's Unicode 13 case tables) and Go's html and urlquery escapers. Failures
// Go reports as a panic throw CallError; a result longer than a value may be
// (tag_template_bounds.h) throws TemplateError before it is made. Private to
// the tag template.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::tag {

// strings.ToUpper, strings.ToLower, strings.Title; invalid UTF-8 becomes U+FFFD.
std::string to_upper_string(std::string_view s);
std::string to_lower_string(std::string_view s);
std::string title(std::string_view s);

// strings.Split; an empty separator splits after each UTF-8 sequence.
std::vector<std::string> split(std::string_view s, std::string_view sep);
// strings.Join.
std::string join(const std::vector<std::string>& items, std::string_view sep);

// Docker's pad: `before` and `after` spaces around s, nothing for an empty s.
std::string pad(const std::string& s, int64_t before, int64_t after);
// Docker's truncate: the first n bytes of s (all of s if shorter).
std::string truncate(const std::string& s, int64_t n);

// template.HTMLEscapeString and url.QueryEscape.
std::string html_escape(std::string_view s);
std::string query_escape(std::string_view s);

}  // namespace logguard::tag
