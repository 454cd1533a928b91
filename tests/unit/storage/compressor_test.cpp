#include "logguard/storage/compressor.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include "logguard/base/cpu_meter.h"
#include "logguard/base/file_system.h"
#include "compressed_files.h"
#include "logguard/storage/log_file.h"
#include "logguard/format/log_names.h"
#include "logguard/storage/posix_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
using testing::QuietLogs;
using testing::TempDir;
using namespace std::chrono_literals;

std::string read_all(const std::string& path) {
  auto src = open_byte_source(path);
  std::string buf(65536, '\0'), all;
  while (size_t n = src->read(buf.data(), buf.size())) all.append(buf, 0, n);
  return all;
}

int this_thread_ioprio() { return static_cast<int>(syscall(SYS_ioprio_get, 1 /*WHO_PROCESS*/, 0)); }
int this_thread_nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

// A job over real files that reports what happened to it.
struct Probe {
  std::promise<bool> finished;
  std::atomic<int> finish_calls{0};
  std::atomic<bool> pinned{false};
  testing::Event pinning;  // the worker runs the job
};

CompressionJob job_for(const std::string& src, const std::string& temp, Probe& probe,
                       std::function<void()> while_pinned = {}) {
  CompressionJob job;
  job.temp_path = temp;
  job.codec = Codec::kGzip;
  job.last_time_nanos = 1'700'000'000'000'000'000;
  job.open_source = [src, &probe, while_pinned] {
    probe.pinned = true;
    probe.pinning.set();
    if (while_pinned) while_pinned();
    return testing::host_file_system().open_read(src);
  };
  job.create_temp = [temp] { return testing::host_file_system().create_exclusive(temp); };
  job.finish = [&probe](bool written) {
    if (probe.finish_calls++ == 0) probe.finished.set_value(written);
  };
  return job;
}

TEST(Compressor, CompressesOnAnIdlePriorityThread) {
  TempDir dir;
  std::ofstream(dir / "l.1") << "{\"log\":\"hello\\n\"}\n";
  // The caller's own (CI runs the sanitizer builds' tests niced).
  const int caller_ioprio = this_thread_ioprio(), caller_nice = this_thread_nice();
  Compressor compressor(testing::real_clock());
  Probe probe;
  int ioprio = -1, nice = -100;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l.1", dir / "l.tmp", probe, [&] {
    ioprio = this_thread_ioprio();
    nice = this_thread_nice();
  })));
  auto done = probe.finished.get_future();
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(done.get());
  EXPECT_EQ(ioprio, 3 << 13);  // IOPRIO_CLASS_IDLE, level 0
  EXPECT_EQ(nice, 19);
  EXPECT_EQ(this_thread_ioprio(), caller_ioprio);  // only the worker was lowered
  EXPECT_EQ(this_thread_nice(), caller_nice);
  // finish() gets a complete, synced temp: the caller renames it into place.
  fs::rename(dir / "l.tmp", dir / "l.1.gz");
  EXPECT_EQ(read_all(dir / "l.1.gz"), "{\"log\":\"hello\\n\"}\n");
  EXPECT_EQ(probe.finish_calls, 1);
}

TEST(Compressor, FullQueueRefusesAtOnce) {
  TempDir dir;
  std::ofstream(dir / "l") << "x\n";
  Compressor compressor(testing::real_clock(), 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Probe blocker, a, b, c;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l", dir / "t0", blocker, [released] { released.wait(); })));
  ASSERT_TRUE(blocker.pinning.wait());  // the worker is busy
  EXPECT_TRUE(compressor.submit(job_for(dir / "l", dir / "ta", a)));
  EXPECT_TRUE(compressor.submit(job_for(dir / "l", dir / "tb", b)));
  EXPECT_EQ(compressor.queued(), 2u);
  // Refused while the worker is still held: a submit that waited for room
  // would wait until the hang limit.
  auto refused = std::async(std::launch::async, [&] {
    return compressor.submit(job_for(dir / "l", dir / "tc", c));
  });
  const bool answered = refused.wait_for(testing::kHangLimit) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "submit waited for room in a full queue";
  EXPECT_FALSE(refused.get());
  for (Probe* p : {&blocker, &a, &b}) {
    auto f = p->finished.get_future();
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f.get());
  }
  EXPECT_EQ(c.finish_calls, 0);  // a refused job is not the queue's any more
}

