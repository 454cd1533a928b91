// Internals of TagTemplate shared by its parser (tag_template_parse.cpp), its
// evaluator (tag_template_exec.cpp) and its functions (tag_template_funcs.cpp):
// the parse tree, the values a template computes with, and the function table.
// Names follow Go's text/template so the two can be read side by side.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/tag_template.h"

namespace logguard::tag {

// ---- parse tree ----

enum class NodeType {
  kList, kText, kAction, kIf, kRange, kWith, kBreak, kContinue,  // statements
  kPipe, kCommand,                                                // pipelines
  kField, kChain, kVariable, kIdentifier, kDot, kNil, kBool, kNumber, kString,  // operands
};

// A number literal with Go's "ideal constant" views of it.
struct Number {
  bool is_int = false, is_uint = false, is_float = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double float_value = 0;
};

struct Node {
  NodeType type;
  std::string source;  // the node as written, for error messages ("<.Nope>")
  std::string text;    // kText: bytes; kString: unquoted; kIdentifier: name
  // kField: names after '.'; kVariable: "$x" then names; kChain: names after the term.
  std::vector<std::string> idents;
  // kList: statements; kPipe: commands; kCommand: words (function or field, then arguments).
  std::vector<std::unique_ptr<Node>> children;
  std::unique_ptr<Node> pipe;                   // kAction/kIf/kRange/kWith; kChain: the term
  std::unique_ptr<Node> list, else_list;        // kIf/kRange/kWith
  std::vector<std::string> decls;               // kPipe: variables declared or assigned
  bool is_assign = false;                       // kPipe: '=' rather than ':='
  bool truth = false;                           // kBool
  Number number;                                // kNumber
  // kNumber: a float literal (has . e E) rather than an integer one; decides
  // float64 vs int when the constant is used untyped.
  bool float_literal = false;

  explicit Node(NodeType t, std::string src = {}) : type(t), source(std::move(src)) {}
};

// Parses Go template text. Throws TemplateError.
std::unique_ptr<Node> parse(std::string_view text);

// True for the names Go's parser accepts as functions (Docker's and Go's builtins).
bool is_known_function(std::string_view name);
// Why a known function is refused, or nullopt if logguard implements it.
std::optional<std::string> unsupported_function(std::string_view name);

// ---- values ----

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

// Go's fmt %v of one value (fmt.Fprint of a single operand). Throws
// TemplateError for values logguard cannot print exactly.
std::string format_value(const Value& v);

// Go's template truth: non-empty, non-zero, true, any struct.
bool is_true(const Value& v);

// ---- functions ----

// Parameter types of the functions, as Go's reflection sees them.
enum class Param {
  kString, kInt, kStrings,
  kAny,       // interface{}: invalid becomes nil
  kReflect,   // reflect.Value: the value as it is, invalid included
  kKeyMod,    // func(string) string: only nil fits
};
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

// nullptr if not a function (or not one logguard implements).
const Function* find_function(std::string_view name);

// ---- Go text helpers ----

// Go's utf8.DecodeRuneInString: the rune at s[i] and its length; (0xFFFD, 1)
// for an invalid byte.
std::pair<char32_t, size_t> decode_rune(std::string_view s, size_t i);
void append_rune(std::string& out, char32_t r);
// Go's strconv.Quote-like form used in messages ("%q" of a string).
std::string quote(std::string_view s);

}  // namespace logguard::tag

namespace logguard {
struct TagTemplate::Tree {
  std::unique_ptr<tag::Node> root;
};
}  // namespace logguard
