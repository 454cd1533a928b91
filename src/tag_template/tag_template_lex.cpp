// The lexer of the tag template (tag_template_lex.h): a state machine over
// the input as Go's lexer is, each state a member function naming the next.
#include "tag_template_lex.h"

#include <cstdio>
#include <map>
#include <optional>

#include "tag_template_strconv.h"

namespace logguard::tag {
namespace {

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";

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
    next_state_ = &Lexer::lex_text;
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

  // The rest of an identifier, field or variable name; false (having failed)
  // if it does not end where Go's lexer wants a word to end.
  bool scan_word() {
    while (!at_eof() && is_ascii_alnum(in_[pos_])) ++pos_;
    if (!at_eof() && is_non_ascii(in_[pos_])) return fail(std::string(kNonAscii));
    if (!at_terminator()) return fail("bad character " + describe_rune(in_[pos_]));
    return true;
  }

  bool lex_identifier() {
    if (!scan_word()) return false;
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
    if (!scan_word()) return false;
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

}  // namespace

std::vector<Token> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace logguard::tag
