// The parse tree of the tag template and the parser that builds it: Go 1.19's
// text/template/parse grammar, so the same texts parse and fail to parse, with
// Go's messages. Names follow Go's parse package so the two read side by side.
// The parser also refuses, as TemplateError, what logguard cannot execute
// exactly (define/template/block, printf, complex numbers, deep nesting, ...).
// Private to the tag template.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/tag_template/tag_template.h"

namespace logguard::tag {

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

// Parses Go template text into a kList of statements. Throws TemplateError.
std::unique_ptr<Node> parse(std::string_view text);

struct Template::Tree {
  std::unique_ptr<Node> root;
};

}  // namespace logguard::tag
