// The driver with real FIFOs and files, the engine played by the test: it
// holds the FIFO open O_RDWR and writes frames, exactly as dockerd does.
#include "logguard/driver/driver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "logguard/node/disk_guard.h"
#include "logguard/base/file_system.h"
#include "logguard/format/frame.h"
#include "logguard/ingest/fifo_stream.h"
#include "logguard/format/json_record.h"
#include "logguard/format/json_record_parser.h"
#include "host_file_system.h"
#include "logguard/storage/posix_file_system.h"
#include "logguard/storage/session_store.h"
#include "kube_test_labels.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
const std::string kId(64, 'a');

ContainerInfo info(const std::string& name, LogOpts opts = {}, const std::string& id = kId) {
  ContainerInfo info;
  info.id = id;
  info.name = name;
  info.log_opts = std::move(opts);
  return info;
}

std::vector<Record> read_records(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Record> records;
  for (std::string line; std::getline(in, line);) {
    auto record = parse_json_record(line);
    EXPECT_TRUE(record) << line;
    if (record) records.push_back(*record);
  }
  return records;
}

using testing::CapturedLogs;
using testing::frame;

// The real file system, except that appends under `broken_dir` fail with
// ENOSPC (a full disk) or block until released (a stalled disk).
class TroubledFileSystem : public FileSystemWrapper {
 public:
  enum class Mode { kFull, kStalled };
  TroubledFileSystem(std::string broken_dir, Mode mode)
      : FileSystemWrapper(testing::host_file_system()), broken_dir_(std::move(broken_dir)), mode_(mode) {}
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Waits until an append under broken_dir stalls; false if none did
  // within the hang limit.
  bool wait_until_stalled() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, testing::kHangLimit, [&] { return stalled_; });
  }

  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    auto file = testing::host_file_system().open_append(path);
    if (path.find(broken_dir_) == std::string::npos) return file;
    return std::make_unique<TroubledFile>(*this, std::move(file));
  }

 private:
  class TroubledFile : public WritableFile {
   public:
    TroubledFile(TroubledFileSystem& fs, std::unique_ptr<WritableFile> file) : fs_(fs), file_(std::move(file)) {}
    void append(std::string_view data) override {
      if (fs_.mode_ == Mode::kFull) throw std::system_error(ENOSPC, std::generic_category(), "append");
      std::unique_lock lock(fs_.mu_);
      fs_.stalled_ = true;
      fs_.cv_.notify_all();
      fs_.cv_.wait(lock, [&] { return fs_.released_; });
      lock.unlock();
      file_->append(data);
    }
    void write_at(uint64_t offset, std::string_view data) override { file_->write_at(offset, data); }
    void sync() override { file_->sync(); }
    void close() override { file_->close(); }
    bool unlinked() override { return file_->unlinked(); }

   private:
    TroubledFileSystem& fs_;
    std::unique_ptr<WritableFile> file_;
  };

  std::string broken_dir_;
  Mode mode_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  bool stalled_ = false;
};

class CollectingSink : public RecordSink {
 public:
  bool write(const Record& record) override {
    records.push_back(record);
    return true;
  }
  std::vector<Record> records;
};

