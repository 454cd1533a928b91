// Go's fmt and encoding/json for the tag template's values
// (tag_template_print.h).
#include "tag_template_print.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "logguard/format/utf8.h"
#include "logguard/tag_template/tag_template.h"
#include "tag_template_bounds.h"
#include "tag_template_strconv.h"

namespace logguard::tag {
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

void format_map(ValueText& out, const StringMap& map) {
  out += "map[";
  bool first = true;
  for (const auto& [k, v] : map) {
    if (!first) out += ' ';
    first = false;
    out += k;
    out += ':';
    out += v;
  }
  out += ']';
}

void format_strings(ValueText& out, const std::vector<std::string>& strings) {
  out += '[';
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out += ' ';
    out += strings[i];
  }
  out += ']';
}

// ---- encoding/json (escapeHTML off, as Docker's json function sets it) ----

void append_json_string_no_html_escape(ValueText& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  std::string escape;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      escape.clear();
      if (append_short_escape(escape, s[i])) {
        out += escape;
      } else {
        if (b < 0x20) {
          const char control[] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 0xF]};
          out += std::string_view(control, sizeof control);
        } else {
          out += static_cast<char>(b);
        }
      }
      ++i;
      continue;
    }
    const utf8::Rune r = utf8::decode(s, i);
    if (r.invalid()) {
      out += "\\ufffd";
    } else if (r.value == 0x2028 || r.value == 0x2029) {
      out += r.value == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out += s.substr(i, r.size);
    }
    i += r.size;
  }
  out += '"';
}

}  // namespace

std::string format_value(const Value& v) {
  ValueText out;
  switch (v.kind) {
    case Kind::kInvalid: return "<no value>";
    case Kind::kNil: return "<nil>";
    case Kind::kString: return v.str;
    case Kind::kInt: case Kind::kUint8: return std::to_string(v.integer);
    case Kind::kFloat: return format_float(v.real);
    case Kind::kBool: return v.truth ? "true" : "false";
    case Kind::kStrings: format_strings(out, v.strings); return std::move(out).take();
    case Kind::kMap: format_map(out, v.map); return std::move(out).take();
    case Kind::kTime: {
      const UtcTime t = parse_created(v.str);
      return t.date + " " + t.clock + t.fraction + " +0000 UTC";
    }
    case Kind::kInfo: break;
  }
  throw TemplateError("printing the whole Info is not supported by logguard");
}

void format_into(ValueText& out, const Value& v) {
  switch (v.kind) {
    case Kind::kString: out += v.str; return;
    case Kind::kStrings: format_strings(out, v.strings); return;
    case Kind::kMap: format_map(out, v.map); return;
    default: out += format_value(v);  // short, or refused
  }
}

std::string sprint(const std::vector<Value>& args) {
  ValueText out;
  bool previous_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].kind == Kind::kString;
    if (i > 0 && !is_string && !previous_string) out += ' ';
    format_into(out, args[i]);
    previous_string = is_string;
  }
  return std::move(out).take();
}

std::string sprintln(const std::vector<Value>& args) {
  ValueText out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    format_into(out, args[i]);
  }
  out += '\n';
  return std::move(out).take();
}

std::string eval_args(std::vector<Value>& args) {
  if (args.size() == 1 && args[0].kind == Kind::kString) return args[0].str;
  for (auto& a : args) {
    if (a.kind == Kind::kNil) a = Value::of_string("<no value>");
  }
  return sprint(args);
}

std::string to_json(const Value& v) {
  ValueText out;
  switch (v.kind) {
    case Kind::kInvalid:
    case Kind::kNil:
      return "null";
    case Kind::kString:
      append_json_string_no_html_escape(out, v.str);
      return std::move(out).take();
    case Kind::kInt:
    case Kind::kUint8:
      return std::to_string(v.integer);
    case Kind::kFloat:
      return json_float(v.real);
    case Kind::kBool:
      return v.truth ? "true" : "false";
    case Kind::kStrings:
      if (v.is_nil) return "null";
      out += '[';
      for (size_t i = 0; i < v.strings.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string_no_html_escape(out, v.strings[i]);
      }
      out += ']';
      return std::move(out).take();
    case Kind::kMap: {
      if (v.is_nil) return "null";
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.map) {
        if (!first) out += ',';
        first = false;
        append_json_string_no_html_escape(out, key);
        out += ':';
        append_json_string_no_html_escape(out, value);
      }
      out += '}';
      return std::move(out).take();
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

}  // namespace logguard::tag
