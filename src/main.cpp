// logguard: a Docker logging plugin that rate-limits, rotates and compresses
// container logs. Flags and environment -> settings -> driver + HTTP server.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "logguard/compressor.h"
#include "logguard/driver.h"
#include "logguard/file_system.h"
#include "logguard/http_server.h"
#include "logguard/options.h"
#include "logguard/plugin_api.h"

namespace {

struct Flags {
  std::string socket = "/run/docker/plugins/logguard.sock";
  std::string root = "/var/log/logguard";
  std::string log_level = "info";
};

constexpr const char* kUsage =
    "usage: logguard [--socket PATH] [--root DIR] [--log-level LEVEL]\n"
    "  --socket     unix socket the engine connects to (default /run/docker/plugins/logguard.sock)\n"
    "  --root       where container logs are written (default /var/log/logguard)\n"
    "  --log-level  trace, debug, info, warn, error (default info; env LOG_LEVEL)\n"
    "Defaults for every container's log-opts come from the environment: RATE, BURST,\n"
    "LINE_RATE, LINE_BURST, ON_LIMIT, DROP_NOTICE, MAX_SIZE, MAX_FILE, COMPRESS.\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "logguard: " << message << "\n" << kUsage;
  std::exit(2);
}

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  if (const char* level = std::getenv("LOG_LEVEL"); level && *level) flags.log_level = level;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("missing value for " + arg);
    }
    if (arg == "--socket") flags.socket = value;
    else if (arg == "--root") flags.root = value;
    else if (arg == "--log-level") flags.log_level = value;
    else usage_error("unknown flag " + arg);
  }
  return flags;
}

void setup_logging(const std::string& level_name) {
  auto level = spdlog::level::from_str(level_name);
  if (level == spdlog::level::off && level_name != "off") usage_error("invalid log level " + level_name);
  // stderr: the engine copies it into its own log, tagged with the plugin ID.
  spdlog::set_default_logger(spdlog::stderr_color_mt("logguard"));
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace logguard;
  Flags flags = parse_flags(argc, argv);
  setup_logging(flags.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  DriverConfig config;
  config.root = flags.root;
  try {
    config.default_opts = default_log_opts_from_env([](const char* name) { return std::getenv(name); });
  } catch (const OptionError& e) {
    spdlog::critical("invalid plugin setting: {}", e.what());
    return 2;
  }

  try {
    posix_file_system().create_dirs(config.root);
    Compressor compressor;
    Driver driver(config, posix_file_system(), &compressor);
    PluginApi api(driver);
    boost::asio::io_context io;
    HttpServer server(io, flags.socket, api);
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int signal) {
      spdlog::info("signal {}: writing what is buffered and stopping", signal);
      server.stop();
      driver.shutdown();  // ends sessions, closes logs, which ends followers
      io.stop();
    });
    server.start();
    spdlog::info("logguard listening on {}, writing logs under {}", flags.socket, config.root);
    io.run();
    server.join();
    compressor.stop();
  } catch (const std::exception& e) {
    spdlog::critical("logguard cannot run: {}", e.what());
    return 1;
  }
  spdlog::info("logguard stopped");
  return 0;
}
