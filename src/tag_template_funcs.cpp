// The functions of TagTemplate: Docker's (moby daemon/logger/templates) and
// Go 1.19's builtins (text/template/funcs.go), and how Go's fmt and
// encoding/json render the values a template computes.
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tag_template_internal.h"
#include "unicode_case.h"

namespace logguard::tag {

// ---- Go text helpers ----

std::pair<char32_t, size_t> decode_rune(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    return i + k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const uint8_t b = at(0);
  if (b < 0x80) return {b, 1};
  if (b >= 0xC2 && b <= 0xDF && cont(1)) return {((b & 0x1F) << 6) | (at(1) & 0x3F), 2};
  if (b >= 0xE0 && b <= 0xEF) {
    const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2)) {
      return {((b & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F), 3};
    }
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2) && cont(3)) {
      return {((b & 0x07) << 18) | ((at(1) & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F),
              4};
    }
  }
  return {0xFFFD, 1};
}

void append_rune(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

// ---- numbers as Go prints them ----

// The shortest decimal digits that round-trip |f|, with f = 0.DIGITS x 10^point.
struct Digits {
  std::string digits;
  int point = 0;
};

Digits shortest_digits(double f) {
  char buf[64];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, std::fabs(f), std::chars_format::scientific);
  const std::string_view s(buf, static_cast<size_t>(end - buf));
  const size_t e = s.find('e');
  Digits d;
  for (char c : s.substr(0, e)) {
    if (c != '.') d.digits += c;
  }
  int exponent = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exponent);
  d.point = exponent + 1;
  return d;
}

// strconv's %e of shortest digits: "1.5e+06"; at least two exponent digits.
std::string format_e(bool negative, const Digits& d) {
  std::string out = negative ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  const int exponent = d.point - 1;
  out += exponent < 0 ? "e-" : "e+";
  const int magnitude = std::abs(exponent);
  if (magnitude < 10) out += '0';
  return out + std::to_string(magnitude);
}

// strconv's %f of shortest digits: no exponent, only the digits needed.
std::string format_f(bool negative, const Digits& d) {
  std::string out = negative ? "-" : "";
  const int n = static_cast<int>(d.digits.size());
  if (d.point <= 0) {
    out += "0." + std::string(static_cast<size_t>(-d.point), '0') + d.digits;
  } else if (d.point >= n) {
    out += d.digits + std::string(static_cast<size_t>(d.point - n), '0');
  } else {
    out += d.digits.substr(0, d.point) + "." + d.digits.substr(d.point);
  }
  return out;
}

// fmt's %v of a float64 (strconv 'g', shortest).
std::string format_float(double f) {
  const bool negative = std::signbit(f);
  if (f == 0) return negative ? "-0" : "0";
  const Digits d = shortest_digits(f);
  const int exponent = d.point - 1;
  if (exponent < -4 || exponent >= 6) return format_e(negative, d);
  return format_f(negative, d);
}

// encoding/json's float64: %f, or %e beyond [1e-6, 1e21) with "e-07" as "e-7".
std::string json_float(double f) {
  const bool negative = std::signbit(f);
  if (f == 0) return negative ? "-0" : "0";
  const Digits d = shortest_digits(f);
  const double magnitude = std::fabs(f);
  if (magnitude >= 1e-6 && magnitude < 1e21) return format_f(negative, d);
  std::string out = format_e(negative, d);
  const size_t n = out.size();
  if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') out.erase(n - 2, 1);
  return out;
}

// ---- time.Time from the engine's RFC 3339 text ----

// The engine sends ContainerCreated as Go's RFC3339Nano in UTC
// ("2025-03-04T10:11:12.1234567Z"): date, clock, and the fraction without
// trailing zeros. Empty is Go's zero time.
struct UtcTime {
  std::string date, clock, fraction;  // fraction with its '.', or empty
};