// Frames of lines "from" .. "to - 1", each stamped with its number.
std::string numbered(int from, int to) {
  std::string frames;
  for (int i = from; i < to; ++i) {
    frames += frame("stdout", std::to_string(i), 1'700'000'000'000'000'000 + i);
  }
  return frames;
}

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lg-driver-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "fifos");
    make_driver(testing::host_file_system());
  }
  void make_driver(FileSystem& files, SessionStore* store = nullptr, Metrics* metrics = nullptr) {
    driver_.reset();
    DriverConfig config;
    config.metrics = metrics;
    config.root = (dir_ / "logs").string();
    config.fifo_dir = (dir_ / "fifos").string();
    config.stop_drain_timeout = drain_timeout_;
    config.open_timeout = std::chrono::milliseconds(500);
    config.pod_links = pod_links_.get();
    directories_ = std::make_unique<LogDirectories>(files);
    driver_ = std::make_unique<Driver>(config, files, *directories_, nullptr, store, nullptr,
                                       testing::real_clock(), pipes_);
  }
  void TearDown() override {
    driver_.reset();
    directories_.reset();
    for (int fd : engine_fds_) ::close(fd);
    fs::remove_all(dir_);
  }

  // Makes a FIFO and holds it open as the engine does (O_RDWR).
  std::string make_fifo(const std::string& name) {
    std::string path = (dir_ / "fifos" / name).string();
    EXPECT_EQ(::mkfifo(path.c_str(), 0700), 0);
    int fd = ::open(path.c_str(), O_RDWR);
    EXPECT_GE(fd, 0);
    engine_fds_.push_back(fd);
    return path;
  }
  void engine_write(const std::string& bytes) {
    ASSERT_EQ(::write(engine_fds_.back(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // A plugin (persisting in store) that logged lines 0..9 of a container,
  // then stopped (disable, the engine's SIGTERM); returns the FIFO, whose
  // writer is still open.
  std::string log_ten_lines_then_stop(SessionStore& store, const std::string& fifo_name) {
    make_driver(testing::host_file_system(), &store);
    auto fifo = make_fifo(fifo_name);
    driver_->start_logging(fifo, info("/web", {{"rate", "off"}}));
    engine_write(numbered(0, 10));
    driver_->stop_logging(fifo);
    driver_->shutdown();
    return fifo;
  }
  void engine_close() {
    ::close(engine_fds_.back());
    engine_fds_.pop_back();
  }
  // Waits until every session has ended and been forgotten.
  void wait_sessions_ended() {
    ASSERT_TRUE(testing::eventually([&] { return driver_->session_count() == 0; }));
  }
  fs::path log_path() const { return dir_ / "logs" / kId / (kId + "-json.log"); }

  // Links at CRI log paths under dir_/pods, kubelet's limit at kube_max_size.
  void make_driver_with_pod_links(uint64_t kube_max_size = 10 * 1024 * 1024) {
    KubeSettings kube;
    kube.pod_logs_dir = (dir_ / "pods").string();
    kube.logroot_source = (dir_ / "logs").string();
    kube.log_max_size = kube_max_size;
    pods_fs_ = make_posix_file_system(kube.pod_logs_dir);
    pod_links_ = std::make_unique<PodLinks>(*pods_fs_, kube.pod_logs_dir, testing::host_file_system(),
                                            (dir_ / "logs").string(), kube);
    make_driver(testing::host_file_system());
  }
  // A pod's container with the CRI log path cri-dockerd gives it, whose
  // directory kubelet made.
  ContainerInfo pod_container(const std::string& id, int restart = 0, LogOpts opts = {}) {
    const std::string path = testing::cri_log_path("web-1", "default", "app", restart);
    const fs::path host = dir_ / "pods" / fs::path(path).lexically_relative("/var/log/pods");
    fs::create_directories(host.parent_path());
    ContainerInfo container = info("/k8s_app_web-1", std::move(opts), id);
    container.labels = testing::pod_labels("web-1", "default", "app", host.string());
    return container;
  }

  fs::path dir_;
  std::unique_ptr<FileSystem> pods_fs_;
  std::unique_ptr<PodLinks> pod_links_;
  std::unique_ptr<LogDirectories> directories_;
  std::chrono::milliseconds drain_timeout_{2000};  // StopLogging's, for make_driver
  FifoPipes pipes_;
  std::unique_ptr<Driver> driver_;
  std::vector<int> engine_fds_;
};

TEST_F(DriverTest, WritesFramesAsJsonFileRecordsBeforeStopLoggingReturns) {
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, info("/web"));
  engine_write(frame("stdout", "hello") + frame("stderr", "oops \"quoted\""));
  driver_->stop_logging(fifo);  // everything in the FIFO is on disk now
  auto records = read_records(log_path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].log, "hello\n");
  EXPECT_EQ(records[0].stream, "stdout");
  EXPECT_EQ(records[0].time_nanos, 1'700'000'000'000'000'000);
  EXPECT_EQ(records[1].log, "oops \"quoted\"\n");
  EXPECT_EQ(records[1].stream, "stderr");
  engine_close();
}

// An operator reads one line when a container starts logging and one with
// its totals when it stops, both at info (stdout: the engine's level=info).
TEST_F(DriverTest, LogsOneLineAtStartAndOneWithTheTotalsAtStop) {
  CapturedLogs logs;
  auto fifo = make_fifo("s");
  driver_->start_logging(fifo, info("/web", {{"rate", "off"}}));
  engine_write(frame("stdout", "one") + frame("stderr", "two"));
  driver_->stop_logging(fifo);
  engine_close();
  wait_sessions_ended();
  EXPECT_EQ(logs.out_lines_with(kId.substr(0, 12)),
            (std::vector<std::string>{
                "logging container aaaaaaaaaaaa (/web) from " + fifo,
                "stopped logging container aaaaaaaaaaaa (/web): received 2 lines (8B), wrote 2, "
                "dropped none"}));
  EXPECT_EQ(logs.err_lines(), std::vector<std::string>{});
}

// `docker run` waits for StartLogging (issue 23: p99 <= 20 ms with 500
// containers): each one is timed, refusals and repeats included.
TEST_F(DriverTest, EveryStartLoggingIsTimed) {
  Metrics metrics(testing::real_clock());
  make_driver(testing::host_file_system(), nullptr, &metrics);
  auto fifo = make_fifo("t");
  driver_->start_logging(fifo, info("/web"));
  driver_->start_logging(fifo, info("/web"));  // repeated for a live FIFO
  EXPECT_THROW(driver_->start_logging(fifo, info("/web", {{"rate", "fast"}})), OptionsRefused);
  const std::string text = metrics.scrape();
  EXPECT_NE(text.find("\nlogguard_start_logging_duration_seconds_count 3\n"), std::string::npos)
      << text;
  driver_->stop_logging(fifo);
  engine_close();
  wait_sessions_ended();
}

// A container's series linger two minutes after its last session ends, then
// go: a node that runs containers by the thousand must not keep them all.
TEST_F(DriverTest, AContainersSeriesGoOnceItsLastSessionEnded) {
  FakeClock clock;
  Metrics metrics(clock);
  make_driver(testing::host_file_system(), nullptr, &metrics);
  auto fifo = make_fifo("m");
  driver_->start_logging(fifo, info("/web"));
  engine_write(frame("stdout", "hello"));
  driver_->stop_logging(fifo);
  engine_close();
  wait_sessions_ended();
  metrics.scrape();  // notices it released
  EXPECT_EQ(metrics.containers(), 1u);
  clock.advance(Metrics::kLingerNanos);
  const std::string text = metrics.scrape();
  EXPECT_EQ(metrics.containers(), 0u);
  EXPECT_EQ(text.find(kId), std::string::npos) << text;
}

TEST_F(DriverTest, PartialChunksKeepNewlineOnlyOnLastChunk) {
  auto fifo = make_fifo("p");
  driver_->start_logging(fifo, info("/web"));
  auto chunk = [](const std::string& text, int ordinal, bool last) {
    LogEntry entry;
    entry.set_source("stdout");
    entry.set_time_nano(5);
    entry.set_line(text);
    entry.set_partial(true);
    entry.mutable_partial_log_metadata()->set_id("ab");
    entry.mutable_partial_log_metadata()->set_ordinal(ordinal);
    entry.mutable_partial_log_metadata()->set_last(last);
    std::string out;
    append_frame(out, entry);
    return out;
  };
  engine_write(chunk("first", 1, false) + chunk("second", 2, true) + chunk("dangling", 1, false));
  driver_->stop_logging(fifo);
  auto records = read_records(log_path());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].log, "first");
  EXPECT_EQ(records[1].log, "second\n");
  EXPECT_EQ(records[2].log, "dangling");
  engine_close();
}

