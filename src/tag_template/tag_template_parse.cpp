// The parser of the tag template (tag_template_tree.h): recursive descent
// over the lexer's tokens, as Go's text/template/parse does it.
#include <algorithm>
#include <string>
#include <vector>

#include "tag_template_funcs.h"
#include "tag_template_lex.h"
#include "tag_template_strconv.h"
#include "tag_template_tree.h"

namespace logguard::tag {
namespace {

// ---- parser ----

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)), multiline_(text.find('\n') != text.npos) {}

  std::unique_ptr<Node> parse_template() {
    auto root = std::make_unique<Node>(NodeType::kList);
    while (peek().type != Tok::kEOF) {
      auto n = text_or_action();
      if (n->type == NodeType::kList) {  // {{end}} or {{else}} outside a control
        error("unexpected " + n->source);
      }
      root->children.push_back(std::move(n));
    }
    return root;
  }

 private:
  // ---- token stream ----
  const Token& next() {
    last_ = index_;
    return tokens_[index_ < tokens_.size() - 1 ? index_++ : index_];
  }
  const Token& peek() const { return tokens_[index_]; }
  void backup() { index_ = last_; }
  const Token& next_non_space() {
    while (peek().type == Tok::kSpace) next();
    return next();
  }
  const Token& peek_non_space() {
    while (peek().type == Tok::kSpace) next();
    return peek();
  }

  // ---- errors ----
  int line_of(size_t pos) const {
    return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + pos, '\n'));
  }
  [[noreturn]] void error(const std::string& message) {
    const Token& at = tokens_[std::min(last_, tokens_.size() - 1)];
    if (multiline_) throw TemplateError("line " + std::to_string(line_of(at.pos)) + ": " + message);
    throw TemplateError(message);
  }
  [[noreturn]] void unsupported(const std::string& what) {
    error(what + " is not supported by logguard");
  }
  static std::string describe(const Token& t) {
    if (t.type == Tok::kEOF) return "EOF";
    if (t.type == Tok::kError) return t.val;
    if (is_keyword(t.type)) return "<" + t.val + ">";
    if (t.val.size() > 10) return quote(t.val.substr(0, 10)) + "...";
    return quote(t.val);
  }
  [[noreturn]] void unexpected(const Token& t, const std::string& context) {
    if (t.type == Tok::kError) error(t.val);
    error("unexpected " + describe(t) + " in " + context);
  }
  const Token& expect(Tok type, const std::string& context) {
    const Token& t = next_non_space();
    if (t.type != type) unexpected(t, context);
    return t;
  }

  std::unique_ptr<Node> leaf(NodeType type, const Token& t) {
    return std::make_unique<Node>(type, t.val);
  }
  std::string source_between(size_t from, size_t to) const {
    return std::string(text_.substr(from, to - from));
  }
  size_t end_of_last() const { return tokens_[last_].pos + tokens_[last_].val.size(); }

  // Go nests without limit; we parse and execute by recursion on a thread's
  // stack, so a tag nesting parentheses or controls deeper than any real one
  // is refused rather than allowed to overflow it.
  static constexpr int kMaxNesting = 100;
  struct Nesting {
    explicit Nesting(Parser& p) : parser(p) {
      if (++parser.nesting_ > kMaxNesting) {
        parser.unsupported("nesting deeper than " + std::to_string(kMaxNesting) + " levels");
      }
    }
    ~Nesting() { --parser.nesting_; }
    Parser& parser;
  };

  // ---- statements ----

  // A statement; {{end}} and {{else}} come back as kList nodes whose source
  // says which, for the caller to handle.
  std::unique_ptr<Node> text_or_action() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kText: {
        auto n = leaf(NodeType::kText, t);
        n->text = t.val;
        return n;
      }
      case Tok::kLeftDelim:
        return action();
      default:
        unexpected(t, "input");
    }
  }

  std::unique_ptr<Node> action() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kBlock: unsupported("{{block}}");
      case Tok::kDefine: unsupported("{{define}}");
      case Tok::kTemplate: unsupported("{{template}}");
      case Tok::kBreak: return loop_control(NodeType::kBreak, "{{break}}");
      case Tok::kContinue: return loop_control(NodeType::kContinue, "{{continue}}");
      case Tok::kElse: return else_control();
      case Tok::kEnd: {
        expect(Tok::kRightDelim, "end");
        return std::make_unique<Node>(NodeType::kList, "{{end}}");
      }
      case Tok::kIf: return control(NodeType::kIf, "if");
      case Tok::kRange: return control(NodeType::kRange, "range");
      case Tok::kWith: return control(NodeType::kWith, "with");
      default: break;
    }
    backup();
    auto n = std::make_unique<Node>(NodeType::kAction);
    n->pipe = pipeline("command", Tok::kRightDelim);
    n->source = "{{" + n->pipe->source + "}}";
    return n;
  }

  std::unique_ptr<Node> loop_control(NodeType type, const std::string& name) {
    const Token& t = next_non_space();
    if (t.type != Tok::kRightDelim) unexpected(t, name);
    if (range_depth_ == 0) error(name + " outside {{range}}");
    return std::make_unique<Node>(type, name);
  }

  std::unique_ptr<Node> else_control() {
    if (peek_non_space().type == Tok::kIf) {  // "else if": the if stays for the caller
      return std::make_unique<Node>(NodeType::kList, "{{else}}");
    }
    expect(Tok::kRightDelim, "else");
    return std::make_unique<Node>(NodeType::kList, "{{else}}");
  }

  // Statements up to {{end}} or {{else}}; returns which one ended them.
  std::unique_ptr<Node> item_list(std::string* ended_by) {
    auto list = std::make_unique<Node>(NodeType::kList);
    while (peek_non_space().type != Tok::kEOF) {
      auto n = text_or_action();
      if (n->type == NodeType::kList) {
        *ended_by = n->source;
        return list;
      }
      list->children.push_back(std::move(n));
    }
    error("unexpected EOF");
  }

  std::unique_ptr<Node> control(NodeType type, const std::string& context) {
    const Nesting nesting(*this);
    const size_t vars_before = vars_.size();
    auto n = std::make_unique<Node>(type, "{{" + context + "}}");
    n->pipe = pipeline(context, Tok::kRightDelim);
    if (type == NodeType::kRange) ++range_depth_;
    std::string ended_by;
    n->list = item_list(&ended_by);
    if (type == NodeType::kRange) --range_depth_;
    if (ended_by == "{{else}}") {
      if (type == NodeType::kIf && peek().type == Tok::kIf) {
        next();
        n->else_list = std::make_unique<Node>(NodeType::kList);
        n->else_list->children.push_back(control(NodeType::kIf, "if"));
      } else {
        std::string else_ended_by;
        n->else_list = item_list(&else_ended_by);
        if (else_ended_by != "{{end}}") error("expected end; found " + else_ended_by);
      }
    }
    vars_.resize(vars_before);
    return n;
  }

  // ---- pipelines ----

  std::unique_ptr<Node> pipeline(const std::string& context, Tok end) {
    const Nesting nesting(*this);
    const size_t start = peek_non_space().pos;
    auto pipe = std::make_unique<Node>(NodeType::kPipe);
    declarations(*pipe, context);
    while (true) {
      const Token& t = next_non_space();
      if (t.type == end) {
        check_pipeline(*pipe, context);
        pipe->source = source_between(start, t.pos);
        pipe->source.erase(pipe->source.find_last_not_of(kSpaceChars) + 1);
        return pipe;
      }
      switch (t.type) {
        case Tok::kBool: case Tok::kCharConstant: case Tok::kComplex: case Tok::kDot:
        case Tok::kField: case Tok::kIdentifier: case Tok::kNumber: case Tok::kNil:
        case Tok::kRawString: case Tok::kString: case Tok::kVariable: case Tok::kLeftParen:
          backup();
          pipe->children.push_back(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  }

  // "$x :=", "$x =", and for range "$i, $e :=".
  void declarations(Node& pipe, const std::string& context) {
    while (peek_non_space().type == Tok::kVariable) {
      const size_t before = index_;
      const Token& v = next();
      const Token& after = peek_non_space();
      if (after.type == Tok::kAssign || after.type == Tok::kDeclare) {
        pipe.is_assign = after.type == Tok::kAssign;
        next_non_space();
        pipe.decls.push_back(v.val);
        vars_.push_back(v.val);
        return;
      }
      if (after.type == Tok::kChar && after.val == ",") {
        next_non_space();
        pipe.decls.push_back(v.val);
        vars_.push_back(v.val);
        if (context == "range" && pipe.decls.size() < 2) {
          const Tok following = peek_non_space().type;
          if (following == Tok::kVariable || following == Tok::kRightDelim ||
              following == Tok::kRightParen) {
            continue;
          }
          error("range can only initialize variables");
        }
        error("too many declarations in " + context);
      }
      index_ = before;  // a plain variable operand
      return;
    }
  }

  void check_pipeline(const Node& pipe, const std::string& context) {
    if (pipe.children.empty()) error("missing value for " + context);
    for (size_t i = 1; i < pipe.children.size(); ++i) {
      switch (pipe.children[i]->children[0]->type) {
        case NodeType::kBool: case NodeType::kDot: case NodeType::kNil: case NodeType::kNumber:
        case NodeType::kString:
          error("non executable command in pipeline stage " + std::to_string(i + 1));
        default:
          break;
      }
    }
  }

  std::unique_ptr<Node> command() {
    auto cmd = std::make_unique<Node>(NodeType::kCommand);
    const size_t start = peek_non_space().pos;
    size_t end = start;
    while (true) {
      peek_non_space();
      if (auto operand_node = operand()) {
        end = end_of_last();
        cmd->children.push_back(std::move(operand_node));
      }
      const Token& t = next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        backup();
      } else if (t.type != Tok::kPipe) {
        unexpected(t, "operand");
      }
      break;
    }
    if (cmd->children.empty()) error("empty command");
    cmd->source = source_between(start, end);
    return cmd;
  }

  std::unique_ptr<Node> operand() {
    const size_t start = peek().pos;
    auto node = term();
    if (!node) return nullptr;
    if (peek().type != Tok::kField) return node;
    std::vector<std::string> fields;
    while (peek().type == Tok::kField) fields.push_back(next().val.substr(1));
    const std::string source = source_between(start, end_of_last());
    switch (node->type) {
      case NodeType::kField: case NodeType::kVariable:
        node->idents.insert(node->idents.end(), fields.begin(), fields.end());
        node->source = source;
        return node;
      case NodeType::kBool: case NodeType::kString: case NodeType::kNumber: case NodeType::kNil:
      case NodeType::kDot:
        error("unexpected . after term " + quote(node->source));
      default: {
        auto chain = std::make_unique<Node>(NodeType::kChain, source);
        chain->idents = std::move(fields);
        chain->pipe = std::move(node);
        return chain;
      }
    }
  }

  std::unique_ptr<Node> term() {
    const Token& t = next_non_space();
    switch (t.type) {
      case Tok::kIdentifier: {
        if (!is_known_function(t.val)) error("function " + quote(t.val) + " not defined");
        if (auto why = unsupported_function(t.val)) error(*why);
        auto n = leaf(NodeType::kIdentifier, t);
        n->text = t.val;
        return n;
      }
      case Tok::kDot: return leaf(NodeType::kDot, t);
      case Tok::kNil: return leaf(NodeType::kNil, t);
      case Tok::kVariable: return variable(t);
      case Tok::kField: {
        auto n = leaf(NodeType::kField, t);
        n->idents.push_back(t.val.substr(1));
        return n;
      }
      case Tok::kBool: {
        auto n = leaf(NodeType::kBool, t);
        n->truth = t.val == "true";
        return n;
      }
      case Tok::kCharConstant: case Tok::kComplex: case Tok::kNumber:
        return number(t);
      case Tok::kLeftParen: {
        const size_t open = t.pos;
        auto pipe = pipeline("parenthesized pipeline", Tok::kRightParen);
        pipe->source = source_between(open, end_of_last());
        return pipe;
      }
      case Tok::kString: case Tok::kRawString: {
        auto text = unquote(t.val);
        if (!text) error("invalid syntax");
        auto n = leaf(NodeType::kString, t);
        n->text = std::move(*text);
        return n;
      }
      default:
        backup();
        return nullptr;
    }
  }

  std::unique_ptr<Node> variable(const Token& t) {
    auto n = leaf(NodeType::kVariable, t);
    n->idents.push_back(t.val);
    if (std::find(vars_.begin(), vars_.end(), t.val) == vars_.end()) {
      error("undefined variable " + quote(t.val));
    }
    return n;
  }

  std::unique_ptr<Node> number(const Token& t) {
    auto n = leaf(NodeType::kNumber, t);
    Number& num = n->number;
    const std::string& text = t.val;
    if (t.type == Tok::kComplex) unsupported("the complex constant " + text);
    if (t.type == Tok::kCharConstant) {
      size_t i = 1;
      char32_t value = 0;
      bool multibyte = false;
      if (text.size() < 2 || !unquote_char(text, i, '\'', &value, &multibyte)) {
        error("invalid syntax");
      }
      if (text.substr(i) != "'") error("malformed character constant: " + text);
      num.is_int = num.is_uint = num.is_float = true;
      num.int_value = value;
      num.uint_value = value;
      num.float_value = value;
      return n;
    }
    if (text.back() == 'i') unsupported("the imaginary constant " + text);
    if (text.find('_') != std::string::npos) unsupported("the number " + text + " (with '_')");
    const bool hex = text.find_first_of("xX") != std::string::npos;
    if (hex && text.find_first_of("pP") != std::string::npos) {
      unsupported("the hexadecimal float " + text);
    }
    n->float_literal = !hex && text.find_first_of(".eE") != std::string::npos;
    if (auto u = parse_uint_base0(text)) {
      num.is_uint = true;
      num.uint_value = *u;
    }
    if (auto i = parse_int_base0(text)) {
      num.is_int = true;
      num.int_value = *i;
      if (*i == 0) {
        num.is_uint = true;
        num.uint_value = 0;
      }
    }
    if (num.is_int) {
      num.is_float = true;
      num.float_value = static_cast<double>(num.int_value);
    } else if (num.is_uint) {
      num.is_float = true;
      num.float_value = static_cast<double>(num.uint_value);
    } else if (auto f = parse_float(text)) {
      if (text.find_first_of(".eEpP") == std::string::npos) {
        error("integer overflow: " + quote(text));
      }
      num.is_float = true;
      num.float_value = *f;
      if (fits_int64(*f) && static_cast<double>(static_cast<int64_t>(*f)) == *f) {
        num.is_int = true;
        num.int_value = static_cast<int64_t>(*f);
      }
      if (fits_uint64(*f) && static_cast<double>(static_cast<uint64_t>(*f)) == *f) {
        num.is_uint = true;
        num.uint_value = static_cast<uint64_t>(*f);
      }
    }
    if (!num.is_int && !num.is_uint && !num.is_float) {
      error("illegal number syntax: " + quote(text));
    }
    return n;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  size_t last_ = 0;  // the token next() returned last
  bool multiline_;
  std::vector<std::string> vars_ = {"$"};
  int range_depth_ = 0;
  int nesting_ = 0;
};

}  // namespace

std::unique_ptr<Node> parse(std::string_view text) {
  return Parser(text, lex(text)).parse_template();
}

}  // namespace logguard::tag
