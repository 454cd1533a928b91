// How deeply a JSON text nests, found by one scan without parsing it. Texts
// from files and from the socket are checked before they reach code that
// recurses once per level (nlohmann::json's dump(), for one): a record
// nested 80,000 levels deep must not crash the plugin.
#pragma once

#include <cstddef>
#include <string_view>

namespace logguard {

// Deeper than anything a json-file record or an engine request holds.
inline constexpr size_t kMaxJsonNesting = 64;

// Whether no array or object in text is nested more than max_depth levels
// deep. Brackets inside strings do not count. Malformed text is not
// rejected here; the parser that follows does that.
bool json_nesting_within(std::string_view text, size_t max_depth = kMaxJsonNesting);

}  // namespace logguard