TEST_F(DriverTest, StartLoggingAppendsAndNeverTruncates) {
  auto first = make_fifo("1");
  driver_->start_logging(first, info("/web"));
  engine_write(frame("stdout", "one"));
  driver_->stop_logging(first);
  engine_close();
  // `docker logs` of a stopped container: a new session that receives nothing.
  auto second = make_fifo("2");
  driver_->start_logging(second, info("/web"));
  driver_->stop_logging(second);
  engine_close();
  auto third = make_fifo("3");
  driver_->start_logging(third, info("/web"));
  engine_write(frame("stdout", "two"));
  driver_->stop_logging(third);
  auto records = read_records(log_path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].log, "one\n");
  EXPECT_EQ(records[1].log, "two\n");
  engine_close();
}

// Block mode: StopLogging arrives while the session waits for tokens; it
// returns as soon as the held-back data is written, not at its timeout (the
// hang limit here, so however slow the machine, returning at all is early).
TEST_F(DriverTest, StopLoggingInBlockModeReturnsOnceDataIsWritten) {
  drain_timeout_ = testing::kHangLimit;
  make_driver(testing::host_file_system());
  auto fifo = make_fifo("block");
  driver_->start_logging(fifo, info("/block", {{"rate", "10k"}, {"burst", "1k"}, {"on-limit", "block"}}));
  std::string frames;
  for (int i = 0; i < 20; ++i) frames += frame("stdout", std::string(99, 'a' + i % 26));
  const auto wrote = std::chrono::steady_clock::now();
  engine_write(frames);  // ~3.3 kB of records: ~0.25 s of waiting for tokens
  // The burst's records on disk: the session waits for tokens now.
  ASSERT_TRUE(testing::eventually([&] { return fs::exists(log_path()) && fs::file_size(log_path()) > 0; }));
  driver_->stop_logging(fifo);
  const auto end = std::chrono::steady_clock::now();
  EXPECT_EQ(read_records(log_path()).size(), 20u);  // all written when it returned
  // Counted from the write, as the tokens come at their rate however late
  // the test gets here.
  EXPECT_GT(end - wrote, std::chrono::milliseconds(100));  // it did wait for tokens
  engine_close();
}

