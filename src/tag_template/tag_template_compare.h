// Go's template comparison builtins (eq, ne, lt, le, gt, ge) over the tag
// template's values: basic kinds compare by value, int with uint8 across
// kinds, nil with nil; anything Go refuses throws CallError with Go's
// message. Private to the tag template.
#pragma once

#include <vector>

#include "tag_template_value.h"

namespace logguard::tag {

// eq: a equals any of `others` (at least one).
bool eq_values(const Value& a, const std::vector<Value>& others);
// lt and le; ne, gt and ge are their negations.
bool lt_values(const Value& a, const Value& b);
bool le_values(const Value& a, const Value& b);

}  // namespace logguard::tag