UtcTime parse_created(const std::string& text) {
  if (text.empty()) return {"0001-01-01", "00:00:00", ""};
  // YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z
  const auto digits_at = [&](size_t from, size_t count) {
    if (from + count > text.size()) return false;
    for (size_t i = from; i < from + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    return true;
  };
  const auto char_at = [&](size_t i, char c) { return i < text.size() && text[i] == c; };
  bool ok = digits_at(0, 4) && char_at(4, '-') && digits_at(5, 2) && char_at(7, '-') &&
            digits_at(8, 2) && char_at(10, 'T') && digits_at(11, 2) && char_at(13, ':') &&
            digits_at(14, 2) && char_at(16, ':') && digits_at(17, 2) && text.back() == 'Z';
  std::string fraction = ok ? text.substr(19, text.size() - 20) : std::string();
  if (!fraction.empty()) {
    ok = ok && fraction[0] == '.' && fraction.size() >= 2 && fraction.size() <= 10 &&
         digits_at(20, fraction.size() - 1);
  }
  if (!ok) {
    throw TemplateError("ContainerCreated " + quote(text) +
                        " (not UTC RFC 3339) is not supported by logguard");
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (fraction == ".") fraction.clear();
  return {text.substr(0, 10), text.substr(11, 8), fraction};
}

// ---- fmt ----

std::string format_map(const StringMap& map) {
  std::string out = "map[";
  bool first = true;
  for (const auto& [k, v] : map) {
    if (!first) out += ' ';
    first = false;
    out += k + ":" + v;
  }
  return out + "]";
}

std::string format_strings(const std::vector<std::string>& strings) {
  std::string out = "[";
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out += ' ';
    out += strings[i];
  }
  return out + "]";
}

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(const std::vector<Value>& args) {
  std::string out;
  bool previous_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].kind == Kind::kString;
    if (i > 0 && !is_string && !previous_string) out += ' ';
    out += format_value(args[i]);
    previous_string = is_string;
  }
  return out;
}

std::string sprintln(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += format_value(args[i]);
  }
  return out + "\n";
}

// text/template's evalArgs, the argument text of html and urlquery: one
// string as it is, anything else through fmt.Sprint with nil as "<no value>".
std::string eval_args(std::vector<Value>& args) {
  if (args.size() == 1 && args[0].kind == Kind::kString) return args[0].str;
  for (auto& a : args) {
    if (a.kind == Kind::kNil) a = Value::of_string("<no value>");
  }
  return sprint(args);
}

// ---- encoding/json (escapeHTML off, as Docker's json function sets it) ----

void append_json_string_no_html_escape(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (b < 0x20) {
            out += "\\u00";
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
          } else {
            out += static_cast<char>(b);
          }
      }
      ++i;
      continue;
    }
    auto [r, size] = decode_rune(s, i);
    if (r == 0xFFFD && size == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, size));
    }
    i += size;
  }
  out += '"';
}

std::string to_json(const Value& v) {
  std::string out;
  switch (v.kind) {
    case Kind::kInvalid:
    case Kind::kNil:
      return "null";
    case Kind::kString:
      append_json_string_no_html_escape(out, v.str);
      return out;
    case Kind::kInt:
    case Kind::kUint8:
      return std::to_string(v.integer);
    case Kind::kFloat:
      return json_float(v.real);
    case Kind::kBool:
      return v.truth ? "true" : "false";
    case Kind::kStrings:
      if (v.is_nil) return "null";
      out = "[";
      for (size_t i = 0; i < v.strings.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string_no_html_escape(out, v.strings[i]);
      }
      return out + "]";
    case Kind::kMap: {
      if (v.is_nil) return "null";
      out = "{";
      bool first = true;
      for (const auto& [key, value] : v.map) {
        if (!first) out += ',';
        first = false;
        append_json_string_no_html_escape(out, key);
        out += ':';
        append_json_string_no_html_escape(out, value);
      }
      return out + "}";
    }
    case Kind::kTime: {
      const UtcTime t = parse_created(v.str);
      return "\"" + t.date + "T" + t.clock + t.fraction + "Z\"";
    }
    case Kind::kInfo:
      break;
  }
  throw TemplateError("json of the whole Info is not supported by logguard");
}

// ---- strings ----

// Go's strings.Map over runes; invalid bytes come out as U+FFFD.
template <typename F>
std::string map_runes(std::string_view s, F&& mapping) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto [r, size] = decode_rune(s, i);
    append_rune(out, mapping(r));
    i += size;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string to_upper_string(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(to_upper(static_cast<unsigned char>(c)));
    return out;
  }
  return map_runes(s, to_upper);
}

