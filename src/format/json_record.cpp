#include "logguard/format/json_record.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "logguard/base/time_format.h"
#include "logguard/format/utf8.h"

namespace logguard {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// What json-file does with each byte value when it starts a character.
enum ByteClass : uint8_t { kCopy, kEscape, kNonAscii };

constexpr std::array<uint8_t, 256> make_byte_classes() {
  std::array<uint8_t, 256> classes{};
  for (int b = 0; b < 0x20; ++b) classes[b] = kEscape;
  for (int b = 0x80; b < 0x100; ++b) classes[b] = kNonAscii;
  for (char c : {'"', '\\', '<', '>', '&'}) classes[static_cast<uint8_t>(c)] = kEscape;
  return classes;
}
constexpr auto kByteClass = make_byte_classes();

#if defined(__SSE2__)
// Bit k set where byte k of the 16 at p is not kCopy. As signed bytes,
// controls (< 0x20) and non-ASCII (>= 0x80, negative) both compare less than
// ' '; '"' (0x22) and '&' (0x26) differ only in bit 2, '<' (0x3c) and '>'
// (0x3e) only in bit 1, so one comparison finds each pair.
unsigned special_mask(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const auto equal = [](__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); };
  const __m128i control_or_non_ascii = _mm_cmplt_epi8(v, _mm_set1_epi8(' '));
  const __m128i quote_or_ampersand = equal(_mm_or_si128(v, _mm_set1_epi8(0x04)), '&');
  const __m128i angle_bracket = equal(_mm_or_si128(v, _mm_set1_epi8(0x02)), '>');
  const __m128i backslash = equal(v, '\\');
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(control_or_non_ascii, quote_or_ampersand),
                                     _mm_or_si128(angle_bracket, backslash))));
}
#endif

// Index of the first byte at or after i that is not kCopy.
size_t skip_plain(std::string_view s, size_t i) {
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16) {  // the hot loop: 16 bytes a step
    if (const unsigned mask = special_mask(s.data() + i)) return i + std::countr_zero(mask);
  }
  if (i < s.size() && s.size() >= 16) {
    // The rest in one step too: the last 16 bytes, less those before i.
    const size_t last = s.size() - 16;
    const unsigned mask = special_mask(s.data() + last) >> (i - last);
    return mask != 0 ? i + std::countr_zero(mask) : s.size();
  }
#endif
  while (i < s.size() && kByteClass[static_cast<uint8_t>(s[i])] == kCopy) ++i;
  return i;
}

// Go's json.Marshal writes TAB as \t inside attrs; json-file's own writer
// (ffjsonWriteJSONBytesAsString) writes it as \u0009 inside "log". Go 1.22+
// (in the newest Engines) also writes \b and \f in attrs; we follow older Go
// (\u0008, \u000c), as Engine 20.10 writes. Readers accept both.
enum class Dialect { kLog, kAttrs };

// Walks s as json-file escapes it, calling copy(run) for bytes kept as they
// are and escape(text) for replacements. One walk serves encoding and sizing.
// The bytes before `plain` are known to need no escaping.
template <typename Copy, typename Escape>
void walk_escaped(std::string_view s, size_t plain, Dialect dialect, Copy&& copy,
                  Escape&& escape) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  size_t start = 0;  // first byte not yet handed to copy or escape
  size_t i = plain;
  char unicode[6] = {'\\', 'u', '0', '0', 0, 0};
  while (true) {
    i = skip_plain(s, i);  // the hot loop: plain ASCII is copied in one run
    if (i == s.size()) break;
    const uint8_t b = byte(i);
    if (kByteClass[b] == kEscape) {
      if (start < i) copy(s.substr(start, i - start));
      if (b == '"' || b == '\\') {
        const char pair[2] = {'\\', static_cast<char>(b)};
        escape(std::string_view(pair, 2));
      } else if (b == '\n') {
        escape("\\n");
      } else if (b == '\r') {
        escape("\\r");
      } else if (b == '\t' && dialect == Dialect::kAttrs) {
        escape("\\t");
      } else {
        unicode[4] = kHex[b >> 4];
        unicode[5] = kHex[b & 0xF];
        escape(std::string_view(unicode, 6));
      }
      start = ++i;
      continue;
    }
    const utf8::Rune rune = utf8::decode(s, i);
    if (rune.invalid()) {
      if (start < i) copy(s.substr(start, i - start));
      escape("\\ufffd");
      start = ++i;
    } else if (rune.value == 0x2028 || rune.value == 0x2029) {  // line and paragraph separators
      if (start < i) copy(s.substr(start, i - start));
      escape(rune.value == 0x2028 ? "\\u2028" : "\\u2029");
      i += rune.size;
      start = i;
    } else {
      i += rune.size;
    }
  }
  if (start < s.size()) copy(s.substr(start));
}

// Most lines need no escaping at all: for them one scan, and no walk.
void append_escaped(std::string& out, std::string_view s, Dialect dialect) {
  const size_t plain = skip_plain(s, 0);
  if (plain == s.size()) {
    out.append(s);
    return;
  }
  const auto append = [&](std::string_view piece) { out.append(piece); };
  walk_escaped(s, plain, dialect, append, append);
}

size_t escaped_size(std::string_view s, Dialect dialect) {
  const size_t plain = skip_plain(s, 0);
  if (plain == s.size()) return s.size();
  size_t size = 0;
  const auto count = [&](std::string_view piece) { size += piece.size(); };
  walk_escaped(s, plain, dialect, count, count);
  return size;
}

