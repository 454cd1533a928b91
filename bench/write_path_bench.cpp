// The write path in-process, without dockerd: the benchmark thread plays the
// engine (frames of 100-byte lines into a FIFO held O_RDWR), a Driver reads,
// limits and writes them (compress=false, max-size=64m, default max-file).
//
// Two ways of feeding the FIFO:
//   Block    64 KiB of frames per write(2): the driver reads full 64 KiB buffers.
//   PerFrame one frame per write(2), as dockerd does: the driver may wake up
//            and read once per line when it keeps up with the writer.
// and two limits: Written (rate=off) and Dropped (rate=1k, burst=1k).
//
// After the benchmarks it prints CPU seconds per GiB of input (the line bytes,
// 100 per line) for written and dropped lines and their ratio, both for the
// whole process and for the driver alone (process CPU minus the writer
// thread's own CPU, measured with RUSAGE_THREAD).
//
// usage: write_path_bench [--input_mib=N] [benchmark flags]
//   N: MiB of input per iteration for the Block variants (default 256);
//   PerFrame variants use N/4.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "logguard/base/clock.h"
#include "logguard/driver/driver.h"
#include "logguard/base/file_system.h"
#include "logguard/format/frame.h"
#include "logguard/ingest/fifo_stream.h"
#include "logguard/storage/posix_file_system.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;

size_t g_input_mib = 256;

struct Totals {
  double process_cpu = 0;  // seconds
  double driver_cpu = 0;   // seconds, process minus the writer thread
  double input_bytes = 0;  // line bytes fed
  double wall = 0;
};
std::map<std::string, Totals> g_totals;  // by variant, e.g. "Written/Block"

double seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

LogEntry line_entry() {
  LogEntry entry;
  entry.set_source("stdout");
  entry.set_time_nano(1'700'000'000'000'000'000);
  entry.set_line(std::string(99, 'x'));  // 100 bytes with the newline the engine strips
  return entry;
}

// 64 KiB of frames (whole frames only), and the size of one frame.
std::string frame_block(size_t* frame_size) {
  const LogEntry entry = line_entry();
  std::string one;
  append_frame(one, entry);
  *frame_size = one.size();
  std::string block;
  while (block.size() + one.size() <= 64 * 1024) block += one;
  return block;
}

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Pushes lines through a Driver with the given log-opts; records CPU and input.
void run_write_path(benchmark::State& state, const std::string& variant, const LogOpts& opts,
                    bool frame_per_write) {
  const size_t input_mib = frame_per_write ? std::max<size_t>(1, g_input_mib / 4) : g_input_mib;
  const size_t lines_wanted = (input_mib << 20) / 100;
  size_t frame_size = 0;
  const std::string block = frame_block(&frame_size);
  const size_t frames_per_block = block.size() / frame_size;
  fs::path dir = fs::temp_directory_path() / ("lg-bench-" + std::to_string(::getpid()));
  Totals& totals = g_totals[variant];
  double fed = 0;
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    DriverConfig config;
    config.root = (dir / "logs").string();
    config.fifo_dir = dir.string();
    config.stop_drain_timeout = std::chrono::seconds(60);
    auto host_fs = make_posix_file_system("");
    LogDirectories directories(*host_fs);
    SystemClock clock;
    FifoPipes pipes;
    Driver driver(config, *host_fs, directories, nullptr, nullptr, nullptr, clock, pipes);
    std::string fifo = (dir / "fifo").string();
    ::mkfifo(fifo.c_str(), 0700);
    int engine = ::open(fifo.c_str(), O_RDWR);
    const auto wall_before = std::chrono::steady_clock::now();
    const double cpu_before = cpu_seconds(RUSAGE_SELF);
    const double writer_before = cpu_seconds(RUSAGE_THREAD);
    ContainerInfo info;
    info.id = std::string(64, 'c');
    info.name = "/bench";
    info.log_opts = opts;
    driver.start_logging(fifo, info);
    size_t lines = 0;
    bool ok = true;
    while (ok && lines < lines_wanted) {
      if (frame_per_write) {
        for (size_t i = 0; ok && i < frames_per_block && lines < lines_wanted; ++i, ++lines) {
          ok = write_all(engine, block.data() + i * frame_size, frame_size);
        }
      } else {
        ok = write_all(engine, block.data(), block.size());
        lines += frames_per_block;
      }
    }
    const double writer_cpu = cpu_seconds(RUSAGE_THREAD) - writer_before;
    driver.stop_logging(fifo);
    ::close(engine);
    driver.shutdown();
    const double cpu = cpu_seconds(RUSAGE_SELF) - cpu_before;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
    if (!ok) state.SkipWithError("writing the FIFO failed");
    const double input = double(lines) * 100.0;
    totals.process_cpu += cpu;
    totals.driver_cpu += cpu - writer_cpu;
    totals.input_bytes += input;
    totals.wall += wall;
    fed += input;
  }
  state.SetBytesProcessed(static_cast<int64_t>(fed));
  const double gib = totals.input_bytes / double(1 << 30);
  state.counters["proc_cpu_s_per_GiB"] = totals.process_cpu / gib;
  state.counters["driver_cpu_s_per_GiB"] = totals.driver_cpu / gib;
  fs::remove_all(dir);
}

