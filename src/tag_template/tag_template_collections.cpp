// Go's template builtins index, slice and len (tag_template_collections.h).
#include "tag_template_collections.h"

#include <string>

#include "tag_template_funcs.h"

namespace logguard::tag {
namespace {

// text/template's indexArg: an integer index within [0, cap].
int64_t index_arg(const Value& index, size_t cap) {
  if (index.kind == Kind::kInvalid) throw CallError{"cannot index slice/array with nil"};
  if (index.kind != Kind::kInt && index.kind != Kind::kUint8) {
    throw CallError{"cannot index slice/array with type " + type_name(index)};
  }
  if (index.integer < 0 || static_cast<uint64_t>(index.integer) > cap) {
    throw CallError{"index out of range: " + std::to_string(index.integer)};
  }
  return index.integer;
}

// The type Go names for an indexed item: a pointer is followed first.
std::string item_type(const Value& v) {
  return v.kind == Kind::kInfo ? "logger.Info" : type_name(v);
}

bool is_nil_or_invalid(const Value& v) { return v.kind == Kind::kInvalid || v.kind == Kind::kNil; }

}  // namespace

Value index_value(const std::vector<Value>& args) {
  Value item = args[0];
  if (is_nil_or_invalid(item)) throw CallError{"index of untyped nil"};
  for (size_t k = 1; k < args.size(); ++k) {
    const Value& index = args[k];
    switch (item.kind) {
      case Kind::kStrings: {
        const int64_t x = index_arg(index, item.strings.size());
        if (static_cast<size_t>(x) == item.strings.size()) {
          throw CallError{"reflect: slice index out of range"};
        }
        item = Value::of_string(item.strings[x]);
        break;
      }
      case Kind::kString: {
        const int64_t x = index_arg(index, item.str.size());
        if (static_cast<size_t>(x) == item.str.size()) {
          throw CallError{"reflect: string index out of range"};
        }
        Value byte = Value::of_kind(Kind::kUint8);
        byte.integer = static_cast<uint8_t>(item.str[x]);
        item = byte;
        break;
      }
      case Kind::kMap: {
        if (is_nil_or_invalid(index)) {
          throw CallError{"value is nil; should be of type string"};
        }
        if (index.kind != Kind::kString) {
          throw CallError{"value has type " + type_name(index) + "; should be string"};
        }
        auto it = item.map.find(index.str);
        item = Value::of_string(it == item.map.end() ? std::string() : it->second);
        break;
      }
      default:
        throw CallError{"can't index item of type " + item_type(item)};
    }
  }
  return item;
}

Value slice_value(const std::vector<Value>& args) {
  const Value& item = args[0];
  if (is_nil_or_invalid(item)) throw CallError{"slice of untyped nil"};
  const size_t count = args.size() - 1;
  if (count > 3) throw CallError{"too many slice indexes: " + std::to_string(count)};
  size_t length = 0;
  if (item.kind == Kind::kString) {
    if (count == 3) throw CallError{"cannot 3-index slice a string"};
    length = item.str.size();
  } else if (item.kind == Kind::kStrings) {
    length = item.strings.size();
  } else {
    throw CallError{"can't slice item of type " + item_type(item)};
  }
  int64_t idx[3] = {0, static_cast<int64_t>(length), static_cast<int64_t>(length)};
  for (size_t k = 0; k < count; ++k) idx[k] = index_arg(args[k + 1], length);
  for (size_t k = 0; k + 1 < (count == 3 ? 3 : 2); ++k) {
    if (idx[k] > idx[k + 1]) {
      throw CallError{"invalid slice index: " + std::to_string(idx[k]) + " > " +
                      std::to_string(idx[k + 1])};
    }
  }
  if (item.kind == Kind::kString) return Value::of_string(item.str.substr(idx[0], idx[1] - idx[0]));
  Value out = Value::of_strings({item.strings.begin() + idx[0], item.strings.begin() + idx[1]});
  out.is_nil = item.is_nil;
  return out;
}

Value length(const Value& item) {
  switch (item.kind) {
    case Kind::kString: return Value::of_int(static_cast<int64_t>(item.str.size()));
    case Kind::kStrings: return Value::of_int(static_cast<int64_t>(item.strings.size()));
    case Kind::kMap: return Value::of_int(static_cast<int64_t>(item.map.size()));
    case Kind::kInvalid: case Kind::kNil:
      throw CallError{"reflect: call of reflect.Value.Type on zero Value"};
    default:
      throw CallError{"len of type " + item_type(item)};
  }
}

}  // namespace logguard::tag
