// Go's template comparison builtins (tag_template_compare.h).
#include "tag_template_compare.h"

#include "tag_template_funcs.h"

namespace logguard::tag {
namespace {

// Go's basic kinds for comparisons; kInvalid for anything else.
enum class Basic { kInvalid, kBool, kInt, kFloat, kString, kUint };

Basic basic_kind(const Value& v) {
  switch (v.kind) {
    case Kind::kBool: return Basic::kBool;
    case Kind::kInt: return Basic::kInt;
    case Kind::kUint8: return Basic::kUint;
    case Kind::kFloat: return Basic::kFloat;
    case Kind::kString: return Basic::kString;
    default: return Basic::kInvalid;
  }
}

bool is_nil_value(const Value& v) {
  return v.kind == Kind::kInvalid || v.kind == Kind::kNil ||
         ((v.kind == Kind::kStrings || v.kind == Kind::kMap) && v.is_nil);
}

}  // namespace

bool eq_values(const Value& a, const std::vector<Value>& others) {
  if (others.empty()) throw CallError{"missing argument for comparison"};
  const Basic k1 = basic_kind(a);
  for (const Value& b : others) {
    const Basic k2 = basic_kind(b);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == Basic::kInt && k2 == Basic::kUint) {
        truth = a.integer >= 0 && a.integer == b.integer;
      } else if (k1 == Basic::kUint && k2 == Basic::kInt) {
        truth = b.integer >= 0 && a.integer == b.integer;
      } else if (a.kind != Kind::kInvalid && b.kind != Kind::kInvalid) {
        throw CallError{"incompatible types for comparison"};
      }
    } else {
      switch (k1) {
        case Basic::kBool: truth = a.truth == b.truth; break;
        case Basic::kFloat: truth = a.real == b.real; break;
        case Basic::kInt: case Basic::kUint: truth = a.integer == b.integer; break;
        case Basic::kString: truth = a.str == b.str; break;
        case Basic::kInvalid:
          if (a.kind != b.kind && a.kind != Kind::kInvalid && b.kind != Kind::kInvalid) {
            throw CallError{"non-comparable types " + type_name(a) + ", " + type_name(b)};
          }
          if (is_nil_value(a) || is_nil_value(b)) {
            truth = is_nil_value(a) == is_nil_value(b);
          } else if (b.kind == Kind::kTime) {
            truth = a.str == b.str;
          } else if (b.kind == Kind::kInfo) {
            truth = true;  // the same *logger.Info
          } else {
            throw CallError{"non-comparable type " + type_name(b)};
          }
          break;
      }
    }
    if (truth) return true;
  }
  return false;
}

bool lt_values(const Value& a, const Value& b) {
  const Basic k1 = basic_kind(a), k2 = basic_kind(b);
  if (k1 == Basic::kInvalid || k2 == Basic::kInvalid) {
    throw CallError{"invalid type for comparison"};
  }
  if (k1 != k2) {
    if (k1 == Basic::kInt && k2 == Basic::kUint) return a.integer < 0 || a.integer < b.integer;
    if (k1 == Basic::kUint && k2 == Basic::kInt) return b.integer >= 0 && a.integer < b.integer;
    throw CallError{"incompatible types for comparison"};
  }
  switch (k1) {
    case Basic::kFloat: return a.real < b.real;
    case Basic::kInt: case Basic::kUint: return a.integer < b.integer;
    case Basic::kString: return a.str < b.str;
    default: throw CallError{"invalid type for comparison"};
  }
}

bool le_values(const Value& a, const Value& b) { return lt_values(a, b) || eq_values(a, {b}); }

}  // namespace logguard::tag
