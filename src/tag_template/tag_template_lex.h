// The lexer of the tag template: Go 1.19's text/template/parse lexer, so the
// same texts split into the same tokens and fail at the same token. Unlike
// Go's, which runs as a goroutine beside the parser, it scans the whole input
// first; a lexing error is the last token, a kError carrying Go's message.
// Private to the tag template.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::tag {

enum class Tok {
  kError, kBool, kChar, kCharConstant, kComplex, kAssign, kDeclare, kEOF, kField, kIdentifier,
  kLeftDelim, kLeftParen, kNumber, kPipe, kRawString, kRightDelim, kRightParen, kSpace, kString,
  kText, kVariable,
  // keywords
  kBlock, kBreak, kContinue, kDot, kDefine, kElse, kEnd, kIf, kNil, kRange, kTemplate, kWith,
};

inline bool is_keyword(Tok t) { return t >= Tok::kBlock; }

struct Token {
  Tok type;
  size_t pos;        // byte offset in the input
  std::string val;   // the token's text, or the message of a kError
};

// The bytes Go's lexer takes for space inside an action.
constexpr std::string_view kSpaceChars = " \t\r\n";

// The tokens of a template text, ending with kEOF or at the first kError.
std::vector<Token> lex(std::string_view text);

}  // namespace logguard::tag
