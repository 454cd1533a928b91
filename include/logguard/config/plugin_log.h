// The plugin's own log (its messages about itself, not the containers' logs).
//
// The engine copies a managed plugin's stdout into its own log at level=info
// and its stderr at level=error, one entry per line (docs/PROTOCOL.md §2.6).
// So messages go by their level: debug and info to stdout, warnings and
// errors to stderr, and the engine's log shows logguard's errors as errors
// and nothing else. The level is the LOG_LEVEL plugin setting.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

namespace logguard {

// LOG_LEVEL: debug, info, warn or error (nothing else: "off" would hide the
// errors an operator needs). Throws OptionError naming the setting.
spdlog::level::level_enum parse_log_level(std::string_view text);

// Passes messages below warn to `low` and the others to `high`, each line cut
// to kMaxLine bytes: the engine reads a plugin's output a line at a time into
// a 64 KiB buffer, and a longer line ends its copying of that stream for good.
class LevelSplitSink : public spdlog::sinks::sink {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  LevelSplitSink(spdlog::sink_ptr low, spdlog::sink_ptr high);
  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  spdlog::sink_ptr low_, high_;
};

// The plugin's logger: a LevelSplitSink over `low` and `high` (stdout and
// stderr in the plugin), at `level`, lines stamped with UTC time and level.
std::shared_ptr<spdlog::logger> make_plugin_logger(spdlog::level::level_enum level,
                                                   spdlog::sink_ptr low, spdlog::sink_ptr high);

}  // namespace logguard
