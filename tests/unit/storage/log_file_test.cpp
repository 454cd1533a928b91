#include "logguard/storage/log_file.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <random>
#include <regex>

#include "fake_file_system.h"
#include "logguard/format/log_names.h"
#include "test_util.h"

namespace logguard {
namespace {

using testing::FakeCrash;
using testing::FakeFileSystem;
using testing::QuietLogs;
using testing::range;

const std::string kDir = "/logs/c1";
const std::string kBase = "c1-json.log";
const std::string kCurrent = kDir + "/" + kBase;

std::string path(const std::string& suffix) { return kCurrent + suffix; }

// A 20-byte record carrying its number.
std::string rec(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "r%06d-xxxxxxxxxxx\n", i);
  return buf;
}

// Record numbers in a file's content; every line must be whole.
std::vector<int> records_in(const std::string& content) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "partial line in: " << content;
    if (nl == std::string::npos) break;
    std::string line = content.substr(pos, nl - pos + 1);
    EXPECT_EQ(line.size(), 20u) << line;
    out.push_back(std::stoi(line.substr(1, 6)));
    pos = nl + 1;
  }
  return out;
}

// Paths of the log files, oldest first (log_names.h's listing).
std::vector<std::string> file_paths(FileSystem& fs, const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& f : list_log_files(fs, dir, kBase)) paths.push_back(dir + "/" + f.name);
  return paths;
}

