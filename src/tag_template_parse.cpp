// The lexer and parser of TagTemplate: Go 1.19's text/template grammar
// (text/template/parse), so the same texts parse and fail to parse. Unlike
// Go's lexer, which runs as a goroutine, ours scans the whole input first; the
// parser meets a lexing error at the same token either way.
#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "tag_template_internal.h"

namespace logguard::tag {
namespace {

// ---- tokens ----

enum class Tok {
  kError, kBool, kChar, kCharConstant, kComplex, kAssign, kDeclare, kEOF, kField, kIdentifier,
  kLeftDelim, kLeftParen, kNumber, kPipe, kRawString, kRightDelim, kRightParen, kSpace, kString,
  kText, kVariable,
  // keywords
  kBlock, kBreak, kContinue, kDot, kDefine, kElse, kEnd, kIf, kNil, kRange, kTemplate, kWith,
};

bool is_keyword(Tok t) { return t >= Tok::kBlock; }

struct Token {
  Tok type;
  size_t pos;        // byte offset in the input
  std::string val;   // the token's text, or the message of a kError
};

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";
constexpr std::string_view kSpaceChars = " \t\r\n";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_ascii_alnum(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// "{{- " and " -}}": the marker needs a space on its inner side, so "{{-3}}" is a number.
bool has_left_trim_marker(std::string_view s) {
  return s.size() >= 2 && s[0] == '-' && is_space(s[1]);
}
bool has_right_trim_marker(std::string_view s) {
  return s.size() >= 2 && is_space(s[0]) && s[1] == '-';
}

std::optional<Tok> keyword(std::string_view word) {
  static const std::map<std::string_view, Tok> kKeywords = {
      {"block", Tok::kBlock}, {"break", Tok::kBreak}, {"continue", Tok::kContinue},
      {"define", Tok::kDefine}, {"else", Tok::kElse}, {"end", Tok::kEnd}, {"if", Tok::kIf},
      {"range", Tok::kRange}, {"nil", Tok::kNil}, {"template", Tok::kTemplate},
      {"with", Tok::kWith}};
  auto it = kKeywords.find(word);
  if (it == kKeywords.end()) return std::nullopt;
  return it->second;
}

std::string describe_rune(char c) {
  char buf[32];
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "U+%04X '%c'", u, c);
  } else {
    std::snprintf(buf, sizeof buf, "U+%04X", u);
  }
  return buf;
}

constexpr std::string_view kNonAscii =
    "non-ASCII characters outside quotes in an action are not supported by logguard";

// ---- lexer ----

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  std::vector<Token> run() {
    using State = bool (Lexer::*)();
    State state = &Lexer::lex_text;
    next_state_ = state;
    while (next_state_ != nullptr) {
      State current = next_state_;
      next_state_ = nullptr;
      (this->*current)();
    }
    return std::move(items_);
  }

 private:
  using State = bool (Lexer::*)();

  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool at_eof() const { return pos_ >= in_.size(); }
  std::string_view rest() const { return in_.substr(pos_); }

  void emit(Tok t) {
    items_.push_back({t, start_, std::string(in_.substr(start_, pos_ - start_))});
    start_ = pos_;
  }
  void ignore() { start_ = pos_; }
  bool fail(std::string message) {
    items_.push_back({Tok::kError, start_, std::move(message)});
    next_state_ = nullptr;
    return false;
  }
  bool go(State s) {
    next_state_ = s;
    return true;
  }
  bool accept(std::string_view valid) {
    if (!at_eof() && valid.find(in_[pos_]) != std::string_view::npos) {
      ++pos_;
      return true;
    }
    return false;
  }
  void accept_run(std::string_view valid) { while (accept(valid)) {} }

  // The right delimiter, with or without a trim marker, starts at pos_.
  bool at_right_delim(bool* trim) const {
    if (has_right_trim_marker(rest()) && rest().substr(2).starts_with(kRightDelim)) {
      *trim = true;
      return true;
    }
    *trim = false;
    return rest().starts_with(kRightDelim);
  }

