// The plugin's own log: levels split between stdout and stderr (the engine
// logs them as info and error), LOG_LEVEL's values, overlong lines cut.
#include "logguard/config/plugin_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "logguard/config/options.h"

namespace logguard {
namespace {

struct Captured {
  std::ostringstream low, high;
  std::shared_ptr<spdlog::logger> logger;
  explicit Captured(spdlog::level::level_enum level)
      : logger(make_plugin_logger(level, std::make_shared<spdlog::sinks::ostream_sink_st>(low),
                                  std::make_shared<spdlog::sinks::ostream_sink_st>(high))) {}
};

TEST(PluginLog, DebugAndInfoGoToStdoutWarningsAndErrorsToStderr) {
  Captured c(spdlog::level::debug);
  c.logger->debug("d1");
  c.logger->info("i1");
  c.logger->warn("w1");
  c.logger->error("e1");
  c.logger->critical("c1");
  EXPECT_NE(c.low.str().find(" debug d1\n"), std::string::npos) << c.low.str();
  EXPECT_NE(c.low.str().find(" info i1\n"), std::string::npos) << c.low.str();
  EXPECT_EQ(c.low.str().find("w1"), std::string::npos) << c.low.str();
  EXPECT_EQ(c.low.str().find("e1"), std::string::npos) << c.low.str();
  EXPECT_NE(c.high.str().find(" warning w1\n"), std::string::npos) << c.high.str();
  EXPECT_NE(c.high.str().find(" error e1\n"), std::string::npos) << c.high.str();
  EXPECT_NE(c.high.str().find(" critical c1\n"), std::string::npos) << c.high.str();
  EXPECT_EQ(c.high.str().find("i1"), std::string::npos) << c.high.str();
}

TEST(PluginLog, LinesCarryUtcTimeAndLevel) {
  Captured c(spdlog::level::info);
  c.logger->info("hello");
  const std::string line = c.low.str();
  ASSERT_FALSE(line.empty());
  // 2026-12-01T03:03:48.636412Z info hello
  EXPECT_EQ(line.size(), std::string("2026-12-01T03:03:48.636412Z info hello\n").size()) << line;
  EXPECT_EQ(line[10], 'T');
  EXPECT_EQ(line.substr(26), "Z info hello\n");
}

TEST(PluginLog, TheLevelHidesWhatIsBelowIt) {
  Captured c(spdlog::level::warn);
  c.logger->info("quiet");
  c.logger->warn("loud");
  EXPECT_EQ(c.low.str(), "");
  EXPECT_NE(c.high.str().find("loud"), std::string::npos);
}

TEST(PluginLog, AnOverlongMessageIsCutAndSaysSo) {
  Captured c(spdlog::level::info);
  c.logger->error("{}", std::string(LevelSplitSink::kMaxLine + 5000, 'x'));
  const std::string out = c.high.str();
  EXPECT_LT(out.size(), LevelSplitSink::kMaxLine + 100);
  EXPECT_NE(out.find(std::string(LevelSplitSink::kMaxLine, 'x') + " [5000 bytes cut]\n"),
            std::string::npos);
  c.logger->info("{}", std::string(LevelSplitSink::kMaxLine, 'y'));
  EXPECT_NE(c.low.str().find(std::string(LevelSplitSink::kMaxLine, 'y') + "\n"),
            std::string::npos);
}

TEST(PluginLog, LogLevelTakesTheFourLevels) {
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
}

TEST(PluginLog, AnyOtherLogLevelIsRefusedWithTheSettingNamed) {
  for (const char* bad : {"loud", "", "off", "trace", "INFO", "warning", "critical"}) {
    try {
      parse_log_level(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const OptionError& e) {
      EXPECT_EQ(std::string(e.what()), "logguard: invalid plugin setting LOG_LEVEL \"" +
                                           std::string(bad) +
                                           "\": want debug, info, warn or error");
    }
  }
}

}  // namespace
}  // namespace logguard