// Every record of every log file, oldest first.
std::vector<int> all_records(FakeFileSystem& fs) {
  std::vector<int> out;
  for (const auto& p : file_paths(fs, kDir)) {
    auto r = records_in(fs.read_all(p));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

std::vector<std::string> names(FakeFileSystem& fs) {
  auto n = fs.list_dir(kDir);
  std::sort(n.begin(), n.end());
  return n;
}

// A compression queue driven by hand. "Compresses" by copying the bytes
// through the fake file system (in two writes, so a crash can leave half a
// temp), with the same protocol as the Compressor.
class FakeQueue : public CompressionQueue {
 public:
  explicit FakeQueue(size_t capacity = 100) : capacity(capacity) {}
  bool submit(CompressionJob job) override {
    if (jobs.size() >= capacity) return false;
    jobs.push_back(std::move(job));
    return true;
  }
  // Runs the oldest job; `between` runs after the source was read and before
  // the result is put in place (the window in which rotation may move it).
  void run_one(FileSystem& fs, const std::function<void()>& between = {}) {
    CompressionJob job = std::move(jobs.front());
    jobs.pop_front();
    std::unique_ptr<ReadableFile> source = job.open_source();
    if (!source) {
      job.finish(false);
      return;
    }
    std::string data(source->size(), '\0');
    data.resize(source->read_at(0, data.data(), data.size()));
    if (between) between();
    try {
      auto out = fs.open_truncate(job.temp_path);
      out->append(std::string_view(data).substr(0, data.size() / 2 + 3));
      out->append(std::string_view(data).substr(data.size() / 2 + 3));
      out->sync();
      out->close();
    } catch (...) {
      try {
        job.finish(false);
      } catch (...) {
      }
      throw;
    }
    job.finish(true);
  }
  void run_all(FileSystem& fs) {
    while (!jobs.empty()) run_one(fs);
  }

  size_t capacity;
  std::deque<CompressionJob> jobs;
};

void write(LogFile& f, int from, int to) {
  for (int i = from; i < to; ++i) {
    f.append(rec(i), 1'000 + i);
    f.flush();
  }
}

// One plugin process: LogFiles it makes for the same directory share their
// LogDirectory (as the Driver's sessions share theirs through its registry).
class Process {
 public:
  explicit Process(FileSystem& fs) : fs_(fs), dirs_(fs) {}
  std::unique_ptr<LogFile> log(RotationOptions rotation, CompressionQueue* queue,
                               std::shared_ptr<LogWatch> watch) {
    return std::make_unique<LogFile>(fs_, dirs_.acquire(kDir, kBase), rotation, queue,
                                     std::move(watch));
  }

 private:
  FileSystem& fs_;
  LogDirectories dirs_;
};

// ---- rotation ----

class RotationNames : public ::testing::TestWithParam<int> {};

TEST_P(RotationNames, KeepsMaxFileFilesNamedAsJsonFile) {
  const int max_file = GetParam();
  FakeFileSystem fs;
  auto f_owner = Process(fs).log({40, max_file, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 11);  // two records per file: 10 | 8 9 | 6 7 | ...
  f.close();

  std::vector<std::string> expected = {kBase};
  for (int i = 1; i < max_file; ++i) expected.push_back(kBase + "." + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names(fs), expected);
  EXPECT_EQ(all_records(fs), range(11 - 1 - 2 * (max_file - 1), 11));
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), std::vector<int>{10});
  if (max_file > 1) {
    EXPECT_EQ(records_in(fs.read_all(path(".1"))), (std::vector<int>{8, 9}));
  }
}

INSTANTIATE_TEST_SUITE_P(MaxFile, RotationNames, ::testing::Values(1, 2, 3, 5));

// A gone container's directory state is forgotten at the next sweep, not
// kept until another container starts; one still held stays the same.
TEST(LogDirectories, ASweepForgetsWhatNoOneHolds) {
  FakeFileSystem fs;
  LogDirectories dirs(fs);
  auto kept = dirs.acquire("/logs/a", "a-json.log");
  auto b = dirs.acquire("/logs/b", "b-json.log");
  auto c = dirs.acquire("/logs/c", "c-json.log");
  b.reset();
  c.reset();  // the containers are gone
  EXPECT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs.sweep(), 2u);
  EXPECT_EQ(dirs.size(), 1u);
  EXPECT_EQ(dirs.find("/logs/a", "a-json.log"), kept);
  EXPECT_EQ(dirs.find("/logs/b", "b-json.log"), nullptr);
}

TEST(LogFile, FileExceedsMaxSizeByAtMostOneRecord) {
  FakeFileSystem fs;
  const uint64_t max_size = 500;
  auto f_owner = Process(fs).log({max_size, 50, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  std::mt19937 rng(7);
  std::vector<std::string> written;
  for (int i = 0; i < 300; ++i) {
    std::string r = std::string(rng() % 120, 'a') + "\n";
    f.append(r, i);
    written.push_back(r);
  }
  f.close();
  std::string all;
  auto files = file_paths(fs, kDir);
  ASSERT_GT(files.size(), 10u);
  for (size_t i = 0; i + 1 < files.size(); ++i) {  // rotated files
    std::string c = fs.read_all(files[i]);
    size_t last_line = c.size() - (c.rfind('\n', c.size() - 2) + 1);
    EXPECT_GE(c.size(), max_size) << files[i];
    EXPECT_LT(c.size() - last_line, max_size) << files[i];
    all += c;
  }
  all += fs.read_all(kCurrent);
  std::string expected;
  for (auto& r : written) expected += r;
  EXPECT_EQ(all, expected);  // nothing split, lost or reordered
}

TEST(LogFile, NoRotationWithoutMaxSize) {
  FakeFileSystem fs;
  auto f_owner = Process(fs).log({0, 3, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 1000);
  f.close();
  EXPECT_EQ(names(fs), std::vector<std::string>{kBase});
  EXPECT_EQ(all_records(fs), range(0, 1000));
}

TEST(LogFile, OpenNeverTruncatesAndCountsExistingSize) {
  FakeFileSystem fs;
  fs.put(kCurrent, rec(0) + rec(1));
  fs.put(path(".1"), rec(100));  // an older file is kept
  {
    auto f_owner = Process(fs).log({60, 3, Codec::kNone}, nullptr, nullptr);
    LogFile& f = *f_owner;
    f.open();
    write(f, 2, 3);  // 40 bytes were there: no rotation yet
    EXPECT_EQ(records_in(fs.read_all(kCurrent)), (std::vector<int>{0, 1, 2}));
    write(f, 3, 4);  // 60 reached: rotates
  }
  EXPECT_EQ(records_in(fs.read_all(path(".1"))), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(records_in(fs.read_all(path(".2"))), std::vector<int>{100});
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), std::vector<int>{3});
}

TEST(LogFile, BuffersUntilFlush) {
  FakeFileSystem fs;
  auto f_owner = Process(fs).log({0, 1, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  f.append(rec(0), 1);
  EXPECT_EQ(fs.read_all(kCurrent), "");
  EXPECT_EQ(f.current_size(), 20u);
  f.flush();
  EXPECT_EQ(fs.read_all(kCurrent), rec(0));
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(LogFile, WakesFollowersWhenDataReachesTheFileAndOnRotation) {
  FakeFileSystem fs;
  auto watch = LogWatch::create();
  auto sub = watch->subscribe();
  auto f_owner = Process(fs).log({40, 2, Codec::kNone}, nullptr, watch);
  LogFile& f = *f_owner;
  f.open();
  f.append(rec(0), 0);
  f.append(rec(1), 1);
  EXPECT_FALSE(readable(sub->fd()));  // only buffered
  f.flush();
  EXPECT_TRUE(readable(sub->fd()));
  sub->consume();
  f.append(rec(2), 2);  // rotates
  EXPECT_TRUE(readable(sub->fd()));
}

// ---- compression ----

TEST(LogFile, CompressesRotatedFileOffTheWritePath) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 3, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 3);
  ASSERT_EQ(q.jobs.size(), 1u);
  EXPECT_EQ(q.jobs[0].codec, Codec::kGzip);
  EXPECT_EQ(q.jobs[0].last_time_nanos, 1'001);  // time of record 1, the last in .1
  EXPECT_TRUE(is_temp_name(q.jobs[0].temp_path.substr(kDir.size() + 1), kBase));
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1"}));  // plain until done
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz"}));
  EXPECT_EQ(records_in(fs.read_all(path(".1.gz"))), (std::vector<int>{0, 1}));
  write(f, 3, 5);  // rotation renames the compressed form
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz"}));
  EXPECT_EQ(all_records(fs), range(0, 5));
}

TEST(LogFile, ZstdUsesZstExtension) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 2, Codec::kZstd}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 3);
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.zst"}));
}

TEST(LogFile, CompressionFinishesAtTheFilesNewIndexAfterRotation) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 4, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 3);  // .1 = {0,1}, job queued
  ASSERT_EQ(q.jobs.size(), 1u);
  // The job reads .1; before it finishes, two rotations move its file to .3.
  q.run_one(fs, [&] { write(f, 3, 7); });
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1", kBase + ".2", kBase + ".3.gz"}));
  EXPECT_EQ(records_in(fs.read_all(path(".3.gz"))), (std::vector<int>{0, 1}));
  q.run_all(fs);
  EXPECT_EQ(names(fs),
            (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz", kBase + ".3.gz"}));
  EXPECT_EQ(all_records(fs), range(0, 7));
}

TEST(LogFile, QueuedJobFindsItsFileMovedBeforeItStarts) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 4, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 5);  // two rotations: jobs for {0,1} (now .2) and {2,3} (.1)
  ASSERT_EQ(q.jobs.size(), 2u);
  q.run_one(fs);
  EXPECT_EQ(records_in(fs.read_all(path(".2.gz"))), (std::vector<int>{0, 1}));
  EXPECT_TRUE(fs.exists(path(".1")));
  q.run_one(fs);
  EXPECT_EQ(records_in(fs.read_all(path(".1.gz"))), (std::vector<int>{2, 3}));
}