// The record's fixed text. Every optional field ends with the comma that
// separates it from the next, since "time" always follows.
constexpr std::string_view kOpen = "{";
constexpr std::string_view kLogKey = "\"log\":\"";
constexpr std::string_view kOpenWithLog = "{\"log\":\"";
constexpr std::string_view kStreamKey = "\"stream\":\"";
constexpr std::string_view kStringEnd = "\",";
constexpr std::string_view kEscapedNewline = "\\n";
constexpr std::string_view kAttrsKey = "\"attrs\":{";
constexpr std::string_view kAttrsEnd = "},";
constexpr std::string_view kTimeKey = "\"time\":\"";
constexpr std::string_view kClose = "\"}\n";
// The "stream" field of the engine's two streams, which need no escaping.
constexpr std::string_view kStdoutField = "\"stream\":\"stdout\",";
constexpr std::string_view kStderrField = "\"stream\":\"stderr\",";

// The whole "stream" field of stdout and stderr, made without a scan; empty
// for any other stream.
std::string_view known_stream_field(std::string_view stream) {
  if (stream == "stdout") return kStdoutField;
  if (stream == "stderr") return kStderrField;
  return {};
}

size_t stream_field_size(std::string_view stream) {
  if (stream.empty()) return 0;
  const std::string_view known = known_stream_field(stream);
  if (!known.empty()) return known.size();
  return kStreamKey.size() + escaped_size(stream, Dialect::kLog) + kStringEnd.size();
}

// The short pieces of a record gathered on the stack and appended to it
// together: one std::string::append (a capacity check and a call to memcpy)
// instead of one per piece. Holds what the longest run of pieces between
// two flushes needs.
class Pieces {
 public:
  static constexpr size_t kCapacity = kEscapedNewline.size() + kStringEnd.size() +
                                      kStdoutField.size() + kTimeKey.size() +
                                      kMaxRfc3339NanoSize + kClose.size();
  void add(std::string_view piece) {
    std::memcpy(end_, piece.data(), piece.size());
    end_ += piece.size();
  }
  // The record's time (false, adding nothing, if it cannot be written).
  bool add_time(int64_t unix_nanos) {
    char* end = write_rfc3339nano(end_, unix_nanos);
    if (end == nullptr) return false;
    end_ = end;
    return true;
  }
  void flush_into(std::string& out) {
    out.append(text_, static_cast<size_t>(end_ - text_));
    end_ = text_;
  }

 private:
  char text_[kCapacity];
  char* end_ = text_;
};

// The quotes and colon around one attr, as Go's json.Marshal writes a map
// entry: "key":"value"; entries are separated by commas.
constexpr size_t kAttrPunctuation = 5;

void append_attrs(std::string& out, const Attrs& attrs) {
  out.append(kAttrsKey);
  for (size_t k = 0; k < attrs.size(); ++k) {
    out.append(k == 0 ? "\"" : ",\"");
    append_escaped(out, attrs[k].first, Dialect::kAttrs);
    out.append("\":\"");
    append_escaped(out, attrs[k].second, Dialect::kAttrs);
    out += '"';
  }
  out.append(kAttrsEnd);
}

size_t attrs_size(const Attrs& attrs) {
  size_t size = kAttrsKey.size() + kAttrsEnd.size() + attrs.size() * kAttrPunctuation +
                (attrs.size() - 1);
  for (const auto& [key, value] : attrs) {
    size += escaped_size(key, Dialect::kAttrs) + escaped_size(value, Dialect::kAttrs);
  }
  return size;
}

}  // namespace

bool append_json_record(std::string& out, const RecordView& record) {
  const size_t start = out.size();
  Pieces pieces;
  if (!record.log.empty() || record.log_newline) {
    out.append(kOpenWithLog);
    append_escaped(out, record.log, Dialect::kLog);
    if (record.log_newline) pieces.add(kEscapedNewline);
    pieces.add(kStringEnd);
  } else {
    pieces.add(kOpen);
  }
  if (const std::string_view known = known_stream_field(record.stream); !known.empty()) {
    pieces.add(known);
  } else if (!record.stream.empty()) {
    pieces.flush_into(out);
    out.append(kStreamKey);
    append_escaped(out, record.stream, Dialect::kLog);
    out.append(kStringEnd);
  }
  if (record.attrs && !record.attrs->empty()) {
    pieces.flush_into(out);
    append_attrs(out, *record.attrs);
  }
  pieces.add(kTimeKey);
  if (!pieces.add_time(record.time_nanos)) {
    out.resize(start);
    return false;
  }
  pieces.add(kClose);
  pieces.flush_into(out);
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s, Dialect::kAttrs);
  out += '"';
}

size_t json_record_size(const RecordView& record) {
  size_t size = kOpen.size() + kTimeKey.size() + rfc3339nano_size(record.time_nanos) + kClose.size();
  if (!record.log.empty() || record.log_newline) {
    size += kLogKey.size() + escaped_size(record.log, Dialect::kLog) + kStringEnd.size() +
            (record.log_newline ? kEscapedNewline.size() : 0);
  }
  size += stream_field_size(record.stream);
  if (record.attrs && !record.attrs->empty()) size += attrs_size(*record.attrs);
  return size;
}

}  // namespace logguard