TEST_F(DriverTest, InvalidOptionIsRefusedWithItsName) {
  auto fifo = make_fifo("bad");
  try {
    driver_->start_logging(fifo, info("/web", {{"rate", "fast"}}));
    FAIL() << "accepted rate=fast";
  } catch (const DriverError& e) {
    EXPECT_NE(std::string(e.what()).find("rate"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fast"), std::string::npos) << e.what();
  }
}

TEST_F(DriverTest, RefusesContainerIdThatIsNotHex) {
  auto fifo = make_fifo("evil");
  EXPECT_THROW(driver_->start_logging(fifo, info("/x", {}, "../../etc")), DriverError);
}

TEST_F(DriverTest, AnOversizedFrameDisturbsNoOtherStream) {
  auto bad = make_fifo("corrupt");
  const std::string other_id(64, 'b');
  driver_->start_logging(bad, info("/bad"));
  auto good = make_fifo("good");
  driver_->start_logging(good, info("/good", {}, other_id));
  // A length over the 1 MiB limit on the first stream.
  // engine_fds_[0] is the "bad" stream, engine_fds_.back() the good one.
  const char huge[4] = {0x7f, 0, 0, 0};
  ASSERT_EQ(::write(engine_fds_[0], huge, 4), 4);
  engine_write(frame("stdout", "still here"));
  driver_->stop_logging(good);
  driver_->stop_logging(bad);
  auto records = read_records(dir_ / "logs" / other_id / (other_id + "-json.log"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].log, "still here\n");
}

TEST_F(DriverTest, AnUndecodableFrameIsSkippedAndTheStreamGoesOn) {
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, info("/web"));
  engine_write(frame("stdout", "before"));
  engine_write(std::string("\0\0\0\3\xff\xff\xff", 7));  // no LogEntry
  engine_write(frame("stdout", "after"));
  driver_->stop_logging(fifo);
  auto records = read_records(log_path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].log, "after\n");
}

