#include "logguard/config/plugin_log.h"

#include <string>

#include <spdlog/details/log_msg.h>

#include "logguard/config/options.h"

namespace logguard {

spdlog::level::level_enum parse_log_level(std::string_view text) {
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn") return spdlog::level::warn;
  if (text == "error") return spdlog::level::err;
  throw OptionError("logguard: invalid plugin setting LOG_LEVEL \"" + std::string(text) +
                    "\": want debug, info, warn or error");
}

LevelSplitSink::LevelSplitSink(spdlog::sink_ptr low, spdlog::sink_ptr high)
    : low_(std::move(low)), high_(std::move(high)) {}

void LevelSplitSink::log(const spdlog::details::log_msg& msg) {
  spdlog::sinks::sink& to = msg.level < spdlog::level::warn ? *low_ : *high_;
  if (msg.payload.size() <= kMaxLine) {
    to.log(msg);
    return;
  }
  const std::string text = std::string(msg.payload.data(), kMaxLine) + " [" +
                           std::to_string(msg.payload.size() - kMaxLine) + " bytes cut]";
  spdlog::details::log_msg cut = msg;
  cut.payload = spdlog::string_view_t(text.data(), text.size());
  to.log(cut);
}

void LevelSplitSink::flush() {
  low_->flush();
  high_->flush();
}

void LevelSplitSink::set_pattern(const std::string& pattern) {
  low_->set_pattern(pattern);
  high_->set_pattern(pattern);
}

void LevelSplitSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  high_->set_formatter(formatter->clone());
  low_->set_formatter(std::move(formatter));
}

std::shared_ptr<spdlog::logger> make_plugin_logger(spdlog::level::level_enum level,
                                                   spdlog::sink_ptr low, spdlog::sink_ptr high) {
  auto logger = std::make_shared<spdlog::logger>(
      "logguard", std::make_shared<LevelSplitSink>(std::move(low), std::move(high)));
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace logguard