std::string to_lower_string(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(to_lower(static_cast<unsigned char>(c)));
    return out;
  }
  return map_runes(s, to_lower);
}

// strings.Title: ASCII letters, digits and '_' continue a word, so do
// non-ASCII runes except spaces; everything else separates words.
bool is_separator(char32_t r) {
  if (r < 0x80) {
    const bool word = (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
                      r == '_';
    return !word;
  }
  return is_space(r);
}

std::string title(std::string_view s) {
  char32_t previous = ' ';
  return map_runes(s, [&](char32_t r) {
    const char32_t mapped = is_separator(previous) ? to_title(r) : r;
    previous = r;
    return mapped;
  });
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  if (sep.empty()) {  // one element per UTF-8 sequence; the last is the rest as is
    size_t runes = 0;
    for (size_t i = 0; i < s.size(); i += decode_rune(s, i).second) ++runes;
    size_t i = 0;
    for (size_t k = 0; k + 1 < runes; ++k) {
      auto [r, size] = decode_rune(s, i);
      out.emplace_back(r == 0xFFFD ? std::string_view("\xEF\xBF\xBD") : s.substr(i, size));
      i += size;
    }
    if (runes > 0) out.emplace_back(s.substr(i));
    return out;
  }
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

// Go panics on a negative count; a count beyond what a log tag could use
// would make Go allocate it: both are refused.
std::string repeat_space(int64_t count) {
  constexpr int64_t kLimit = 1 << 20;
  if (count < 0) throw CallError{"strings: negative Repeat count"};
  if (count > kLimit) {
    throw TemplateError("pad by more than " + std::to_string(kLimit) +
                        " spaces is not supported by logguard");
  }
  return std::string(static_cast<size_t>(count), ' ');
}

// ---- builtins over reflect.Value ----

// Go's basic kinds for comparisons; kInvalid for anything else.
enum class Basic { kInvalid, kBool, kInt, kFloat, kString, kUint };

Basic basic_kind(const Value& v) {
  switch (v.kind) {
    case Kind::kBool: return Basic::kBool;
    case Kind::kInt: return Basic::kInt;
    case Kind::kUint8: return Basic::kUint;
    case Kind::kFloat: return Basic::kFloat;
    case Kind::kString: return Basic::kString;
    default: return Basic::kInvalid;
  }
}

bool is_nil_value(const Value& v) {
  return v.kind == Kind::kInvalid || v.kind == Kind::kNil ||
         ((v.kind == Kind::kStrings || v.kind == Kind::kMap) && v.is_nil);
}

bool eq_values(const Value& a, const std::vector<Value>& others) {
  if (others.empty()) throw CallError{"missing argument for comparison"};
  const Basic k1 = basic_kind(a);
  for (const Value& b : others) {
    const Basic k2 = basic_kind(b);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == Basic::kInt && k2 == Basic::kUint) {
        truth = a.integer >= 0 && a.integer == b.integer;
      } else if (k1 == Basic::kUint && k2 == Basic::kInt) {
        truth = b.integer >= 0 && a.integer == b.integer;
      } else if (a.kind != Kind::kInvalid && b.kind != Kind::kInvalid) {
        throw CallError{"incompatible types for comparison"};
      }
    } else {
      switch (k1) {
        case Basic::kBool: truth = a.truth == b.truth; break;
        case Basic::kFloat: truth = a.real == b.real; break;
        case Basic::kInt: case Basic::kUint: truth = a.integer == b.integer; break;
        case Basic::kString: truth = a.str == b.str; break;
        case Basic::kInvalid:
          if (a.kind != b.kind && a.kind != Kind::kInvalid && b.kind != Kind::kInvalid) {
            throw CallError{"non-comparable types " + type_name(a) + ", " + type_name(b)};
          }
          if (is_nil_value(a) || is_nil_value(b)) {
            truth = is_nil_value(a) == is_nil_value(b);
          } else if (b.kind == Kind::kTime) {
            truth = a.str == b.str;
          } else if (b.kind == Kind::kInfo) {
            truth = true;  // the same *logger.Info
          } else {
            throw CallError{"non-comparable type " + type_name(b)};
          }
          break;
      }
    }
    if (truth) return true;
  }
  return false;
}