TEST_F(DriverTest, StartLoggingRefusesAFileThatIsNotTheEnginesFifo) {
  std::ofstream(dir_ / "fifos" / "plain") << "x";
  for (const std::string& file : {(dir_ / "fifos" / "plain").string(), std::string("/dev/zero"),
                                  (dir_ / "fifos" / ".." / "fifos" / "plain").string(),
                                  (dir_ / "fifos" / "missing").string()}) {
    try {
      driver_->start_logging(file, info("/web"));
      ADD_FAILURE() << "accepted " << file;
    } catch (const DriverError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(driver_->session_count(), 0u);
}

std::vector<int> numbers_in(const std::vector<Record>& records) {
  std::vector<int> out;
  for (const auto& r : records) out.push_back(std::stoi(r.log));
  return out;
}

// The plugin stops (disable, or the engine's SIGTERM) and starts again while
// the container goes on writing: the new process goes on with the FIFO.
TEST_F(DriverTest, ARestartedDriverReattachesAndGoesOn) {
  CapturedLogs logs;  // before any session thread logs
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  make_driver(testing::host_file_system(), &store);
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, info("/web", {{"rate", "off"}}));
  engine_write(numbered(0, 100));
  driver_->stop_logging(fifo);  // (waits until written; the stream goes on)
  driver_->shutdown();
  engine_write(numbered(100, 200));  // while no plugin reads
  make_driver(testing::host_file_system(), &store);
  driver_->reattach();
  EXPECT_EQ(driver_->session_count(), 1u);
  // The engine's StartLogging is never repeated, but if it were: one reader.
  driver_->start_logging(fifo, info("/web"));
  EXPECT_EQ(driver_->session_count(), 1u);
  engine_write(numbered(200, 300));
  driver_->stop_logging(fifo);
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 300));
  engine_close();  // EOF: the session is over for good and forgotten
  wait_sessions_ended();
  EXPECT_TRUE(store.load_all().empty());
  // Its totals are the reattached session's: the 200 lines it read.
  EXPECT_EQ(logs.out_lines_with("stopped logging"),
            std::vector<std::string>{"stopped logging container aaaaaaaaaaaa (/web) since the "
                                     "plugin restarted: received 200 lines (800B), "
                                     "wrote 200, dropped none"});
}

// A reattaching session reads the end of the log to skip what the last
// process wrote but had not consumed. A log it cannot read (here: a second
// hard link at its name, which the plugin refuses to touch) must not end
// the session: a stream nobody reads blocks its container, which then
// cannot even be stopped. It goes on reading (and counts what it cannot
// write).
TEST_F(DriverTest, AReattachedSessionWhoseLogCannotBeReadStillReadsItsStream) {
  testing::QuietLogs quiet;
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  auto fifo = log_ten_lines_then_stop(store, "r");
  fs::create_hard_link(log_path(), dir_ / "elsewhere");
  make_driver(testing::host_file_system(), &store);
  driver_->reattach();
  engine_write(numbered(10, 20));
  auto unread = [&] {
    int n = -1;
    ::ioctl(engine_fds_.back(), FIONREAD, &n);
    return n;
  };
  EXPECT_TRUE(testing::eventually([&] { return unread() == 0; })) << unread() << " bytes unread";
  EXPECT_EQ(driver_->session_count(), 1u);
  engine_close();
  wait_sessions_ended();
}

// dockerd restarted with --live-restore: the old engine's FIFO ends (its
// last lines may still be gathering in the old session, for up to a second)
// and the new engine starts logging the container on a new FIFO at once.
// The old lines come first in the file, and none is lost.
TEST_F(DriverTest, AContainersNewStreamWaitsUntilItsEarlierStreamIsWritten) {
  auto old_fifo = make_fifo("old");
  driver_->start_logging(old_fifo, info("/web", {{"rate", "off"}}));
  auto written = [&](size_t n) {
    return testing::eventually([&] { return read_records(log_path()).size() == n; });
  };
  engine_write(numbered(0, 1));
  ASSERT_TRUE(written(1));
  engine_write(numbered(1, 2));  // a slow, steady stream: its session now gathers
  ASSERT_TRUE(written(2));
  engine_write(numbered(2, 3));  // still in the old FIFO when the old engine goes
  engine_close();
  auto new_fifo = make_fifo("new");
  driver_->start_logging(new_fifo, info("/web", {{"rate", "off"}}));
  engine_write(numbered(3, 4));
  driver_->stop_logging(new_fifo);
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 4));
  engine_close();
  wait_sessions_ended();
}

// A hard link planted at the container's log name (its other name may be
// any file of the filesystem) is refused with a clear error and left as it
// was: StartLogging fails, nothing crashes.
TEST_F(DriverTest, AHardLinkAtTheLogNameIsRefused) {
  testing::QuietLogs quiet;
  const fs::path outside = dir_ / "outside";
  std::ofstream(outside) << "not a log\n";
  fs::create_directories(log_path().parent_path());
  fs::create_hard_link(outside, log_path());
  auto fifo = make_fifo("h");
  try {
    driver_->start_logging(fifo, info("/web"));
    ADD_FAILURE() << "logged into a hard-linked file";
  } catch (const DriverError& e) {
    EXPECT_NE(std::string(e.what()).find("hard links"), std::string::npos) << e.what();
  }
  std::ifstream in(outside);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "not a log\n");
}

