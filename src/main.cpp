// logguard: a Docker logging plugin that rate-limits, rotates and compresses
// container logs and guards the node's log disk. Flags and environment ->
// settings -> the parts (see docs/ARCHITECTURE.md) -> serve until a signal.
#include <malloc.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "logguard/base/clock.h"
#include "logguard/ingest/fifo_stream.h"
#include "logguard/base/cpu_meter.h"
#include "logguard/base/memory_trim.h"
#include "logguard/storage/compressor.h"
#include "logguard/driver/driver.h"
#include "logguard/base/file_system.h"
#include "logguard/server/http_server.h"
#include "logguard/config/kube_settings.h"
#include "logguard/storage/log_directory.h"
#include "logguard/metrics/metrics.h"
#include "logguard/server/metrics_server.h"
#include "logguard/node/node_guard.h"
#include "logguard/config/node_settings.h"
#include "logguard/config/options.h"
#include "logguard/server/plugin_api.h"
#include "logguard/config/plugin_log.h"
#include "logguard/storage/pod_links.h"
#include "logguard/storage/posix_file_system.h"
#include "logguard/storage/session_store.h"
#include "logguard/storage/write_back.h"

namespace {

struct Flags {
  std::string socket = "/run/docker/plugins/logguard.sock";
  std::string root = "/var/log/logguard";
  std::string state_dir = "/var/lib/logguard";
  std::string containers_dir;
  std::string fifo_dir = "/run/docker/logging";
  std::string pods_dir = "/var/log/pods";
  std::string log_level;  // empty: the LOG_LEVEL setting
};

constexpr const char* kUsage =
    "usage: logguard [--socket PATH] [--root DIR] [--state-dir DIR] [--containers-dir DIR]\n"
    "                [--fifo-dir DIR] [--pods-dir DIR] [--log-level LEVEL]\n"
    "  --socket          unix socket the engine connects to (default /run/docker/plugins/logguard.sock)\n"
    "  --root            where container logs are written (default /var/log/logguard)\n"
    "  --state-dir       where sessions are remembered across restarts (default /var/lib/logguard)\n"
    "  --containers-dir  the engine's containers directory, to delete the logs of removed\n"
    "                    containers (default: none; then RETAIN applies)\n"
    "  --fifo-dir        where the engine creates log FIFOs (default /run/docker/logging)\n"
    "  --pods-dir        kubelet's pod logs directory, where the CRI log paths of pods'\n"
    "                    containers are linked (default /var/log/pods; if missing, none are)\n"
    "  --log-level       debug, info, warn or error (default: the LOG_LEVEL setting, info)\n"
    "Settings come from the environment: RATE, BURST, LINE_RATE, LINE_BURST, ON_LIMIT,\n"
    "DROP_NOTICE, MAX_SIZE, MAX_FILE, COMPRESS (defaults of every container's log-opts),\n"
    "NODE_WRITE_RATE, NODE_WRITE_BURST, NODE_LATENCY_TARGET, NODE_MAX_DISK, NODE_MIN_FREE,\n"
    "RETAIN (the node guard), KUBE_POD_LINKS, KUBE_POD_LOGS_DIR, KUBE_LOGROOT_SOURCE,\n"
    "KUBE_LOG_MAX_SIZE (Kubernetes), METRICS_ADDR (GET /metrics over TCP, default\n"
    "127.0.0.1:9464; off: only on the socket) and LOG_LEVEL (the plugin's own messages: debug\n"
    "and info to stdout, warn and error to stderr).\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "logguard: " << message << "\n" << kUsage;
  std::exit(2);
}

Flags parse_flags(int argc, char** argv) {
  Flags flags;
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
    else if (arg == "--state-dir") flags.state_dir = value;
    else if (arg == "--containers-dir") flags.containers_dir = value;
    else if (arg == "--fifo-dir") flags.fifo_dir = value;
    else if (arg == "--pods-dir") flags.pods_dir = value;
    else if (arg == "--log-level") flags.log_level = value;
    else usage_error("unknown flag " + arg);
  }
  return flags;
}