bool lt_values(const Value& a, const Value& b) {
  const Basic k1 = basic_kind(a), k2 = basic_kind(b);
  if (k1 == Basic::kInvalid || k2 == Basic::kInvalid) {
    throw CallError{"invalid type for comparison"};
  }
  if (k1 != k2) {
    if (k1 == Basic::kInt && k2 == Basic::kUint) return a.integer < 0 || a.integer < b.integer;
    if (k1 == Basic::kUint && k2 == Basic::kInt) return b.integer >= 0 && a.integer < b.integer;
    throw CallError{"incompatible types for comparison"};
  }
  switch (k1) {
    case Basic::kFloat: return a.real < b.real;
    case Basic::kInt: case Basic::kUint: return a.integer < b.integer;
    case Basic::kString: return a.str < b.str;
    default: throw CallError{"invalid type for comparison"};
  }
}

// text/template's indexArg: an integer index within [0, cap].
int64_t index_arg(const Value& index, size_t cap) {
  if (index.kind == Kind::kInvalid) throw CallError{"cannot index slice/array with nil"};
  if (index.kind != Kind::kInt && index.kind != Kind::kUint8) {
    throw CallError{"cannot index slice/array with type " + type_name(index)};
  }
  if (index.integer < 0 || static_cast<uint64_t>(index.integer) > cap) {
    throw CallError{"index out of range: " + std::to_string(index.integer)};
  }
  return index.integer;
}

// The type Go names for an indexed item: a pointer is followed first.
std::string item_type(const Value& v) {
  return v.kind == Kind::kInfo ? "logger.Info" : type_name(v);
}

bool is_nil_or_invalid(const Value& v) { return v.kind == Kind::kInvalid || v.kind == Kind::kNil; }

Value index_value(std::vector<Value>& args) {
  Value item = args[0];
  if (is_nil_or_invalid(item)) throw CallError{"index of untyped nil"};
  for (size_t k = 1; k < args.size(); ++k) {
    const Value& index = args[k];
    switch (item.kind) {
      case Kind::kStrings: {
        const int64_t x = index_arg(index, item.strings.size());
        if (static_cast<size_t>(x) == item.strings.size()) {
          throw CallError{"reflect: slice index out of range"};
        }
        item = Value::of_string(item.strings[x]);
        break;
      }
      case Kind::kString: {
        const int64_t x = index_arg(index, item.str.size());
        if (static_cast<size_t>(x) == item.str.size()) {
          throw CallError{"reflect: string index out of range"};
        }
        Value byte = Value::of_kind(Kind::kUint8);
        byte.integer = static_cast<uint8_t>(item.str[x]);
        item = byte;
        break;
      }
      case Kind::kMap: {
        if (index.kind == Kind::kInvalid || index.kind == Kind::kNil) {
          throw CallError{"value is nil; should be of type string"};
        }
        if (index.kind != Kind::kString) {
          throw CallError{"value has type " + type_name(index) + "; should be string"};
        }
        auto it = item.map.find(index.str);
        item = Value::of_string(it == item.map.end() ? std::string() : it->second);
        break;
      }
      default:
        throw CallError{"can't index item of type " + item_type(item)};
    }
  }
  return item;
}

Value slice_value(std::vector<Value>& args) {
  const Value& item = args[0];
  if (is_nil_or_invalid(item)) throw CallError{"slice of untyped nil"};
  const size_t count = args.size() - 1;
  if (count > 3) throw CallError{"too many slice indexes: " + std::to_string(count)};
  size_t length = 0;
  if (item.kind == Kind::kString) {
    if (count == 3) throw CallError{"cannot 3-index slice a string"};
    length = item.str.size();
  } else if (item.kind == Kind::kStrings) {
    length = item.strings.size();
  } else {
    throw CallError{"can't slice item of type " + item_type(item)};
  }
  int64_t idx[3] = {0, static_cast<int64_t>(length), static_cast<int64_t>(length)};
  for (size_t k = 0; k < count; ++k) idx[k] = index_arg(args[k + 1], length);
  for (size_t k = 0; k + 1 < (count == 3 ? 3 : 2); ++k) {
    if (idx[k] > idx[k + 1]) {
      throw CallError{"invalid slice index: " + std::to_string(idx[k]) + " > " +
                      std::to_string(idx[k + 1])};
    }
  }
  if (item.kind == Kind::kString) return Value::of_string(item.str.substr(idx[0], idx[1] - idx[0]));
  Value out = Value::of_strings({item.strings.begin() + idx[0], item.strings.begin() + idx[1]});
  out.is_nil = item.is_nil;
  return out;
}

