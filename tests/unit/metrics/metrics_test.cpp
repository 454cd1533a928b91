// Metrics: the series a container's writers feed move with what is received,
// written and dropped; a gone container's series go; the text is what
// Prometheus (and promtool) accept.
#include "logguard/metrics/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "fake_file_system.h"
#include "fake_stream.h"
#include "logguard/storage/container_log.h"
#include "logguard/format/log_names.h"
#include "logguard/ingest/stream_pump.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeFileSystem;
using testing::FakeStream;

const std::string kId(64, 'a');
const std::string kRoot = "/logs";

// The samples of a text exposition: "name{labels}" -> value. Lines that
// are neither comments nor samples fail the test.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    out[line.substr(0, space)] = value == "+Inf" ? INFINITY : std::stod(value);
  }
  return out;
}

std::string series(const std::string& name, const std::string& extra = "") {
  return name + "{container_id=\"" + kId + "\",container_name=\"web\"" +
         (extra.empty() ? "" : "," + extra) + "}";
}

// A container writing through a real pump into a fake file system.
struct Container {
  Container(Metrics& metrics, Clock& clock, LimitOptions limits, uint64_t max_size = 1 << 20)
      : dirs(fs),
        log(std::make_shared<ContainerLog>(
            fs, dirs.acquire(container_log_dir(kRoot, kId), log_base_name(kId)),
            RotationOptions{max_size, 5, Codec::kNone}, nullptr, metrics.container(kId, "/web"))),
        limiter(limits),
        pump({"fifo", &stream, log.get(), &limiter, nullptr, &clock, nullptr}) {
    log->open();
  }
  uint64_t bytes_in_files() {
    uint64_t total = 0;
    const std::string dir = container_log_dir(kRoot, kId);
    for (const auto& file : list_log_files(fs, dir, log_base_name(kId))) {
      total += fs.read_all(dir + "/" + file.name).size();
    }
    return total;
  }

  FakeFileSystem fs;
  LogDirectories dirs;
  FakeStream stream;
  std::shared_ptr<ContainerLog> log;
  Limiter limiter;
  StreamPump pump;
};