// Damaged entries in the state directory (a directory under a record's or
// a temporary's name, a record that is not JSON) are set aside; the other
// sessions are reattached. They used to make the plugin exit at every start.
TEST_F(DriverTest, DamagedStateEntriesDoNotStopAReattach) {
  testing::QuietLogs quiet;
  const fs::path state = dir_ / "state";
  SessionStore store(testing::host_file_system(), state.string());
  make_driver(testing::host_file_system(), &store);
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, info("/web", {{"rate", "off"}}));
  engine_write(numbered(0, 100));
  driver_->stop_logging(fifo);
  driver_->shutdown();
  fs::create_directories(state / "x.session");
  fs::create_directories(state / "y.session.tmp");
  std::ofstream(state / "z.session") << "{not json";
  make_driver(testing::host_file_system(), &store);
  ASSERT_NO_THROW(driver_->reattach());
  EXPECT_EQ(driver_->session_count(), 1u);
  engine_write(numbered(100, 200));
  driver_->stop_logging(fifo);
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 200));
}

// Containers started by kubelet get the link node log collectors look for;
// a restarted plugin makes it again if it went.
TEST_F(DriverTest, KubeletContainersGetTheirLogLinkAtStartAndReattach) {
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  make_driver(testing::host_file_system(), &store);
  auto fifo = make_fifo("k");
  ContainerInfo kube = info("/k8s_app_web-1_default_uid_0");
  kube.labels = testing::pod_labels("web-1");
  driver_->start_logging(fifo, kube);
  const fs::path link = dir_ / "logs" / "containers" / ("web-1_default_app-" + kId + ".log");
  engine_write(frame("stdout", "through the link"));
  driver_->stop_logging(fifo);
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::canonical(link), fs::canonical(log_path()));
  driver_->shutdown();
  fs::remove(link);
  make_driver(testing::host_file_system(), &store);
  driver_->reattach();
  engine_write(frame("stdout", "again"));
  driver_->stop_logging(fifo);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_records(link).size(), 2u);
}

// cri-dockerd links the CRI log path for json-file only; logguard links it
// for its own containers, at start and again when reattached.
TEST_F(DriverTest, PodContainersAreLinkedAtTheirCriLogPath) {
  make_driver_with_pod_links();
  auto fifo = make_fifo("k");
  ContainerInfo container = pod_container(kId);
  driver_->start_logging(fifo, container);
  engine_write(frame("stdout", "for kubectl logs"));
  driver_->stop_logging(fifo);
  const fs::path link = container.labels.at("io.kubernetes.container.logpath");
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), log_path());
  EXPECT_EQ(read_records(link).size(), 1u);
  engine_close();
}

