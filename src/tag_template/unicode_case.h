// Go's unicode.ToUpper, ToLower, ToTitle and IsSpace for one rune, with the
// simple case mappings of Go 1.19's tables (Unicode 13.0.0), which Engine
// 20.10's strings.ToUpper/ToLower/Title use. Private to the tag template.
#pragma once

namespace logguard::tag {

char32_t to_upper(char32_t r);
char32_t to_lower(char32_t r);
char32_t to_title(char32_t r);
bool is_space(char32_t r);

}  // namespace logguard::tag