// At info until the settings are read: a bad one is reported, then the
// LOG_LEVEL setting applies.
void setup_logging() {
  spdlog::set_default_logger(logguard::make_plugin_logger(
      spdlog::level::info, std::make_shared<spdlog::sinks::stdout_sink_mt>(),
      std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

// Whether the pods directory is there to link CRI log paths in (a legacy
// plugin on a node without kubelet has none).
bool pods_dir_usable(logguard::FileSystem& host_fs, const std::string& dir) {
  if (host_fs.entry_type(dir) == logguard::EntryType::kDirectory) return true;
  spdlog::info("{} is not a directory: no links at CRI log paths (KUBE_POD_LINKS)", dir);
  return false;
}

// Many mostly idle sessions: one malloc arena, and buffers of a burst
// (64 KiB and up) mapped on their own so that freeing them gives the memory
// back to the system instead of keeping each thread's peak. Each arena
// keeps pages a trim does not return: memory left per gone container after
// the upkeep's trim was 1.3 KiB with 2 arenas, 0.2 with one, 3.9 with
// glibc's default (300 sessions in-process). The managed plugin also runs
// without per-thread caches (GLIBC_TUNABLES in config.json: tunables are
// read before main): each long-lived thread's tcache held freed chunks from
// all over the heap, ~2 MB pinned after 150 containers had come and gone
// (0.3 MB without). The few busy threads allocate little per turn, so the
// arena's lock costs nothing measurable.
void limit_memory_per_thread() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace logguard;
  Flags flags = parse_flags(argc, argv);
  setup_logging();
  limit_memory_per_thread();
  std::signal(SIGPIPE, SIG_IGN);

  auto getenv = [](const char* name) { return std::getenv(name); };
  DriverConfig config;
  config.root = flags.root;
  config.fifo_dir = flags.fifo_dir;
  NodeGuardConfig guard_config;
  guard_config.root = flags.root;
  guard_config.containers_dir = flags.containers_dir;
  std::optional<MetricsAddress> metrics_addr;
  KubeSettings kube;
  try {
    const char* level = getenv("LOG_LEVEL");
    if (flags.log_level.empty()) flags.log_level = level && *level ? level : "info";
    spdlog::set_level(parse_log_level(flags.log_level));
    config.default_opts = default_log_opts_from_env(getenv);
    guard_config.settings = node_settings_from_env(getenv);
    kube = kube_settings_from_env(getenv);
    const char* addr = getenv("METRICS_ADDR");
    metrics_addr = parse_metrics_addr(addr ? addr : kDefaultMetricsAddr);
  } catch (const OptionError& e) {
    spdlog::critical("{}", e.what());
    return 2;
  }
  std::string defaults;
  for (const auto& [key, value] : config.default_opts) defaults += " " + key + "=" + value;
  spdlog::info("settings: log-opt defaults:{}; {}; {}; containers directory: {}; metrics: {}; "
               "LOG_LEVEL={}",
               defaults.empty() ? " (built-in)" : defaults, guard_config.settings.describe(),
               kube.describe(), flags.containers_dir.empty() ? "none" : flags.containers_dir,
               metrics_addr ? metrics_addr->describe() + " and the socket" : "on the socket only",
               flags.log_level);

  try {
    // What the whole process shares, made here and passed down (ARCHITECTURE.md, Ownership).
    SystemClock clock;
    auto host_fs = make_posix_file_system("");  // main's own paths only
    FifoPipes fifo_pipes;
    // Before everything that holds a container's series (logs, compression jobs).
    Metrics metrics(clock);
    config.metrics = &metrics;
    guard_config.metrics = &metrics;
    host_fs->create_dirs(config.root);
    // Hands what the plugin writes to the disk at the node's pace.
    WriteBack write_back(clock);
    write_back.start();
    auto log_fs = make_posix_file_system(config.root, &write_back);
    auto engine_fs = make_posix_file_system(flags.containers_dir);
    LogDirectories directories(*log_fs);
    auto pods_fs = make_posix_file_system(flags.pods_dir);
    std::optional<PodLinks> pod_links;
    if (kube.pod_links && pods_dir_usable(*host_fs, flags.pods_dir)) {
      pod_links.emplace(*pods_fs, flags.pods_dir, *log_fs, config.root, kube);
      config.pod_links = guard_config.pod_links = &*pod_links;
    }
    NodeGuard guard(guard_config, *log_fs, *engine_fs, directories, write_back, clock);
    Compressor compressor(clock);
    compressor.charge_to(guard.budget().join("compressor"));
    ProcCpuMeter cpu_meter(*host_fs, clock);
    compressor.yield_to(cpu_meter);
    // Rooted too: nothing planted in the state directory is followed.
    auto state_fs = make_posix_file_system(flags.state_dir);
    SessionStore store(*state_fs, flags.state_dir + "/sessions");
    Driver driver(config, *log_fs, directories, &compressor, &store, &guard, clock, fifo_pipes);
    // Before the socket answers: the engine must never find a second reader
    // on a FIFO a reattached session reads. Before the guard starts: a
    // reattached container is live from here on.
    driver.reattach();
    guard.start(driver);
    metrics.on_scrape([&] {
      metrics.sessions().Set(static_cast<double>(driver.session_count()));
      metrics.compressor_queued().Set(static_cast<double>(compressor.queued()));
      metrics.compressor_lag().Set(static_cast<double>(compressor.oldest_wait_nanos()) / 1e9);
      metrics.compressor_yielding().Set(compressor.yielding() ? 1 : 0);
      NodeBudget& budget = guard.budget().budget();
      const double rate = budget.rate();
      metrics.node_budget().Set(rate > 0 ? rate : std::numeric_limits<double>::infinity());
      metrics.node_backlog().Set(static_cast<double>(write_back.backlog()));
      metrics.node_backlog_limit().Set(static_cast<double>(budget.allowance()));
    });
    PluginApi api(driver, &metrics);
    boost::asio::io_context io;
    // Every 10 s: ended containers' series go after their linger, their log
    // directories' state once no one holds it, and the memory sessions and
    // series freed goes back to the system (memory_trim.h).
    boost::asio::steady_timer upkeep(io);
    MemoryTrim memory_trim;
    std::function<void()> keep_up = [&] {
      upkeep.expires_after(std::chrono::seconds(10));
      upkeep.async_wait([&](const boost::system::error_code& error) {
        if (error) return;
        const size_t directories_swept = directories.sweep();
        if (memory_trim.something_ended(driver.session_count(), metrics.sweep(),
                                        directories_swept)) {
          trim_free_memory();
        }
        keep_up();
      });
    };
    keep_up();
    HttpServer server(io, flags.socket, api);
    std::optional<MetricsServer> metrics_server;
    if (metrics_addr) metrics_server.emplace(io, *metrics_addr, [&] { return metrics.scrape(); });
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int signal) {
      spdlog::info("signal {}: writing what was read and stopping", signal);
      server.stop();
      if (metrics_server) metrics_server->stop();
      driver.shutdown();  // ends sessions (progress saved), closes logs, which ends followers
      upkeep.cancel();
      io.stop();
    });
    server.start();
    if (metrics_server) metrics_server->start();
    spdlog::info("logguard listening on {}, writing logs under {}", flags.socket, config.root);
    io.run();
    server.join();
    guard.stop();
    compressor.stop();
    write_back.stop();
  } catch (const std::exception& e) {
    spdlog::critical("logguard cannot run: {}", e.what());
    return 1;
  }
  spdlog::info("logguard stopped");
  return 0;
}