// kubelet rotates the file at the CRI log path once it reaches
// containerLogMaxSize, which fails with cri-dockerd; so linked containers
// rotate below it whatever their max-size, and others keep theirs.
TEST_F(DriverTest, LinkedContainersRotateBelowKubeletsMaxSize) {
  make_driver_with_pod_links(100'000);  // cap: 90,000
  auto fifo = make_fifo("k");
  driver_->start_logging(fifo, pod_container(kId, 0, {{"rate", "off"}, {"max-size", "1m"}}));
  const std::string line(99, 'x');
  std::string bytes;
  for (int i = 0; i < 2000; ++i) bytes += frame("stdout", line);  // ~320 kB of records
  engine_write(bytes);
  driver_->stop_logging(fifo);
  ASSERT_TRUE(fs::exists(log_path().string() + ".1"));
  for (const char* suffix : {"", ".1", ".2"}) {
    const std::string path = log_path().string() + suffix;
    if (fs::exists(path)) {
      EXPECT_LT(fs::file_size(path), 90'000u + 200) << path;
    }
  }
  engine_close();

  const std::string other(64, 'b');
  auto plain = make_fifo("p");
  driver_->start_logging(plain, info("/plain", {{"rate", "off"}, {"max-size", "1m"}}, other));
  engine_write(bytes);
  driver_->stop_logging(plain);
  EXPECT_FALSE(fs::exists(dir_ / "logs" / other / (other + "-json.log.1")));
  engine_close();
}

// Issue 20: containers of a pod whose name is cut before their IDs share the
// name of the collectors' link; the one that logs keeps it, and when its
// session ends the other gets it.
TEST_F(DriverTest, ASharedCutLinkNameGoesToTheContainerThatStillLogs) {
  const std::string pod(253, 'w');
  const fs::path link = dir_ / "logs" / "containers" / (pod.substr(0, 251) + ".log");
  const std::string first(64, 'c'), second(64, 'd');
  auto first_fifo = make_fifo("first");
  ContainerInfo a = info("/a", {}, first);
  a.labels = testing::pod_labels(pod);
  driver_->start_logging(first_fifo, a);
  // The link is made on the session's thread, once its files are open.
  ASSERT_TRUE(testing::eventually([&] { return fs::is_symlink(link); }));
  auto second_fifo = make_fifo("second");
  ContainerInfo b = info("/b", {}, second);
  b.labels = testing::pod_labels(pod);
  driver_->start_logging(second_fifo, b);
  engine_write(frame("stdout", "second"));
  driver_->stop_logging(second_fifo);  // its session has run: it looked at the link
  EXPECT_EQ(fs::read_symlink(link), fs::path("..") / first / (first + "-json.log"));
  ::close(engine_fds_.front());  // the first container's engine end: its session ends
  engine_fds_.erase(engine_fds_.begin());
  EXPECT_TRUE(testing::eventually([&] {
    return fs::read_symlink(link) == fs::path("..") / second / (second + "-json.log");
  }));
  engine_close();
}

TEST_F(DriverTest, NoLogLinkWithoutKubeletsLabels) {
  auto fifo = make_fifo("n");
  driver_->start_logging(fifo, info("/web"));
  driver_->stop_logging(fifo);
  EXPECT_FALSE(fs::exists(dir_ / "logs" / "containers"));
}

TEST_F(DriverTest, ASessionWhoseFifoIsGoneIsFinishedAndForgotten) {
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  auto fifo = log_ten_lines_then_stop(store, "a");
  engine_close();
  fs::remove(fifo);  // the engine removed it while the plugin was down
  make_driver(testing::host_file_system(), &store);
  driver_->reattach();
  driver_->shutdown();  // joins the finishing
  EXPECT_EQ(driver_->session_count(), 0u);
  EXPECT_TRUE(store.load_all().empty());
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 10));
}

// dockerd restarted with live-restore while the plugin was down: the new
// engine logs the container through a new FIFO, and nobody writes to the old
// one any more. Its reattached session must end, not wait for ever (keeping
// the container's log open, its followers following, its record persisted).
TEST_F(DriverTest, AReattachedFifoWithoutAWriterEnds) {
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  auto fifo = log_ten_lines_then_stop(store, "a");
  engine_close();  // the FIFO stays, its writer is gone
  make_driver(testing::host_file_system(), &store);
  driver_->reattach();
  EXPECT_TRUE(testing::eventually([&] { return driver_->session_count() == 0; }));
  EXPECT_TRUE(store.load_all().empty());
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 10));
}

// The real file system, except that writing a session record waits until
// released: the reattached session's thread is held before its files open.
class HeldStoreFileSystem : public FileSystemWrapper {
 public:
  HeldStoreFileSystem() : FileSystemWrapper(testing::host_file_system()) {}
  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    std::unique_lock lock(mu_);
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return target().open_truncate(path);
  }
  void wait_until_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, released_ = false;
};