  bool at_terminator() const {
    if (at_eof()) return true;
    const char c = in_[pos_];
    if (is_space(c)) return true;
    switch (c) {
      case '.': case ',': case '|': case ':': case ')': case '(':
        return true;
    }
    return rest().starts_with(kRightDelim);
  }

  bool lex_text() {
    const size_t x = in_.find(kLeftDelim, pos_);
    if (x == std::string_view::npos) {
      pos_ = in_.size();
      if (pos_ > start_) emit(Tok::kText);
      emit(Tok::kEOF);
      return true;
    }
    pos_ = x;
    size_t trim = 0;
    if (has_left_trim_marker(in_.substr(pos_ + kLeftDelim.size()))) {
      const std::string_view before = in_.substr(start_, pos_ - start_);
      const size_t kept = before.find_last_not_of(kSpaceChars);
      trim = before.size() - (kept == std::string_view::npos ? 0 : kept + 1);
    }
    pos_ -= trim;
    if (pos_ > start_) emit(Tok::kText);
    pos_ += trim;
    ignore();
    return go(&Lexer::lex_left_delim);
  }

  bool lex_left_delim() {
    pos_ += kLeftDelim.size();
    const bool trim = has_left_trim_marker(rest());
    const size_t after_marker = trim ? 2 : 0;
    if (in_.substr(pos_ + after_marker).starts_with("/*")) {
      pos_ += after_marker;
      ignore();
      return go(&Lexer::lex_comment);
    }
    emit(Tok::kLeftDelim);
    pos_ += after_marker;
    ignore();
    paren_depth_ = 0;
    return go(&Lexer::lex_inside_action);
  }

  bool lex_comment() {
    pos_ += 2;
    const size_t end = in_.find("*/", pos_);
    if (end == std::string_view::npos) return fail("unclosed comment");
    pos_ = end + 2;
    bool trim = false;
    if (!at_right_delim(&trim)) return fail("comment ends before closing delimiter");
    if (trim) pos_ += 2;
    pos_ += kRightDelim.size();
    if (trim) skip_leading_space();
    ignore();
    return go(&Lexer::lex_text);
  }

  void skip_leading_space() {
    while (!at_eof() && is_space(in_[pos_])) ++pos_;
  }

  bool lex_right_delim() {
    const bool trim = has_right_trim_marker(rest());
    if (trim) {
      pos_ += 2;
      ignore();
    }
    pos_ += kRightDelim.size();
    emit(Tok::kRightDelim);
    if (trim) {
      skip_leading_space();
      ignore();
    }
    return go(&Lexer::lex_text);
  }