TEST(LogFile, CompressionOfAFileDeletedPastMaxFileIsDiscarded) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 2, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 3);
  // While the job for {0,1} runs, the next rotation deletes that file.
  q.run_one(fs, [&] { write(f, 3, 5); });
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1"}));  // no temp, no stale .gz
  EXPECT_EQ(all_records(fs), range(2, 5));
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz"}));
  EXPECT_EQ(all_records(fs), range(2, 5));
}

TEST(LogFile, RefusedCompressionStaysPlainAndIsOfferedAgain) {
  FakeFileSystem fs;
  FakeQueue q(0);
  auto f_owner = Process(fs).log({40, 5, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 5);  // two rotations, both refused
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1", kBase + ".2"}));
  q.capacity = 100;
  write(f, 5, 7);  // next rotation offers all three plain files
  EXPECT_EQ(q.jobs.size(), 3u);
  q.run_all(fs);
  EXPECT_EQ(names(fs),
            (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz", kBase + ".3.gz"}));
  EXPECT_EQ(all_records(fs), range(0, 7));
}

TEST(LogFile, FailedCompressionKeepsThePlainFile) {
  FakeFileSystem fs;
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 3, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  write(f, 0, 3);
  fs.fail_after(1, std::errc::no_space_on_device);  // the temp's first write
  EXPECT_THROW(q.run_one(fs), std::system_error);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1"}));
  write(f, 3, 5);  // offered again at the next rotation
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz"}));
}

// A container that exits right after rotating: its compressions run after
// the LogFile closed, and still put their files in place.
TEST(LogFile, JobsOutliveTheLogFileAndStillFinish) {
  FakeFileSystem fs;
  FakeQueue q;
  {
    auto f_owner = Process(fs).log({40, 4, Codec::kGzip}, &q, nullptr);
    LogFile& f = *f_owner;
    f.open();
    write(f, 0, 5);  // two records a file: .2 {0,1}, .1 {2,3}, current {4}
  }
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz"}));
  EXPECT_EQ(all_records(fs), range(0, 5));
}

// A new session of the same container while the old one's compressions are
// pending shares their bookkeeping: the jobs land at the files' new places.
TEST(LogFile, NewLogFileSharesPendingCompressions) {
  FakeFileSystem fs;
  FakeQueue q;
  Process process(fs);
  {
    auto f = process.log({40, 4, Codec::kGzip}, &q, nullptr);
    f->open();
    write(*f, 0, 3);  // .1 {0,1} plain and queued, current {2}
  }
  auto g = process.log({40, 4, Codec::kGzip}, &q, nullptr);
  g->open();
  write(*g, 3, 5);  // rotates: the queued .1 moves to .2
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz"}));
  EXPECT_EQ(all_records(fs), range(0, 5));
}

// ---- errors ----

TEST(LogFile, ShortWriteIsNotDuplicatedOnRetry) {
  FakeFileSystem fs;
  auto f_owner = Process(fs).log({0, 1, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  f.append(rec(0), 0);
  f.append(rec(1), 1);
  fs.fail_after(0, std::errc::no_space_on_device, 27);
  EXPECT_THROW(f.flush(), std::system_error);
  f.flush();
  EXPECT_EQ(all_records(fs), range(0, 2));
}

// Fails each operation of a rotation in turn: the record is refused or
// taken, but no record already taken is ever lost or duplicated.
TEST(LogFile, FailedRotationLosesNothing) {
  QuietLogs quiet;
  for (int k = 0; k < 12; ++k) {
    for (Codec codec : {Codec::kNone, Codec::kGzip}) {
      SCOPED_TRACE("fail op " + std::to_string(k) + (codec == Codec::kGzip ? " gzip" : ""));
      FakeFileSystem fs;
      FakeQueue q;
      auto f_owner = Process(fs).log({40, 6, codec}, &q, nullptr);
      LogFile& f = *f_owner;
      f.open();
      write(f, 0, 6);  // .2 .1 current full
      std::vector<int> taken = range(0, 6);
      fs.fail_after(k, std::errc::io_error);
      for (int i = 6; i < 9; ++i) {
        try {
          f.append(rec(i), i);
          taken.push_back(i);
          f.flush();
        } catch (const std::system_error&) {
        }
      }
      fs.fail_after(1 << 30, std::errc::io_error);  // no more failures
      q.run_all(fs);
      f.flush();
      write(f, 9, 10);
      taken.push_back(9);
      q.run_all(fs);
      f.close();
      EXPECT_EQ(all_records(fs), taken);
    }
  }
}

// ---- recovery ----

TEST(LogFile, RecoveryCleansUpInterruptedWork) {
  FakeFileSystem fs;
  fs.put(kCurrent, rec(9));
  fs.put(kDir + "/" + temp_name(kBase, "compress-17"), "half a gz");
  fs.put(path(".1"), rec(8));
  fs.put(path(".1.gz"), rec(8));  // compression finished, plain not yet removed
  fs.put(path(".3"), rec(7));     // gap at 2: a rotation was interrupted
  fs.put(path(".4.gz"), rec(6));
  fs.put(path(".5"), rec(5));     // beyond max_file 4
  fs.put(kDir + "/unrelated.txt", "x");
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 4, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2",
                                                 kBase + ".3.gz", "unrelated.txt"}));
  EXPECT_EQ(all_records(fs), (std::vector<int>{6, 7, 8, 9}));
  ASSERT_EQ(q.jobs.size(), 1u);  // the plain rotated file is queued again
  EXPECT_LE(q.jobs[0].last_time_nanos, 0);  // unknown after a restart
  q.run_all(fs);
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2.gz",
                                                 kBase + ".3.gz", "unrelated.txt"}));
}

