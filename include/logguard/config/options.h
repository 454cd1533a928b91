// Options: a container's log-opts (and the plugin-wide defaults beneath them)
// turned into typed, validated settings, with errors that tell the user
// which option is wrong and what it wants. Docker shows the message of a
// failed StartLogging to whoever ran `docker run`.
//
// | log-opt      | meaning                                             |
// |--------------|-----------------------------------------------------|
// | rate         | bytes/s for stdout+stderr together, a size (below)  |
// |              | with optional "/s"; "0" or "off" = unlimited        |
// | burst        | byte bucket capacity, a positive size               |
// | line-rate    | lines/s, a number with optional "/s"; 0/off = off   |
// | line-burst   | line bucket capacity, a positive number             |
// | on-limit     | drop | block (stop reading: backpressure)           |
// | drop-notice  | bool: write a notice into the log about drops       |
// | max-size     | rotate at this size, at least 10k                   |
// | max-file     | files kept including the current one, 1 to 100      |
// | compress     | true/gzip, zstd, false                              |
//
// The built-in defaults are written once, in options.cpp's table
// (builtin_log_opts() lists them; config.json mirrors them, checked by a
// test). The bounds of max-size and max-file keep rotation cheap: every
// rotation renames each kept file, and a tiny max-size would rotate on every
// record.
//
// Sizes are parse_size's (size_parse.h): decimal like Docker's max-size
// ("10m" = 10,000,000), "KiB"/"MiB" binary. Booleans take Go's ParseBool
// spellings in any case (1, t, true, 0, f, false) plus yes/no/on/off.
// line-burst defaults to ten seconds of line-rate (at least 1), the ratio
// of the byte defaults (1m and 10m). burst and line-burst are validated
// even when their rate is off, and then have no effect.
// compress with max-file=1 is an error when compress is given (there are no
// rotated files to compress); when it is only the built-in default it turns
// into false.
// Keys of Docker itself and of other drivers (mode, max-buffer-size, cache-*,
// tag, labels, labels-regex, env, env-regex) are accepted and ignored; any
// other key is an error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "logguard/format/compression.h"

namespace logguard {

enum class OnLimit { kDrop, kBlock };

struct LimitOptions {
  double bytes_per_sec = 0;  // 0 = no byte limit
  double burst_bytes = 0;
  double lines_per_sec = 0;  // 0 = no line limit
  double burst_lines = 0;
  OnLimit on_limit = OnLimit::kDrop;
  bool drop_notice = true;

  bool unlimited() const { return bytes_per_sec <= 0 && lines_per_sec <= 0; }
  // "rate=1MB/s burst=10MB", for notices; "" when the byte limit is off.
  std::string describe_rate() const;
  // "line-rate=100/s line-burst=1000"; "" when the line limit is off.
  std::string describe_line_rate() const;
  // Every limit in force, space separated, or "unlimited".
  std::string describe() const;
};

// How a container's files rotate. The built-in defaults are options.cpp's;
// a value-initialized RotationOptions never rotates.
struct RotationOptions {
  uint64_t max_size = 0;       // rotate at this size; 0 = never
  int max_file = 1;            // files kept, the current one included; >= 1
  Codec codec = Codec::kNone;  // compression of rotated files
};

struct ContainerOptions {
  LimitOptions limits;
  RotationOptions rotation;
};

class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Helpers for reading plugin settings (here and in node_settings.h, kube_settings.h):
// a variable's value, nullopt if unset or empty;
std::optional<std::string> env_setting(const std::function<const char*(const char*)>& getenv,
                                       const char* name);
// throws `logguard: invalid plugin setting NAME "value": want WANT`;
[[noreturn]] void invalid_setting(std::string_view name, std::string_view value,
                                  std::string_view want);
// ASCII lower case, for keywords matched in any case ("off", "on").
std::string ascii_lower(std::string_view s);

using LogOpts = std::map<std::string, std::string>;

// The container's log_opts over the plugin's defaults, unparsed (what a
// session persists, so a restarted plugin applies the same options even if
// the defaults changed meanwhile). Throws OptionError for unknown keys.
LogOpts merge_log_opts(const LogOpts& log_opts, const LogOpts& defaults);

// The container's log_opts (Info.Config) over the plugin's defaults; keys
// missing from both take the built-in defaults above. Throws OptionError,
// e.g. `logguard: invalid rate "fast": want a size such as 1m or 512k (or off)`.
ContainerOptions parse_container_options(const LogOpts& log_opts, const LogOpts& defaults);

// The plugin settings (environment variables of config.json, changed with
// `docker plugin set`) RATE, BURST, LINE_RATE, LINE_BURST, ON_LIMIT,
// DROP_NOTICE, MAX_SIZE, MAX_FILE, COMPRESS as log-opt keys; unset or empty
// variables are left out. Validates them so a bad setting fails at start;
// the OptionError names the variable.
LogOpts default_log_opts_from_env(const std::function<const char*(const char*)>& getenv);

// The built-in defaults by plugin setting name (RATE -> "1m", ..., LINE_BURST
// -> "": derived from line-rate).
LogOpts builtin_log_opts();

}  // namespace logguard
