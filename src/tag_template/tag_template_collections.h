// Go's template builtins over strings, slices and maps: index, slice and len,
// with Go's bounds checks and messages (CallError). Private to the tag template.
#pragma once

#include <vector>

#include "tag_template_value.h"

namespace logguard::tag {

// index ITEM KEYS...: args[0] indexed by each of args[1..] in turn.
Value index_value(const std::vector<Value>& args);
// slice ITEM [LOW [HIGH [MAX]]]: args[0] sliced by args[1..].
Value slice_value(const std::vector<Value>& args);
// len ITEM.
Value length(const Value& item);

}  // namespace logguard::tag