TEST(Metrics, CountersMoveAsRecordsAreWrittenAndDropped) {
  FakeClock clock;
  Metrics metrics(clock);
  LimitOptions limits;
  limits.bytes_per_sec = 1000;
  limits.burst_bytes = 2000;
  Container c(metrics, clock, limits);
  const std::string line(99, 'x');  // 100 bytes with its newline
  for (int i = 0; i < 100; ++i) c.stream.write(testing::frame("stdout", line));
  while (c.pump.turn().kind == StreamPump::Turn::kProgress) {
  }
  auto s = samples(metrics.scrape());
  EXPECT_EQ(s[series("logguard_container_received_lines_total")], 100);
  EXPECT_EQ(s[series("logguard_container_received_bytes_total")], 10000);
  const double written = s[series("logguard_container_written_lines_total")];
  const double dropped = s[series("logguard_container_dropped_lines_total", "limit=\"rate\"")];
  EXPECT_GT(written, 0);
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(written + dropped, 100);
  EXPECT_EQ(s[series("logguard_container_dropped_bytes_total", "limit=\"rate\"")], dropped * 100);
  // A cause that dropped nothing has no series: an idle container keeps 9, not 23.
  EXPECT_EQ(s.count(series("logguard_container_dropped_bytes_total", "limit=\"node-rate\"")), 0u);
  size_t drop_series = 0;
  for (const auto& [name, value] : s) drop_series += name.rfind("logguard_container_dropped_", 0) == 0;
  EXPECT_EQ(drop_series, 2u);
  EXPECT_EQ(s[series("logguard_container_written_bytes_total")], c.bytes_in_files());
  EXPECT_EQ(s["logguard_write_duration_seconds_count"], 1);  // one batch, one write

  // The notice is written too, and counted as bytes (not as lines).
  clock.advance(2'000'000'000);
  c.pump.write_notices(true);
  s = samples(metrics.scrape());
  EXPECT_EQ(s[series("logguard_container_written_bytes_total")], c.bytes_in_files());
  EXPECT_EQ(s[series("logguard_container_written_lines_total")], written);
}

TEST(Metrics, RotationsAreCounted) {
  FakeClock clock;
  Metrics metrics(clock);
  Container c(metrics, clock, LimitOptions{}, 10'000);
  for (int i = 0; i < 300; ++i) c.stream.write(testing::frame("stdout", std::string(99, 'y')));
  while (c.pump.turn().kind == StreamPump::Turn::kProgress) {
  }
  auto s = samples(metrics.scrape());
  // 300 records of about 160 bytes in files of 10 kB.
  EXPECT_GE(s[series("logguard_container_rotations_total")], 4);
  EXPECT_EQ(s[series("logguard_container_written_lines_total")], 300);
}

TEST(Metrics, WriteErrorsAreCounted) {
  testing::QuietLogs quiet;
  FakeClock clock;
  Metrics metrics(clock);
  Container c(metrics, clock, LimitOptions{});
  c.fs.fail_after(0, std::errc::no_space_on_device);
  for (int i = 0; i < 10; ++i) c.stream.write(testing::frame("stdout", "lost"));
  c.pump.turn();
  auto s = samples(metrics.scrape());
  EXPECT_GE(s["logguard_write_errors_total"], 1);
  // A record the file took stays buffered there and is written at the next
  // try; one it refused is dropped.
  EXPECT_EQ(s[series("logguard_container_written_lines_total")] +
                s[series("logguard_container_dropped_lines_total", "limit=\"write-error\"")],
            10);
}

TEST(Metrics, SeriesOfAGoneContainerLingerThenGo) {
  FakeClock clock;
  Metrics metrics(clock);
  auto handle = metrics.container(kId, "/web");
  handle->written_bytes.Increment(5);
  EXPECT_EQ(samples(metrics.scrape())[series("logguard_container_written_bytes_total")], 5);
  handle.reset();  // the container's last session ended
  clock.advance(Metrics::kLingerNanos / 2);
  EXPECT_EQ(samples(metrics.scrape())[series("logguard_container_written_bytes_total")], 5);
  clock.advance(Metrics::kLingerNanos);
  const std::string text = metrics.scrape();
  EXPECT_EQ(text.find(kId), std::string::npos) << text;
  EXPECT_EQ(metrics.containers(), 0u);
}

TEST(Metrics, AContainerBackWithinTheLingerKeepsItsSeries) {
  FakeClock clock;
  Metrics metrics(clock);
  metrics.container(kId, "/web")->written_bytes.Increment(5);
  metrics.scrape();
  clock.advance(Metrics::kLingerNanos - 1);
  auto again = metrics.container(kId, "/web");
  again->written_bytes.Increment(1);
  clock.advance(Metrics::kLingerNanos);
  EXPECT_EQ(samples(metrics.scrape())[series("logguard_container_written_bytes_total")], 6);
}

TEST(Metrics, ManyShortLivedContainersStayBounded) {
  FakeClock clock;
  Metrics metrics(clock);
  for (int i = 0; i < 1000; ++i) {
    metrics.container(std::to_string(i), "c")->received_lines.Increment();
    clock.advance(Metrics::kLingerNanos / 10);
  }
  EXPECT_LE(metrics.containers(), 12u);
}

TEST(Metrics, DiskBytesOnlyForContainersWithSeries) {
  FakeClock clock;
  Metrics metrics(clock);
  auto handle = metrics.container(kId, "web");
  metrics.set_disk_bytes({{kId, 12345}, {std::string(64, 'b'), 1}});
  const std::string text = metrics.scrape();
  EXPECT_EQ(samples(text)[series("logguard_container_disk_bytes")], 12345);
  EXPECT_EQ(text.find(std::string(64, 'b')), std::string::npos);
}

TEST(Metrics, ScrapeRefreshesPluginWideValues) {
  FakeClock clock;
  Metrics metrics(clock);
  int sessions = 3;
  metrics.on_scrape([&] { metrics.sessions().Set(sessions); });
  EXPECT_EQ(samples(metrics.scrape())["logguard_sessions"], 3);
  sessions = 4;
  EXPECT_EQ(samples(metrics.scrape())["logguard_sessions"], 4);
}

// Names, help, types and units as Prometheus's own linter wants them.
TEST(Metrics, PromtoolAcceptsTheText) {
  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << "no promtool (Debian package prometheus)";
  FakeClock clock;
  Metrics metrics(clock);
  LimitOptions limits;
  limits.bytes_per_sec = 1000;
  limits.burst_bytes = 1000;
  Container c(metrics, clock, limits);
  for (int i = 0; i < 50; ++i) c.stream.write(testing::frame("stdout", "a \"quoted\" line"));
  c.pump.turn();
  metrics.probe_duration().Observe(0.002);
  metrics.node_budget().Set(INFINITY);
  testing::TempDir dir;
  const std::string path = dir / "metrics.txt";
  std::ofstream(path) << metrics.scrape();
  const std::string command = std::string(promtool) + " check metrics < " + path + " 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string said;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, out)) said.append(buf, n);
  EXPECT_EQ(::pclose(out), 0) << said;
  EXPECT_EQ(said, "");
}

}  // namespace
}  // namespace logguard
