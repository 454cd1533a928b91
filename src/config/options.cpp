#include "logguard/config/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

// One log-opt: its key, the plugin setting that supplies its node-wide
// default, its built-in default (the only place defaults are written;
// config.json mirrors them, which a unit test checks), what it wants, and
// whether a value is valid.
struct Spec {
  std::string_view key;
  std::string_view env;
  std::string_view builtin;  // "" for line-burst: derived from line-rate
  std::string_view want;     // completes "want ..." in errors
  bool (*valid)(std::string_view value);
};

std::optional<uint64_t> positive_size(std::string_view s) {
  auto v = parse_size(s);
  if (!v || *v == 0) return std::nullopt;
  return v;
}

std::optional<double> positive_count(std::string_view s) {
  if (s.find('/') != std::string_view::npos) return std::nullopt;
  auto v = parse_count_rate(s);
  if (!v || *v <= 0) return std::nullopt;
  return v;
}

std::optional<OnLimit> parse_on_limit(std::string_view s) {
  std::string v = ascii_lower(s);
  if (v == "drop") return OnLimit::kDrop;
  if (v == "block") return OnLimit::kBlock;
  return std::nullopt;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string v = ascii_lower(s);
  if (v == "1" || v == "t" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "f" || v == "false" || v == "no" || v == "off") return false;
  return std::nullopt;
}

// Every rotation renames each kept file: more files make rotation costly.
constexpr int kMaxFileLimit = 100;
// A smaller file would rotate on nearly every record and flood the compressor.
constexpr uint64_t kMinMaxSize = 10'000;

std::optional<int> parse_max_file(std::string_view s) {
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n < 1 || n > kMaxFileLimit) {
    return std::nullopt;
  }
  return n;
}

std::optional<uint64_t> file_size_limit(std::string_view s) {
  auto v = parse_size(s);
  if (!v || *v < kMinMaxSize) return std::nullopt;
  return v;
}

std::optional<Codec> parse_codec(std::string_view s) {
  std::string v = ascii_lower(s);
  if (v == "gzip") return Codec::kGzip;
  if (v == "zstd") return Codec::kZstd;
  if (v == "none") return Codec::kNone;
  if (auto b = parse_bool(s)) return *b ? Codec::kGzip : Codec::kNone;
  return std::nullopt;
}

const Spec kRate{"rate", "RATE", "1m", "a size such as 1m or 512k (or off)",
                 [](std::string_view v) { return parse_rate(v).has_value(); }};
const Spec kBurst{"burst", "BURST", "10m", "a positive size such as 10m or 512k",
                  [](std::string_view v) { return positive_size(v).has_value(); }};
const Spec kLineRate{"line-rate", "LINE_RATE", "off",
                     "a number of lines per second such as 100 (or off)",
                     [](std::string_view v) { return parse_count_rate(v).has_value(); }};
const Spec kLineBurst{"line-burst", "LINE_BURST", "", "a positive number of lines such as 1000",
                      [](std::string_view v) { return positive_count(v).has_value(); }};
const Spec kOnLimit{"on-limit", "ON_LIMIT", "drop", "drop or block",
                    [](std::string_view v) { return parse_on_limit(v).has_value(); }};
const Spec kDropNotice{"drop-notice", "DROP_NOTICE", "true", "true or false",
                       [](std::string_view v) { return parse_bool(v).has_value(); }};
const Spec kMaxSize{"max-size", "MAX_SIZE", "20m", "a size of at least 10k such as 20m or 512k",
                    [](std::string_view v) { return file_size_limit(v).has_value(); }};
const Spec kMaxFile{"max-file", "MAX_FILE", "5", "a whole number from 1 to 100",
                    [](std::string_view v) { return parse_max_file(v).has_value(); }};
const Spec kCompress{"compress", "COMPRESS", "true", "true, false, gzip or zstd",
                     [](std::string_view v) { return parse_codec(v).has_value(); }};

const Spec* const kSpecs[] = {&kRate,       &kBurst,   &kLineRate, &kLineBurst, &kOnLimit,
                              &kDropNotice, &kMaxSize, &kMaxFile,  &kCompress};

// Options Docker consumes itself or that belong to other drivers; users set
// them in daemon.json for every container, so refusing them would break runs.
constexpr std::string_view kIgnoredKeys[] = {"mode",
                                             "max-buffer-size",
                                             "cache-disabled",
                                             "cache-max-size",
                                             "cache-max-file",
                                             "cache-compress",
                                             "tag",
                                             "labels",
                                             "labels-regex",
                                             "env",
                                             "env-regex"};

[[noreturn]] void invalid(std::string_view name, std::string_view value, std::string_view want) {
  throw OptionError("logguard: invalid " + std::string(name) + " \"" + std::string(value) +
                    "\": want " + std::string(want));
}

