// The functions a tag template can call: Docker's (moby
// daemon/logger/templates) and Go 1.19's builtins (text/template/funcs.go),
// each with its parameter types as Go's reflection sees them, so the
// evaluator types and counts arguments as Go does. Private to the tag template.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tag_template_value.h"

namespace logguard::tag {

// Parameter types of the functions, as Go's reflection sees them.
enum class Param {
  kString, kInt, kStrings,
  kAny,       // interface{}: invalid becomes nil
  kReflect,   // reflect.Value: the value as it is, invalid included
  kKeyMod,    // func(string) string: only nil fits
};
// Go's name of the parameter type, as its error messages print it.
std::string param_name(Param p);

// Functions report failures by throwing this; the evaluator prefixes
// "error calling NAME: ".
struct CallError {
  std::string message;
};

struct Function {
  std::vector<Param> params;  // for a variadic function the last is the element type
  bool variadic = false;
  std::function<Value(std::vector<Value>&)> call;
};

// True for the names Go's parser accepts as functions (Docker's and Go's builtins).
bool is_known_function(std::string_view name);
// Why a known function is refused, or nullopt if logguard implements it.
std::optional<std::string> unsupported_function(std::string_view name);

// nullptr if not a function (or not one logguard implements). and/or are in
// the table for their arity; the evaluator runs them itself, lazily.
const Function* find_function(std::string_view name);

}  // namespace logguard::tag