TEST(Compressor, FailingJobsDoNotStopTheWorker) {
  QuietLogs quiet;
  TempDir dir;
  std::ofstream(dir / "l") << "x\n";
  Compressor compressor(testing::real_clock());
  Probe throws_in_pin, missing_source, throws_in_finish, good;
  CompressionJob j1 = job_for(dir / "l", dir / "t1", throws_in_pin, [] { throw std::runtime_error("boom"); });
  CompressionJob j2 = job_for(dir / "missing", dir / "t2", missing_source);
  CompressionJob j3 = job_for(dir / "l", dir / "t3", throws_in_finish);
  j3.finish = [&](bool) {
    throws_in_finish.finish_calls++;
    throw std::runtime_error("rename failed");
  };
  CompressionJob j4 = job_for(dir / "l", dir / "t4", good);
  for (auto* j : {&j1, &j2, &j3, &j4}) ASSERT_TRUE(compressor.submit(std::move(*j)));
  auto f4 = good.finished.get_future();
  ASSERT_EQ(f4.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(f4.get());
  EXPECT_FALSE(throws_in_pin.finished.get_future().get());
  EXPECT_FALSE(missing_source.finished.get_future().get());
  EXPECT_EQ(throws_in_finish.finish_calls, 1);
}

TEST(Compressor, StopFinishesWaitingJobsUnwrittenAndRefusesMore) {
  TempDir dir;
  std::ofstream(dir / "l") << "x\n";
  // Never full here: a refused submit means stop() has begun.
  Compressor compressor(testing::real_clock(), 1'000'000);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Probe blocker;
  std::list<Probe> waiting;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l", dir / "t0", blocker, [released] { released.wait(); })));
  ASSERT_TRUE(blocker.pinning.wait());
  ASSERT_TRUE(compressor.submit(job_for(dir / "l", dir / "t1", waiting.emplace_back())));
  std::thread stopper([&] { compressor.stop(); });
  // The running job is let go only once stop() has begun, however late the
  // stopper thread runs; jobs that got in before that are waiting ones too.
  while (compressor.submit(job_for(dir / "l", dir / "t2", waiting.emplace_back()))) {
    std::this_thread::sleep_for(1ms);
  }
  waiting.pop_back();  // refused: never the queue's
  release.set_value();
  stopper.join();
  EXPECT_TRUE(blocker.finished.get_future().get());  // the running job completes
  for (Probe& probe : waiting) {
    EXPECT_FALSE(probe.finished.get_future().get());
    EXPECT_FALSE(probe.pinned);
  }
  Probe late;
  EXPECT_FALSE(compressor.submit(job_for(dir / "l", dir / "t3", late)));
  compressor.stop();  // idempotent
}

// A node whose CPUs are busy or idle as the test says, in real time (the
// compressor waits a look at a time on its own clock); counts its samples.
class ScriptedCpus : public CpuMeter {
 public:
  std::optional<CpuSample> sample() override {
    std::lock_guard lock(mu_);
    const int64_t now = testing::real_clock().monotonic_nanos();
    if (last_ != 0 && !busy_) idle_ += 2 * (now - last_);  // both CPUs idle
    last_ = now;
    if (++samples_ == wanted_) reached_.set();
    return CpuSample{now, idle_};
  }
  void set_busy(bool busy) {
    std::lock_guard lock(mu_);
    busy_ = busy;
  }
  // True once the compressor has sampled `n` times (set before it may).
  void expect_samples(int n) { wanted_ = n; }
  bool reached() { return reached_.wait(); }

 private:
  std::mutex mu_;
  bool busy_ = true;
  int64_t last_ = 0, idle_ = 0;
  int samples_ = 0, wanted_ = -1;
  testing::Event reached_;
};

constexpr CompressionYieldConfig kQuickLooks{.look_nanos = 1'000'000,
                                             .max_defer_nanos = 3'600'000'000'000};

TEST(Compressor, LeavesBusyCpusAloneAndCompressesWhenOneIsIdle) {
  TempDir dir;
  std::ofstream(dir / "l.1") << "{\"log\":\"hello\\n\"}\n";
  ScriptedCpus cpus;
  cpus.expect_samples(20);
  Compressor compressor(testing::real_clock());
  compressor.yield_to(cpus, kQuickLooks);
  Probe probe;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l.1", dir / "l.tmp", probe)));
  ASSERT_TRUE(cpus.reached());  // nineteen looks, all busy
  EXPECT_FALSE(probe.pinned) << "compressed while every CPU was busy";
  EXPECT_TRUE(compressor.yielding());
  EXPECT_EQ(compressor.queued(), 0u);  // it is the running job, waiting
  cpus.set_busy(false);
  auto done = probe.finished.get_future();
  ASSERT_EQ(done.wait_for(testing::kHangLimit), std::future_status::ready);
  EXPECT_TRUE(done.get());
  EXPECT_FALSE(compressor.yielding());
}

TEST(Compressor, AJobWaitsForIdleCpuNoLongerThanMaxDefer) {
  TempDir dir;
  std::ofstream(dir / "l.1") << "x\n";
  ScriptedCpus cpus;  // busy for good
  Compressor compressor(testing::real_clock());
  compressor.yield_to(cpus, {.look_nanos = 1'000'000, .max_defer_nanos = 50'000'000});
  Probe probe;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l.1", dir / "l.tmp", probe)));
  auto done = probe.finished.get_future();
  ASSERT_EQ(done.wait_for(testing::kHangLimit), std::future_status::ready);
  EXPECT_TRUE(done.get());
}

TEST(Compressor, StopEndsAWaitForIdleCpu) {
  TempDir dir;
  std::ofstream(dir / "l.1") << "x\n";
  ScriptedCpus cpus;  // busy for good
  cpus.expect_samples(3);
  Compressor compressor(testing::real_clock());
  compressor.yield_to(cpus, kQuickLooks);
  Probe probe, waiting;
  ASSERT_TRUE(compressor.submit(job_for(dir / "l.1", dir / "l.tmp", probe)));
  ASSERT_TRUE(compressor.submit(job_for(dir / "l.1", dir / "l2.tmp", waiting)));
  ASSERT_TRUE(cpus.reached());
  auto stopped = std::async(std::launch::async, [&] { compressor.stop(); });
  ASSERT_EQ(stopped.wait_for(testing::kHangLimit), std::future_status::ready);
  EXPECT_TRUE(probe.finished.get_future().get());     // the running job completes
  EXPECT_FALSE(waiting.finished.get_future().get());  // a waiting one is dropped, as ever
}

// Holds the jobs a LogFile submits, for a test to run when it is ready.
class HeldJobs : public CompressionQueue {
 public:
  bool submit(CompressionJob job) override {
    jobs.push_back(std::move(job));
    return true;
  }
  std::deque<CompressionJob> jobs;
};

// Something with write access to the log root replaces a rotated file
// before the worker gets to it: with a hard link or a symbolic link to a
// file outside the logs, or with a FIFO. The worker refuses it: no copy of
// the outside file is compressed into the logs, nothing waits on the FIFO,
// and the worker goes on.
TEST(Compressor, RefusesWhatIsPlantedAtARotatedName) {
  QuietLogs quiet;
  for (const std::string kind : {"hard link", "symbolic link", "FIFO"}) {
    SCOPED_TRACE(kind);
    TempDir dir;
    const std::string root = dir / "logs", outside = dir / "outside";
    const std::string secret = "{\"log\":\"not a log\\n\"}\n";
    std::ofstream(outside) << secret;
    auto files = make_posix_file_system(root);
    const std::string base = "abc-json.log", rotated = root + "/c/" + base + ".1";
    HeldJobs held;
    LogDirectories dirs(*files);
    LogFile file(*files, dirs.acquire(root + "/c", base), {2000, 3, Codec::kGzip}, &held,
                 nullptr);
    file.open();
    for (int i = 0; held.jobs.empty() && i < 1000; ++i) {
      file.append("{\"log\":\"line " + std::to_string(i) + "\\n\",\"time\":\"t\"}\n", i);
    }
    ASSERT_FALSE(held.jobs.empty());
    testing::plant(kind, outside, rotated);

    Compressor compressor(testing::real_clock());
    Probe probe;
    CompressionJob job = std::move(held.jobs.front());
    job.finish = [finish = job.finish, &probe](bool written) {
      finish(written);
      probe.finished.set_value(written);
    };
    ASSERT_TRUE(compressor.submit(std::move(job)));
    auto done = probe.finished.get_future();
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
    EXPECT_FALSE(done.get());
    EXPECT_FALSE(fs::exists(rotated + ".gz"));
    EXPECT_EQ(fs::file_size(outside), secret.size());
    for (const auto& entry : fs::directory_iterator(root + "/c")) {  // no temp left either
      EXPECT_TRUE(entry.path() == rotated || entry.path() == root + "/c/" + base) << entry.path();
    }
  }
}

// The compressor, telling when every job submitted so far has finished.
class WatchedCompressor : public CompressionQueue {
 public:
  bool submit(CompressionJob job) override {
    job.finish = [this, finish = std::move(job.finish)](bool written) {
      finish(written);
      std::lock_guard lock(mu_);
      ++finished_;
      cv_.notify_all();
    };
    std::lock_guard lock(mu_);
    if (!compressor_.submit(std::move(job))) return false;
    ++accepted_;
    return true;
  }
  // False only if some job was still unfinished after the hang limit.
  bool wait_all_finished() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, testing::kHangLimit, [this] { return finished_ == accepted_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int accepted_ = 0, finished_ = 0;
  Compressor compressor_{testing::real_clock()};  // last: its worker stops before the counts go
};

// The whole path on the real file system: rotation on the write path,
// compression on the worker, readable names at the end.
TEST(Compressor, CompressesRotatedLogFilesOnDisk) {
  TempDir dir;
  WatchedCompressor compressor;
  const std::string base = "abc-json.log";
  std::string expected;
  {
    LogDirectories dirs(testing::host_file_system());
    LogFile file(testing::host_file_system(), dirs.acquire(dir.path(), base), {2000, 3, Codec::kGzip},
                 &compressor, nullptr);
    file.open();
    for (int i = 0; i < 200; ++i) {
      std::string line = "{\"log\":\"line " + std::to_string(i) + "\\n\",\"time\":\"t\"}\n";
      file.append(line, 1'700'000'000'000'000'000 + i);
      file.flush();
      expected += line;
    }
    ASSERT_TRUE(compressor.wait_all_finished());
  }
  std::vector<std::string> names;
  for (const auto& f : list_log_files(testing::host_file_system(), dir.path(), base)) names.push_back(f.name);
  ASSERT_EQ(names, (std::vector<std::string>{base + ".2.gz", base + ".1.gz", base}))
      << ::testing::PrintToString(testing::host_file_system().list_dir(dir.path()));
  std::string got;
  for (const auto& n : names) got += read_all(dir / n);
  EXPECT_EQ(expected.substr(expected.size() - got.size()), got);  // the newest records, whole
  EXPECT_GT(got.size(), 4000u);
  auto last_of_1 = read_last_time(dir / (base + ".1.gz"));
  ASSERT_TRUE(last_of_1.has_value());
  std::string plain1 = read_all(dir / (base + ".1.gz"));
  size_t records_after = 0;
  for (char ch : read_all(dir / base)) records_after += ch == '\n';
  EXPECT_EQ(*last_of_1, 1'700'000'000'000'000'000 + 199 - static_cast<int64_t>(records_after));
  EXPECT_EQ(fs::status(dir / (base + ".1.gz")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

}  // namespace
}  // namespace logguard
