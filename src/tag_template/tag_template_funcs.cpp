// The function table of the tag template (tag_template_funcs.h): each name
// bound to its Go signature and to its implementation in
// tag_template_strings, _compare, _collections and _print.
#include "tag_template_funcs.h"

#include <map>

#include "tag_template_collections.h"
#include "tag_template_compare.h"
#include "tag_template_print.h"
#include "tag_template_strings.h"

namespace logguard::tag {
namespace {

using P = Param;

const std::map<std::string_view, Function>& functions() {
  static const std::map<std::string_view, Function> kFunctions = {
      // Docker's (moby daemon/logger/templates/templates.go).
      {"json", {{P::kAny}, false, [](auto& a) { return Value::of_string(to_json(a[0])); }}},
      {"split", {{P::kString, P::kString}, false,
                 [](auto& a) { return Value::of_strings(split(a[0].str, a[1].str)); }}},
      {"join", {{P::kStrings, P::kString}, false,
                [](auto& a) { return Value::of_string(join(a[0].strings, a[1].str)); }}},
      {"title", {{P::kString}, false, [](auto& a) { return Value::of_string(title(a[0].str)); }}},
      {"lower", {{P::kString}, false,
                 [](auto& a) { return Value::of_string(to_lower_string(a[0].str)); }}},
      {"upper", {{P::kString}, false,
                 [](auto& a) { return Value::of_string(to_upper_string(a[0].str)); }}},
      {"pad", {{P::kString, P::kInt, P::kInt}, false,
               [](auto& a) {
                 return Value::of_string(pad(a[0].str, a[1].integer, a[2].integer));
               }}},
      {"truncate", {{P::kString, P::kInt}, false,
                    [](auto& a) { return Value::of_string(truncate(a[0].str, a[1].integer)); }}},
      // Go's builtins. and/or are evaluated lazily by the evaluator itself.
      {"and", {{P::kReflect, P::kReflect}, true, [](auto& a) { return a[0]; }}},
      {"or", {{P::kReflect, P::kReflect}, true, [](auto& a) { return a[0]; }}},
      {"not", {{P::kReflect}, false, [](auto& a) { return Value::of_bool(!is_true(a[0])); }}},
      {"len", {{P::kReflect}, false, [](auto& a) { return length(a[0]); }}},
      {"index", {{P::kReflect, P::kReflect}, true, [](auto& a) { return index_value(a); }}},
      {"slice", {{P::kReflect, P::kReflect}, true, [](auto& a) { return slice_value(a); }}},
      {"eq", {{P::kReflect, P::kReflect}, true,
              [](auto& a) {
                std::vector<Value> rest(a.begin() + 1, a.end());
                return Value::of_bool(eq_values(a[0], rest));
              }}},
      {"ne", {{P::kReflect, P::kReflect}, false,
              [](auto& a) { return Value::of_bool(!eq_values(a[0], {a[1]})); }}},
      {"lt", {{P::kReflect, P::kReflect}, false,
              [](auto& a) { return Value::of_bool(lt_values(a[0], a[1])); }}},
      {"le", {{P::kReflect, P::kReflect}, false,
              [](auto& a) { return Value::of_bool(le_values(a[0], a[1])); }}},
      {"gt", {{P::kReflect, P::kReflect}, false,
              [](auto& a) { return Value::of_bool(!le_values(a[0], a[1])); }}},
      {"ge", {{P::kReflect, P::kReflect}, false,
              [](auto& a) { return Value::of_bool(!lt_values(a[0], a[1])); }}},
      {"print", {{P::kAny}, true, [](auto& a) { return Value::of_string(sprint(a)); }}},
      {"println", {{P::kAny}, true, [](auto& a) { return Value::of_string(sprintln(a)); }}},
      {"html", {{P::kAny}, true,
                [](auto& a) { return Value::of_string(html_escape(eval_args(a))); }}},
      {"urlquery", {{P::kAny}, true,
                    [](auto& a) { return Value::of_string(query_escape(eval_args(a))); }}},
      {"call", {{P::kReflect, P::kReflect}, true,
                [](auto& a) -> Value {
                  if (a[0].kind == Kind::kInvalid || a[0].kind == Kind::kNil) {
                    throw CallError{"call of nil"};
                  }
                  throw CallError{"non-function of type " + type_name(a[0])};
                }}},
  };
  return kFunctions;
}

}  // namespace

bool is_known_function(std::string_view name) {
  return functions().count(name) > 0 || name == "printf" || name == "js";
}

std::optional<std::string> unsupported_function(std::string_view name) {
  if (name == "printf" || name == "js") {
    return "the function " + std::string(name) + " is not supported by logguard";
  }
  return std::nullopt;
}

const Function* find_function(std::string_view name) {
  auto it = functions().find(name);
  return it == functions().end() ? nullptr : &it->second;
}

std::string param_name(Param p) {
  switch (p) {
    case Param::kString: return "string";
    case Param::kInt: return "int";
    case Param::kStrings: return "[]string";
    case Param::kAny: return "interface {}";
    case Param::kReflect: return "reflect.Value";
    case Param::kKeyMod: return "func(string) string";
  }
  return "?";
}

}  // namespace logguard::tag