// Something planted at a rotated name (here a link; in the soak a FIFO,
// while eviction had deleted .1 and .2) is not part of the log: recovery
// neither moves it into the gap nor counts it, so nothing opens it; the next
// rotation renames over it.
TEST(LogFile, RecoveryLeavesWhatIsNotARegularFileAlone) {
  testing::QuietLogs quiet;
  FakeFileSystem fs;
  fs.put(kCurrent, rec(9));
  fs.create_symlink("/etc/shadow", path(".3"));
  FakeQueue q;
  auto f_owner = Process(fs).log({40, 4, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".3"}));
  EXPECT_TRUE(f.directory().rotated().empty());
  EXPECT_TRUE(q.jobs.empty());
  EXPECT_EQ(fs.read_symlink(path(".3")), "/etc/shadow");
  write(f, 10, 14);  // two rotations: 9 10 | 11 12 | 13
  f.flush();
  EXPECT_EQ(names(fs), (std::vector<std::string>{kBase, kBase + ".1", kBase + ".2",
                                                 kBase + ".3"}));
  EXPECT_EQ(records_in(fs.read_all(path(".2"))), (std::vector<int>{9, 10}));
  EXPECT_EQ(records_in(fs.read_all(path(".1"))), (std::vector<int>{11, 12}));
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), (std::vector<int>{13}));
}