// A plugin restarted while the log disk is over its cap: the node guard's
// first disk check comes right after reattach, before the reattached
// sessions have opened their files. Their current files must not be taken
// for those of containers without a session.
TEST_F(DriverTest, AReattachedContainerIsLiveBeforeItsFilesOpen) {
  SessionStore store(testing::host_file_system(), (dir_ / "state").string());
  make_driver(testing::host_file_system(), &store);
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, info("/web", {{"rate", "off"}}));
  engine_write(numbered(0, 100));
  driver_->stop_logging(fifo);
  driver_->shutdown();

  HeldStoreFileSystem held;
  SessionStore held_store(held, (dir_ / "state").string());
  make_driver(testing::host_file_system(), &held_store);
  driver_->reattach();
  held.wait_until_held();  // the session's thread has not opened the files
  NodeSettings settings;
  settings.max_disk = {false, 1};  // over the cap: every file that may go, goes
  DiskGuard disk(settings, (dir_ / "logs").string(), testing::host_file_system(), *directories_,
                 nullptr, [] { return std::optional<FsSpace>(FsSpace{1'000'000'000, 900'000'000}); });
  disk.check();
  EXPECT_TRUE(fs::exists(log_path()));
  EXPECT_EQ(driver_->live_containers(), std::set<std::string>{kId});
  held.release();
  engine_write(numbered(100, 200));
  driver_->stop_logging(fifo);
  EXPECT_EQ(numbers_in(read_records(log_path())), testing::range(0, 200));
}

TEST_F(DriverTest, FullDiskOfOneContainerNeitherCrashesNorStopsOthers) {
  const std::string other_id(64, 'b');
  TroubledFileSystem files(kId, TroubledFileSystem::Mode::kFull);
  driver_.reset();
  make_driver(files);
  auto full = make_fifo("full");
  driver_->start_logging(full, info("/full"));
  const int full_fd = engine_fds_.back();
  auto fine = make_fifo("fine");
  driver_->start_logging(fine, info("/fine", {}, other_id));
  for (int i = 0; i < 100; ++i) {
    std::string f = frame("stdout", "lost " + std::to_string(i));
    ASSERT_EQ(::write(full_fd, f.data(), f.size()), static_cast<ssize_t>(f.size()));
  }
  engine_write(frame("stdout", "kept"));
  driver_->stop_logging(full);  // answers although nothing can be written
  driver_->stop_logging(fine);
  driver_.reset();  // before `files` goes
  auto records = read_records(dir_ / "logs" / other_id / (other_id + "-json.log"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].log, "kept\n");
}

TEST_F(DriverTest, StalledDiskStallsOnlyItsContainer) {
  const std::string other_id(64, 'b');
  TroubledFileSystem files(kId, TroubledFileSystem::Mode::kStalled);
  driver_.reset();
  make_driver(files);
  auto stuck = make_fifo("stuck");
  driver_->start_logging(stuck, info("/stuck"));
  const int stuck_fd = engine_fds_.back();
  std::string f = frame("stdout", "waits for the disk");
  ASSERT_EQ(::write(stuck_fd, f.data(), f.size()), static_cast<ssize_t>(f.size()));
  ASSERT_TRUE(files.wait_until_stalled());
  // Another container starts, logs and stops while the first one's write
  // hangs; then StopLogging of the stalled one answers (after its drain
  // timeout). The disk stays stalled until both are done: anything held up
  // by it would wait until the hang limit.
  auto fine = make_fifo("fine");
  auto unaffected = std::async(std::launch::async, [&] {
    driver_->start_logging(fine, info("/fine", {}, other_id));
    engine_write(frame("stdout", "not held up"));
    driver_->stop_logging(fine);
    driver_->stop_logging(stuck);
  });
  const bool answered = unaffected.wait_for(testing::kHangLimit) == std::future_status::ready;
  files.release();
  ASSERT_TRUE(answered) << "the other container or StopLogging waited for the stalled disk";
  unaffected.get();
  auto records = read_records(dir_ / "logs" / other_id / (other_id + "-json.log"));
  ASSERT_EQ(records.size(), 1u);
  driver_.reset();  // before `files` goes
  auto stuck_records = read_records(log_path());
  ASSERT_EQ(stuck_records.size(), 1u);  // nothing accepted was lost
  EXPECT_EQ(stuck_records[0].log, "waits for the disk\n");
}

TEST_F(DriverTest, ReadLogsReturnsWhatWasWritten) {
  auto fifo = make_fifo("r");
  driver_->start_logging(fifo, info("/web"));
  engine_write(frame("stdout", "a") + frame("stdout", "b") + frame("stderr", "c"));
  driver_->stop_logging(fifo);
  CollectingSink sink;
  ReadRequest request;
  request.tail = 2;
  driver_->read_logs(info("/web"), request, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].log, "b\n");
  EXPECT_EQ(sink.records[1].log, "c\n");
  EXPECT_EQ(sink.records[1].stream, "stderr");
  engine_close();
}

}  // namespace
}  // namespace logguard