void check_known(const LogOpts& opts) {
  for (const auto& [key, value] : opts) {
    bool known =
        std::any_of(std::begin(kSpecs), std::end(kSpecs),
                    [&key = key](const Spec* s) { return s->key == key; }) ||
        std::find(std::begin(kIgnoredKeys), std::end(kIgnoredKeys), key) != std::end(kIgnoredKeys);
    if (known) continue;
    std::string valid;
    for (const Spec* s : kSpecs) valid += (valid.empty() ? "" : ", ") + std::string(s->key);
    throw OptionError("logguard: unknown log opt '" + key + "' (valid: " + valid + ")");
  }
}

// The option's parsed value, its built-in default when it is absent; throws
// if invalid.
template <typename T, typename Parse>
T value_of(const LogOpts& opts, const Spec& spec, Parse parse) {
  auto it = opts.find(std::string(spec.key));
  const std::string_view text = it == opts.end() ? spec.builtin : std::string_view(it->second);
  auto v = parse(text);
  if (!v) invalid(spec.key, text, spec.want);
  return static_cast<T>(*v);
}

std::string format_count(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", n);
  return buf;
}

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::kGzip:
      return "gzip";
    case Codec::kZstd:
      return "zstd";
    case Codec::kNone:
      break;
  }
  return "false";
}

}  // namespace

std::optional<std::string> env_setting(const std::function<const char*(const char*)>& getenv,
                                       const char* name) {
  const char* value = getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

void invalid_setting(std::string_view name, std::string_view value, std::string_view want) {
  invalid("plugin setting " + std::string(name), value, want);
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string LimitOptions::describe_rate() const {
  if (bytes_per_sec <= 0) return "";
  return "rate=" + format_size(static_cast<uint64_t>(bytes_per_sec)) +
         "/s burst=" + format_size(static_cast<uint64_t>(burst_bytes));
}

std::string LimitOptions::describe_line_rate() const {
  if (lines_per_sec <= 0) return "";
  return "line-rate=" + format_count(lines_per_sec) + "/s line-burst=" + format_count(burst_lines);
}

std::string LimitOptions::describe() const {
  std::string bytes = describe_rate(), lines = describe_line_rate();
  if (bytes.empty() && lines.empty()) return "unlimited";
  if (bytes.empty() || lines.empty()) return bytes + lines;
  return bytes + " " + lines;
}

LogOpts merge_log_opts(const LogOpts& log_opts, const LogOpts& defaults) {
  check_known(log_opts);
  check_known(defaults);
  LogOpts opts = defaults;
  for (const auto& [key, value] : log_opts) opts[key] = value;
  return opts;
}

ContainerOptions parse_container_options(const LogOpts& log_opts, const LogOpts& defaults) {
  const LogOpts opts = merge_log_opts(log_opts, defaults);

  ContainerOptions out;
  LimitOptions& l = out.limits;
  l.bytes_per_sec = value_of<double>(opts, kRate, parse_rate);
  l.burst_bytes = value_of<double>(opts, kBurst, positive_size);
  l.lines_per_sec = value_of<double>(opts, kLineRate, parse_count_rate);
  // Ten seconds of line-rate (at least 1), the ratio of the byte defaults.
  l.burst_lines = opts.count("line-burst") ? value_of<double>(opts, kLineBurst, positive_count)
                                           : std::max(10 * l.lines_per_sec, 1.0);
  l.on_limit = value_of<OnLimit>(opts, kOnLimit, parse_on_limit);
  l.drop_notice = value_of<bool>(opts, kDropNotice, parse_bool);

  RotationOptions& r = out.rotation;
  r.max_size = value_of<uint64_t>(opts, kMaxSize, file_size_limit);
  r.max_file = value_of<int>(opts, kMaxFile, parse_max_file);
  r.codec = value_of<Codec>(opts, kCompress, parse_codec);
  if (r.max_file == 1 && r.codec != Codec::kNone) {
    if (opts.count("compress")) {
      throw OptionError("logguard: compress=" + std::string(codec_name(r.codec)) +
                        " needs max-file of at least 2 (with max-file=1 no file is ever "
                        "rotated, so there is nothing to compress); set compress=false or "
                        "raise max-file");
    }
    r.codec = Codec::kNone;
  }
  return out;
}

LogOpts builtin_log_opts() {
  LogOpts opts;
  for (const Spec* spec : kSpecs) opts[std::string(spec->env)] = std::string(spec->builtin);
  return opts;
}

LogOpts default_log_opts_from_env(const std::function<const char*(const char*)>& getenv) {
  LogOpts opts;
  for (const Spec* spec : kSpecs) {
    auto value = env_setting(getenv, std::string(spec->env).c_str());
    if (!value) continue;
    if (!spec->valid(*value)) invalid_setting(spec->env, *value, spec->want);
    opts[std::string(spec->key)] = *value;
  }
  // The combination parse_container_options refuses, named as settings.
  bool one_file = opts.count("max-file") && parse_max_file(opts["max-file"]) == 1;
  if (one_file && opts.count("compress") && parse_codec(opts["compress"]) != Codec::kNone) {
    throw OptionError("logguard: plugin setting COMPRESS=" + opts["compress"] +
                      " needs MAX_FILE of at least 2 (with one file nothing is rotated, so "
                      "there is nothing to compress)");
  }
  return opts;
}

}  // namespace logguard