const LogOpts kWritten{{"rate", "off"}, {"max-size", "64m"}, {"compress", "false"}};
const LogOpts kDropped{{"rate", "1k"}, {"burst", "1k"}, {"max-size", "64m"}, {"compress", "false"}};

void BM_Written_Block(benchmark::State& s) { run_write_path(s, "Written/Block", kWritten, false); }
void BM_Dropped_Block(benchmark::State& s) { run_write_path(s, "Dropped/Block", kDropped, false); }
void BM_Written_PerFrame(benchmark::State& s) {
  run_write_path(s, "Written/PerFrame", kWritten, true);
}
void BM_Dropped_PerFrame(benchmark::State& s) {
  run_write_path(s, "Dropped/PerFrame", kDropped, true);
}

BENCHMARK(BM_Written_Block)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Dropped_Block)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Written_PerFrame)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Dropped_PerFrame)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void print_summary() {
  std::printf("\nCPU seconds per GiB of input (100-byte lines), all iterations together\n");
  std::printf("%-18s %10s %14s %14s %10s\n", "variant", "GiB", "process s/GiB", "driver s/GiB",
              "MB/s wall");
  for (const auto& [name, t] : g_totals) {
    if (t.input_bytes == 0) continue;
    const double gib = t.input_bytes / double(1 << 30);
    std::printf("%-18s %10.3f %14.3f %14.3f %10.1f\n", name.c_str(), gib, t.process_cpu / gib,
                t.driver_cpu / gib, t.input_bytes / 1e6 / t.wall);
  }
  std::printf("\nratio dropped / written (CPU s per GiB; 1.0 = a dropped line costs as much as a "
              "written one)\n");
  for (const char* feed : {"Block", "PerFrame"}) {
    auto w = g_totals.find(std::string("Written/") + feed);
    auto d = g_totals.find(std::string("Dropped/") + feed);
    if (w == g_totals.end() || d == g_totals.end() || w->second.input_bytes == 0 ||
        d->second.input_bytes == 0) {
      continue;
    }
    const double wg = w->second.input_bytes / double(1 << 30);
    const double dg = d->second.input_bytes / double(1 << 30);
    std::printf("%-9s process %.3f / %.3f = %.3f   driver %.3f / %.3f = %.3f\n", feed,
                d->second.process_cpu / dg, w->second.process_cpu / wg,
                (d->second.process_cpu / dg) / (w->second.process_cpu / wg),
                d->second.driver_cpu / dg, w->second.driver_cpu / wg,
                (d->second.driver_cpu / dg) / (w->second.driver_cpu / wg));
  }
}

}  // namespace
}  // namespace logguard

int main(int argc, char** argv) {
  // Our own flag, removed before Google Benchmark sees the arguments.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--input_mib=", 12) == 0) {
      logguard::g_input_mib = std::max(1L, std::strtol(argv[i] + 12, nullptr, 10));
    } else {
      args.push_back(argv[i]);
    }
  }
  spdlog::set_level(spdlog::level::warn);  // no "logging container" line per iteration
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  logguard::print_summary();
  return 0;
}
