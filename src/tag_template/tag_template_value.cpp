// Go's type names and template truth of the tag template's values
// (tag_template_value.h).
#include "tag_template_value.h"

namespace logguard::tag {

std::string type_name(const Value& v) {
  switch (v.kind) {
    case Kind::kInvalid: return "<invalid>";
    case Kind::kNil: return "<nil>";
    case Kind::kString: return "string";
    case Kind::kInt: return "int";
    case Kind::kUint8: return "uint8";
    case Kind::kFloat: return "float64";
    case Kind::kBool: return "bool";
    case Kind::kStrings: return "[]string";
    case Kind::kMap: return "map[string]string";
    case Kind::kTime: return "time.Time";
    case Kind::kInfo: return "*logger.Info";
  }
  return "?";
}

bool is_true(const Value& v) {
  switch (v.kind) {
    case Kind::kInvalid: case Kind::kNil: return false;
    case Kind::kString: return !v.str.empty();
    case Kind::kInt: case Kind::kUint8: return v.integer != 0;
    case Kind::kFloat: return v.real != 0;
    case Kind::kBool: return v.truth;
    case Kind::kStrings: return !v.strings.empty();
    case Kind::kMap: return !v.map.empty();
    case Kind::kTime: case Kind::kInfo: return true;
  }
  return false;
}

uint64_t footprint(const Value& v) {
  // A map entry is a tree node: two strings and the node's links and colour.
  constexpr uint64_t kMapEntry = 2 * sizeof(std::string) + 4 * sizeof(void*);
  uint64_t bytes = v.str.size();
  for (const auto& s : v.strings) bytes += sizeof(std::string) + s.size();
  for (const auto& [key, value] : v.map) bytes += kMapEntry + key.size() + value.size();
  return bytes;
}

}  // namespace logguard::tag
