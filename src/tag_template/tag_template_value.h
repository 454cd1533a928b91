// The values a tag template computes with: the few Go types its data and
// functions produce (string, int, uint8, float64, bool, []string,
// map[string]string, time.Time, *logger.Info, nil and Go's invalid value),
// with Go's names for them and Go's template truth. How they print is
// tag_template_print.h. Private to the tag template.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace logguard::tag {

// The Go types a tag template can meet. kInvalid is Go's invalid reflect.Value
// (a missing map key read as a field: prints "<no value>"); kNil is a nil
// interface{} (what a function gets for nil).
enum class Kind {
  kInvalid, kNil, kString, kInt, kUint8, kFloat, kBool, kStrings, kMap, kTime, kInfo,
};

using StringMap = std::map<std::string, std::string>;

struct Value {
  Kind kind = Kind::kInvalid;
  std::string str;                  // kString; kTime: the RFC 3339 text
  int64_t integer = 0;              // kInt, kUint8
  double real = 0;                  // kFloat
  bool truth = false;               // kBool
  std::vector<std::string> strings; // kStrings
  StringMap map;                    // kMap
  bool is_nil = false;              // kStrings/kMap: Go's nil slice or map (JSON null)

  static Value of_kind(Kind k) {
    Value v;
    v.kind = k;
    return v;
  }
  static Value of_string(std::string s) {
    Value v = of_kind(Kind::kString);
    v.str = std::move(s);
    return v;
  }
  static Value of_int(int64_t i) {
    Value v = of_kind(Kind::kInt);
    v.integer = i;
    return v;
  }
  static Value of_bool(bool b) {
    Value v = of_kind(Kind::kBool);
    v.truth = b;
    return v;
  }
  static Value of_strings(std::vector<std::string> s) {
    Value v = of_kind(Kind::kStrings);
    v.strings = std::move(s);
    return v;
  }
  static Value of_map(StringMap m) {
    Value v = of_kind(Kind::kMap);
    v.map = std::move(m);
    return v;
  }
};

// Go's name of the value's type, as its error messages print it.
std::string type_name(const Value& v);

// Go's template truth: non-empty, non-zero, true, any struct.
bool is_true(const Value& v);

// The memory the value holds: its bytes, and for each string of a list or
// map the string object around them (what a split into one-byte pieces
// costs is mostly that).
uint64_t footprint(const Value& v);

}  // namespace logguard::tag
