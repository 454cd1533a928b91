// The write path in-process, without dockerd: a writer thread plays the
// engine (frames of 100-byte lines into a FIFO held O_RDWR), a Driver reads,
// limits and writes them. Reports process CPU seconds per GiB of input for
// lines that are written and for lines that are dropped, and their ratio.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "logguard/driver.h"
#include "logguard/file_system.h"
#include "logguard/frame.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// 64 KiB of frames, each a 99-byte line (100 with its newline).
std::string frame_block() {
  LogEntry entry;
  entry.set_source("stdout");
  entry.set_time_nano(1'700'000'000'000'000'000);
  entry.set_line(std::string(99, 'x'));
  std::string block;
  while (block.size() < 64 * 1024) append_frame(block, entry);
  return block;
}

// Pushes `input_bytes` of line data through a Driver with the given log-opts.
void run_write_path(benchmark::State& state, const LogOpts& opts) {
  const size_t input_bytes = size_t{256} << 20;
  const std::string block = frame_block();
  fs::path dir = fs::temp_directory_path() / ("lg-bench-" + std::to_string(::getpid()));
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    DriverConfig config;
    config.root = (dir / "logs").string();
    config.stop_drain_timeout = std::chrono::seconds(60);
    Driver driver(config, posix_file_system(), nullptr);
    std::string fifo = (dir / "fifo").string();
    ::mkfifo(fifo.c_str(), 0700);
    int engine = ::open(fifo.c_str(), O_RDWR);
    const double cpu_before = process_cpu_seconds();
    driver.start_logging(fifo, {std::string(64, 'c'), "/bench", opts});
    size_t written = 0;
    while (written < input_bytes) {
      ssize_t n = ::write(engine, block.data(), block.size());
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    driver.stop_logging(fifo);
    ::close(engine);
    driver.shutdown();
    const double cpu = process_cpu_seconds() - cpu_before;
    state.counters["cpu_s_per_GiB"] = cpu / (double(written) / double(1 << 30));
    state.SetBytesProcessed(static_cast<int64_t>(written));
  }
  fs::remove_all(dir);
}

void BM_Written(benchmark::State& state) {
  run_write_path(state, {{"rate", "off"}, {"max-size", "64m"}, {"compress", "false"}});
}
void BM_Dropped(benchmark::State& state) {
  run_write_path(state, {{"rate", "1k"}, {"burst", "1k"}, {"max-size", "64m"}, {"compress", "false"}});
}

BENCHMARK(BM_Written)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Dropped)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace logguard

BENCHMARK_MAIN();