Value length(const Value& item) {
  switch (item.kind) {
    case Kind::kString: return Value::of_int(static_cast<int64_t>(item.str.size()));
    case Kind::kStrings: return Value::of_int(static_cast<int64_t>(item.strings.size()));
    case Kind::kMap: return Value::of_int(static_cast<int64_t>(item.map.size()));
    case Kind::kInvalid: case Kind::kNil:
      throw CallError{"reflect: call of reflect.Value.Type on zero Value"};
    default:
      throw CallError{"len of type " + item_type(item)};
  }
}

// url.QueryEscape.
std::string query_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += "0123456789ABCDEF"[u >> 4];
      out += "0123456789ABCDEF"[u & 0xF];
    }
  }
  return out;
}

// template.HTMLEscapeString.
std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\0': out += "\xEF\xBF\xBD"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

using P = Param;

const std::map<std::string_view, Function>& functions() {
  static const std::map<std::string_view, Function> kFunctions = {
      // Docker's (moby daemon/logger/templates/templates.go).
      {"json", {{P::kAny}, false, [](auto& a) { return Value::of_string(to_json(a[0])); }}},
      {"split", {{P::kString, P::kString}, false,
                 [](auto& a) { return Value::of_strings(split(a[0].str, a[1].str)); }}},
      {"join", {{P::kStrings, P::kString}, false,
                [](auto& a) {
                  std::string out;
                  for (size_t i = 0; i < a[0].strings.size(); ++i) {
                    if (i > 0) out += a[1].str;
                    out += a[0].strings[i];
                  }
                  return Value::of_string(out);
                }}},
      {"title", {{P::kString}, false, [](auto& a) { return Value::of_string(title(a[0].str)); }}},
      {"lower", {{P::kString}, false,
                 [](auto& a) { return Value::of_string(to_lower_string(a[0].str)); }}},
      {"upper", {{P::kString}, false,
                 [](auto& a) { return Value::of_string(to_upper_string(a[0].str)); }}},
      {"pad", {{P::kString, P::kInt, P::kInt}, false,
               [](auto& a) {
                 if (a[0].str.empty()) return Value::of_string("");
                 std::string before = repeat_space(a[1].integer);
                 std::string after = repeat_space(a[2].integer);
                 return Value::of_string(before + a[0].str + after);
               }}},
      {"truncate", {{P::kString, P::kInt}, false,
                    [](auto& a) {
                      const std::string& s = a[0].str;
                      const int64_t n = a[1].integer;
                      if (static_cast<int64_t>(s.size()) < n) return Value::of_string(s);
                      if (n < 0) {
                        throw CallError{"runtime error: slice bounds out of range [:" +
                                        std::to_string(n) + "]"};
                      }
                      return Value::of_string(s.substr(0, static_cast<size_t>(n)));
                    }}},
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
              [](auto& a) {
                return Value::of_bool(lt_values(a[0], a[1]) || eq_values(a[0], {a[1]}));
              }}},
      {"gt", {{P::kReflect, P::kReflect}, false,
              [](auto& a) {
                return Value::of_bool(!(lt_values(a[0], a[1]) || eq_values(a[0], {a[1]})));
              }}},
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

std::string format_value(const Value& v) {
  switch (v.kind) {
    case Kind::kInvalid: return "<no value>";
    case Kind::kNil: return "<nil>";
    case Kind::kString: return v.str;
    case Kind::kInt: case Kind::kUint8: return std::to_string(v.integer);
    case Kind::kFloat: return format_float(v.real);
    case Kind::kBool: return v.truth ? "true" : "false";
    case Kind::kStrings: return format_strings(v.strings);
    case Kind::kMap: return format_map(v.map);
    case Kind::kTime: {
      const UtcTime t = parse_created(v.str);
      return t.date + " " + t.clock + t.fraction + " +0000 UTC";
    }
    case Kind::kInfo: break;
  }
  throw TemplateError("printing the whole Info is not supported by logguard");
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

}  // namespace logguard::tag