// A crash in the middle of a write leaves part of a record at the end of the
// current file: open() cuts it off, so readers and reattach see whole records.
TEST(LogFile, OpenCutsOffARecordTornByACrash) {
  FakeFileSystem fs;
  fs.put(kCurrent, rec(0) + rec(1) + rec(2).substr(0, 7));
  auto f = Process(fs).log({0, 1, Codec::kNone}, nullptr, nullptr);
  f->open();
  write(*f, 3, 4);
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), (std::vector<int>{0, 1, 3}));
}

TEST(LogFile, OpenCutsOffACurrentFileWithoutAnyWholeRecord) {
  FakeFileSystem fs;
  fs.put(kCurrent, "r00000");
  auto f = Process(fs).log({0, 1, Codec::kNone}, nullptr, nullptr);
  f->open();
  write(*f, 1, 2);
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), (std::vector<int>{1}));
}

TEST(LogFile, ADirectoryDeletedUnderTheWriterIsStartedAgain) {
  FakeFileSystem fs;
  auto f = Process(fs).log({40, 3, Codec::kNone}, nullptr, nullptr);
  f->open();
  write(*f, 0, 5);  // .2 {0,1} .1 {2,3} current {4}
  for (const auto& [path, content] : fs.files()) fs.remove(path);
  fs.remove_dir(kDir);
  f->ensure_in_place();
  write(*f, 5, 6);
  EXPECT_EQ(all_records(fs), (std::vector<int>{5}));
  f->ensure_in_place();  // in place: nothing happens
  write(*f, 6, 7);
  EXPECT_EQ(all_records(fs), (std::vector<int>{5, 6}));
}

TEST(LogFile, RecoveryWithMaxFileOneDropsRotatedFiles) {
  FakeFileSystem fs;
  fs.put(kCurrent, rec(1));
  fs.put(path(".1"), rec(0));
  auto f_owner = Process(fs).log({40, 1, Codec::kNone}, nullptr, nullptr);
  LogFile& f = *f_owner;
  f.open();
  EXPECT_EQ(names(fs), std::vector<std::string>{kBase});
  EXPECT_EQ(records_in(fs.read_all(kCurrent)), std::vector<int>{1});
}