  bool lex_inside_action() {
    bool trim = false;
    if (at_right_delim(&trim)) {
      if (paren_depth_ == 0) return go(&Lexer::lex_right_delim);
      return fail("unclosed left paren");
    }
    if (at_eof()) return fail("unclosed action");
    const char c = in_[pos_];
    if (is_space(c)) return go(&Lexer::lex_space);
    if (is_non_ascii(c)) return fail(std::string(kNonAscii));
    ++pos_;
    switch (c) {
      case '=': emit(Tok::kAssign); break;
      case ':':
        if (at_eof() || in_[pos_] != '=') return fail("expected :=");
        ++pos_;
        emit(Tok::kDeclare);
        break;
      case '|': emit(Tok::kPipe); break;
      case '"': return go(&Lexer::lex_quote);
      case '`': return go(&Lexer::lex_raw_quote);
      case '$': return go(&Lexer::lex_variable);
      case '\'': return go(&Lexer::lex_char);
      case '(':
        emit(Tok::kLeftParen);
        ++paren_depth_;
        break;
      case ')':
        emit(Tok::kRightParen);
        if (--paren_depth_ < 0) return fail("unexpected right paren U+0029 ')'");
        break;
      default:
        if (c == '.' && !at_eof() && !(in_[pos_] >= '0' && in_[pos_] <= '9')) {
          return go(&Lexer::lex_field);
        }
        if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
          --pos_;
          return go(&Lexer::lex_number);
        }
        if (is_ascii_alnum(c)) {
          --pos_;
          return go(&Lexer::lex_identifier);
        }
        if (c > 0x20 && c < 0x7f) {
          emit(Tok::kChar);
          break;
        }
        return fail("unrecognized character in action: " + describe_rune(c));
    }
    return go(&Lexer::lex_inside_action);
  }

  bool lex_space() {
    size_t spaces = 0;
    while (!at_eof() && is_space(in_[pos_])) {
      ++pos_;
      ++spaces;
    }
    // " -}}": the last space belongs to the trim marker.
    if (has_right_trim_marker(in_.substr(pos_ - 1)) &&
        in_.substr(pos_ - 1 + 2).starts_with(kRightDelim)) {
      --pos_;
      if (spaces == 1) return go(&Lexer::lex_right_delim);
    }
    emit(Tok::kSpace);
    return go(&Lexer::lex_inside_action);
  }

  bool lex_identifier() {
    while (!at_eof() && is_ascii_alnum(in_[pos_])) ++pos_;
    if (!at_eof() && is_non_ascii(in_[pos_])) return fail(std::string(kNonAscii));
    if (!at_terminator()) return fail("bad character " + describe_rune(in_[pos_]));
    const std::string_view word = in_.substr(start_, pos_ - start_);
    if (auto k = keyword(word)) {
      emit(*k);
    } else if (word == "true" || word == "false") {
      emit(Tok::kBool);
    } else {
      emit(Tok::kIdentifier);
    }
    return go(&Lexer::lex_inside_action);
  }

  bool lex_field() { return lex_field_or_variable(Tok::kField); }

  bool lex_variable() {
    if (at_terminator()) {
      emit(Tok::kVariable);  // "$" alone
      return go(&Lexer::lex_inside_action);
    }
    return lex_field_or_variable(Tok::kVariable);
  }

  bool lex_field_or_variable(Tok type) {
    if (at_terminator()) {
      emit(type == Tok::kVariable ? Tok::kVariable : Tok::kDot);
      return go(&Lexer::lex_inside_action);
    }
    while (!at_eof() && is_ascii_alnum(in_[pos_])) ++pos_;
    if (!at_eof() && is_non_ascii(in_[pos_])) return fail(std::string(kNonAscii));
    if (!at_terminator()) return fail("bad character " + describe_rune(in_[pos_]));
    emit(type);
    return go(&Lexer::lex_inside_action);
  }

  // Quoted strings and character constants end at their closing quote; a
  // backslash escapes the next byte; a newline or the end is an error.
  bool lex_quoted(char quote, Tok type, const char* unterminated) {
    while (true) {
      if (at_eof()) return fail(unterminated);
      const char c = in_[pos_++];
      if (c == '\\') {
        if (at_eof() || in_[pos_] == '\n') return fail(unterminated);
        ++pos_;
      } else if (c == '\n') {
        return fail(unterminated);
      } else if (c == quote) {
        break;
      }
    }
    emit(type);
    return go(&Lexer::lex_inside_action);
  }
  bool lex_quote() { return lex_quoted('"', Tok::kString, "unterminated quoted string"); }
  bool lex_char() {
    return lex_quoted('\'', Tok::kCharConstant, "unterminated character constant");
  }

  bool lex_raw_quote() {
    const size_t end = in_.find('`', pos_);
    if (end == std::string_view::npos) return fail("unterminated raw quoted string");
    pos_ = end + 1;
    emit(Tok::kRawString);
    return go(&Lexer::lex_inside_action);
  }

  bool lex_number() {
    const auto bad = [this] {
      return fail("bad number syntax: " + quote(in_.substr(start_, pos_ - start_)));
    };
    if (!scan_number()) return bad();
    if (peek() == '+' || peek() == '-') {
      // A complex constant: 1+2i.
      if (!scan_number() || in_[pos_ - 1] != 'i') return bad();
      emit(Tok::kComplex);
    } else {
      emit(Tok::kNumber);
    }
    return go(&Lexer::lex_inside_action);
  }

  bool scan_number() {
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i");
    if (!at_eof() && (is_ascii_alnum(in_[pos_]) || is_non_ascii(in_[pos_]))) {
      ++pos_;
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t start_ = 0;
  int paren_depth_ = 0;
  std::vector<Token> items_;
  State next_state_ = nullptr;
};

// ---- literals ----

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.UnquoteChar: decodes one character or escape at s[i] of a
// literal quoted with `quote`. Sets *multibyte when the value is a rune to
// encode as UTF-8 (rather than a byte from \x or octal).
bool unquote_char(std::string_view s, size_t& i, char quote, char32_t* value, bool* multibyte) {
  const char c = s[i];
  *multibyte = false;
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (is_non_ascii(c)) {
    auto [r, size] = decode_rune(s, i);
    i += size;
    *value = r;
    *multibyte = true;
    return true;
  }
  if (c != '\\') {
    *value = static_cast<unsigned char>(c);
    ++i;
    return true;
  }
  if (i + 1 >= s.size()) return false;
  const char e = s[i + 1];
  i += 2;
  switch (e) {
    case 'a': *value = '\a'; return true;
    case 'b': *value = '\b'; return true;
    case 'f': *value = '\f'; return true;
    case 'n': *value = '\n'; return true;
    case 'r': *value = '\r'; return true;
    case 't': *value = '\t'; return true;
    case 'v': *value = '\v'; return true;
    case '\\': *value = '\\'; return true;
    case '\'': case '"':
      if (e != quote) return false;
      *value = static_cast<unsigned char>(e);
      return true;
    case 'x': case 'u': case 'U': {
      const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (i + n > s.size()) return false;
      char32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        const int d = hex_digit(s[i + k]);
        if (d < 0) return false;
        v = v * 16 + static_cast<char32_t>(d);
      }
      i += n;
      if (e == 'x') {
        *value = v;
        return true;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
      *value = v;
      *multibyte = true;
      return true;
    }
    default:
      if (e >= '0' && e <= '7') {
        if (i + 2 > s.size()) return false;
        char32_t v = static_cast<char32_t>(e - '0');
        for (size_t k = 0; k < 2; ++k) {
          const char d = s[i + k];
          if (d < '0' || d > '7') return false;
          v = v * 8 + static_cast<char32_t>(d - '0');
        }
        if (v > 255) return false;
        i += 2;
        *value = v;
        return true;
      }
      return false;
  }
}

void append_unquoted(std::string& out, char32_t value, bool multibyte) {
  if (value < 0x80 || !multibyte) {
    out += static_cast<char>(value);
  } else {
    append_rune(out, value);
  }
}

// Go's strconv.Unquote of a "..." or `...` token.
std::optional<std::string> unquote(std::string_view token) {
  if (token.size() < 2) return std::nullopt;
  const std::string_view body = token.substr(1, token.size() - 2);
  if (token[0] == '`') {
    std::string out;
    for (char c : body) {
      if (c != '\r') out += c;
    }
    return out;
  }
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    char32_t value = 0;
    bool multibyte = false;
    if (body[i] == '\n' || !unquote_char(body, i, '"', &value, &multibyte)) return std::nullopt;
    append_unquoted(out, value, multibyte);
  }
  return out;
}

// Go's strconv.ParseUint(text, 0, 64) without underscores (refused earlier).
std::optional<uint64_t> parse_uint_base0(std::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_int_base0(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto magnitude = parse_uint_base0(s);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (negative) {
    if (*magnitude > kLimit) return std::nullopt;
    return static_cast<int64_t>(0 - *magnitude);
  }
  if (*magnitude >= kLimit) return std::nullopt;
  return static_cast<int64_t>(*magnitude);
}

// Go's strconv.ParseFloat for decimal text (hex floats are refused earlier).
std::optional<double> parse_float(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // Decimal syntax only: digits [. digits] [e [+-] digits], one digit at least.
  size_t i = 0, mantissa_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

bool fits_int64(double f) { return f >= -9223372036854775808.0 && f < 9223372036854775808.0; }
bool fits_uint64(double f) { return f >= 0 && f < 18446744073709551616.0; }

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
        while (!pipe->source.empty() && is_space(pipe->source.back())) pipe->source.pop_back();
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
  return Parser(text, Lexer(text).run()).parse_template();
}

}  // namespace logguard::tag