// The writer's life used by the crash tests: rotations every two records,
// compression lagging behind (jobs finish after their file moved, some are
// refused by the small queue and offered again).
void crash_scenario(FakeFileSystem& fs, FakeQueue& q) {
  auto f_owner = Process(fs).log({40, 3, Codec::kGzip}, &q, nullptr);
  LogFile& f = *f_owner;
  f.open();
  for (int i = 0; i < 14; ++i) {
    f.append(rec(i), i);
    f.flush();
    if (i % 3 == 2 && !q.jobs.empty()) q.run_one(fs);
  }
  q.run_all(fs);
  f.close();
}

// After a crash at every operation boundary of the scenario, the directory
// holds only valid, complete files, and recovery leaves contiguous records
// ending with the last one written: nothing duplicated, nothing lost from the
// files kept.
TEST(LogFile, CrashAtAnyOperationIsRecovered) {
  QuietLogs quiet;
  int total;
  {
    FakeFileSystem fs;
    FakeQueue q(2);
    crash_scenario(fs, q);
    total = fs.mutations();
    EXPECT_EQ(all_records(fs), range(8, 14));
  }
  const std::regex valid("c1-json\\.log(\\.[1-2](\\.gz)?)?");
  for (int k = 0; k <= total; ++k) {
    SCOPED_TRACE("crash after op " + std::to_string(k));
    FakeFileSystem fs;
    {
      FakeQueue q(2);
      fs.crash_after(k);
      try {
        crash_scenario(fs, q);
      } catch (const std::exception&) {
        ASSERT_TRUE(fs.crashed());
      }
      q.jobs.clear();  // the process is gone
    }
    int last_written = -1;
    for (const auto& [p, content] : fs.files()) {
      if (p.substr(p.size() - 4) == ".tmp") continue;  // a temp may be cut anywhere
      auto r = records_in(content);  // every other file holds whole records
      if (!r.empty()) last_written = std::max(last_written, r.back());
    }

    auto disk = FakeFileSystem::recovered_from(fs);
    FakeQueue q;
    auto f_owner = Process(*disk).log({40, 3, Codec::kGzip}, &q, nullptr);
    LogFile& f = *f_owner;
    f.open();
    q.run_all(*disk);
    f.close();
    for (const auto& n : names(*disk)) {
      EXPECT_TRUE(std::regex_match(n, valid)) << n;
      if (n != kBase) {
        EXPECT_EQ(n.substr(n.size() - 3), ".gz") << "not re-compressed: " << n;
      }
    }
    auto got = all_records(*disk);
    if (last_written < 0) {
      EXPECT_TRUE(got.empty());
      continue;
    }
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), last_written);
    EXPECT_EQ(got, range(got.front(), last_written + 1));
    // At most one file's worth beyond the normal window was given up.
    EXPECT_GE(static_cast<int>(got.size()), std::min(last_written + 1, 3));
  }
}

// Recovery itself may be interrupted; the next recovery must still work.
TEST(LogFile, CrashDuringRecoveryIsRecovered) {
  QuietLogs quiet;
  auto messy = [] {
    auto fs = std::make_unique<FakeFileSystem>();
    fs->put(kCurrent, rec(9));
    fs->put(kDir + "/" + temp_name(kBase, "compress-3"), "x");
    fs->put(path(".2"), rec(8));
    fs->put(path(".2.gz"), rec(8));
    fs->put(path(".4"), rec(7));
    fs->put(path(".6.gz"), rec(6));
    fs->put(path(".7"), rec(5));
    return fs;
  };
  for (int k = 0; k < 12; ++k) {
    SCOPED_TRACE("crash after op " + std::to_string(k));
    auto fs = messy();
    fs->crash_after(k);
    try {
      auto f_owner = Process(*fs).log({40, 4, Codec::kNone}, nullptr, nullptr);
      LogFile& f = *f_owner;
      f.open();
    } catch (const std::exception&) {
    }
    auto disk = FakeFileSystem::recovered_from(*fs);
    auto f_owner = Process(*disk).log({40, 4, Codec::kNone}, nullptr, nullptr);
    LogFile& f = *f_owner;
    f.open();
    EXPECT_EQ(names(*disk), (std::vector<std::string>{kBase, kBase + ".1.gz", kBase + ".2",
                                                      kBase + ".3.gz"}));
    EXPECT_EQ(all_records(*disk), (std::vector<int>{6, 7, 8, 9}));
  }
}

}  // namespace
}  // namespace logguard
