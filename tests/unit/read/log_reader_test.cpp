#include "logguard/read/log_reader.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "logguard/format/compression.h"
#include "logguard/format/json_record.h"
#include "compressed_files.h"
#include "logguard/storage/posix_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr char kBase[] = "c-json.log";

int64_t time_of(int i) { return kT0 + int64_t{i} * 1000; }

std::string record_line(int i, int64_t time) {
  std::string out;
  std::string log = "line " + std::to_string(i) + "\n";
  EXPECT_TRUE(append_json_record(out, RecordView{log, "stdout", time, nullptr}));
  return out;
}
std::string record_line(int i) { return record_line(i, time_of(i)); }

// Records [first, last) as file content.
std::string records(int first, int last) {
  std::string out;
  for (int i = first; i < last; ++i) out += record_line(i);
  return out;
}

void append_to(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << data;
}

// Warnings logged while a test runs.
class WarningCapture : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::warn) messages_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> messages_;
};

class CollectingSink : public RecordSink {
 public:
  bool write(const Record& record) override {
    if (on_write) on_write(record);
    std::lock_guard lock(mu);
    got.push_back(record);
    return stop_after < 0 || static_cast<int>(got.size()) < stop_after;
  }
  // read_logs flushes before every wait while following: the follower is
  // about to sleep, subscribed, with what it has delivered so far.
  bool flush() override {
    std::lock_guard lock(mu);
    idle_after = got.size();
    idled.notify_all();
    return true;
  }
  int hangup_fd() const override { return hangup; }

  // Waits until the follower goes idle having delivered at least `count`
  // records; false only if it did not within the hang limit.
  bool wait_idle_after(size_t count) {
    std::unique_lock lock(mu);
    return idled.wait_for(lock, testing::kHangLimit,
                          [&] { return idle_after && *idle_after >= count; });
  }

  // "line i\n" -> i, in delivery order.
  std::vector<int> indices() {
    std::lock_guard lock(mu);
    std::vector<int> out;
    for (const auto& r : got) out.push_back(std::stoi(r.log.substr(5)));
    return out;
  }

  std::mutex mu;
  std::condition_variable idled;
  std::optional<size_t> idle_after;  // records delivered when it last went idle
  std::vector<Record> got;
  std::function<void(const Record&)> on_write;
  int stop_after = -1;
  int hangup = -1;
};

std::vector<int> range(int first, int last) {
  std::vector<int> out;
  for (int i = first; i < last; ++i) out.push_back(i);
  return out;
}

// Like EXPECT_EQ on the sequences, but says where they part (they are long).
::testing::AssertionResult same_sequence(const std::vector<int>& got, const std::vector<int>& want) {
  auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  if (g == got.end() && w == want.end()) return ::testing::AssertionSuccess();
  auto show = [](auto it, auto end) { return it == end ? std::string("end") : std::to_string(*it); };
  return ::testing::AssertionFailure() << "got " << got.size() << " records, want " << want.size()
                                     << "; first difference at " << (g - got.begin()) << ": got "
                                     << show(g, got.end()) << ", want " << show(w, want.end());
}

class LogReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/log_reader_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    warnings_ = std::make_shared<WarningCapture>();
    spdlog::default_logger()->sinks().push_back(warnings_);
  }
  void TearDown() override {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), warnings_), sinks.end());
    fs::remove_all(dir_);
  }

  fs::path path(const std::string& suffix = "") const { return dir_ / (kBase + suffix); }

  // Writes records [first, last) as the rotated file `suffix` (".2.gz", ...),
  // compressed as its name says, with lastTime = the last record's time.
  void write_rotated(const std::string& suffix, int first, int last) {
    std::string content = records(first, last);
    Codec codec = codec_for_path(suffix);
    if (codec == Codec::kNone) {
      append_to(path(suffix), content);
      return;
    }
    fs::path plain = dir_ / "plain.tmp";
    append_to(plain, content);
    compress_file(plain, path(suffix), codec, time_of(last - 1));
    fs::remove(plain);
  }

  // .3.zst: 0-9, .2.gz: 10-19, .1: 20-29, current: 30-39.
  void write_mixed_history() {
    write_rotated(".3.zst", 0, 10);
    write_rotated(".2.gz", 10, 20);
    write_rotated(".1", 20, 30);
    append_to(path(), records(30, 40));
  }

  // Cuts the compressed body short, keeping the header (and its lastTime).
  void truncate_body(const std::string& suffix) {
    fs::resize_file(path(suffix), fs::file_size(path(suffix)) - 12);
  }

  std::vector<int> read(ReadRequest request) {
    CollectingSink sink;
    read_logs(testing::host_file_system(), dir_, kBase, request, sink, nullptr);
    return sink.indices();
  }

  std::vector<std::string> warnings() { return warnings_->messages(); }
  bool warned_about(const std::string& text) {
    for (const auto& w : warnings()) {
      if (w.find(text) != std::string::npos) return true;
    }
    return false;
  }

  fs::path dir_;
  std::shared_ptr<WarningCapture> warnings_;
};

// --- history ----------------------------------------------------------------

TEST_F(LogReaderTest, ReadsPlainGzipAndZstdRotationsOldestFirst) {
  write_mixed_history();
  CollectingSink sink;
  read_logs(testing::host_file_system(), dir_, kBase, ReadRequest{}, sink, nullptr);
  EXPECT_EQ(sink.indices(), range(0, 40));
  EXPECT_EQ(sink.got[0].stream, "stdout");
  EXPECT_EQ(sink.got[0].time_nanos, time_of(0));
  EXPECT_EQ(sink.got[0].log, "line 0\n");
  EXPECT_TRUE(warnings().empty());
}

TEST_F(LogReaderTest, MissingDirectoryIsAnEmptyLog) {
  CollectingSink sink;
  read_logs(testing::host_file_system(), (dir_ / "nope").string(), kBase, ReadRequest{}, sink, nullptr);
  EXPECT_TRUE(sink.got.empty());
}

TEST_F(LogReaderTest, IgnoresTemporariesAndOtherNames) {
  write_mixed_history();
  append_to(path(".4.gz.tmp"), "garbage\n");
  append_to(path(".tmp"), "garbage\n");
  append_to(path(".x"), "garbage\n");
  append_to(dir_ / "other-json.log", record_line(99));
  EXPECT_EQ(read({}), range(0, 40));
  EXPECT_TRUE(warnings().empty());
}

TEST_F(LogReaderTest, PrefersThePlainCopyWhileACompressionFinishes) {
  write_rotated(".1", 0, 10);
  write_rotated(".1.gz", 0, 10);
  append_to(path(), records(10, 12));
  EXPECT_EQ(read({}), range(0, 12));
}

TEST_F(LogReaderTest, StopsAtTheSnapshotAndNeverEmitsAnIncompleteLine) {
  append_to(path(), records(0, 3));
  std::string partial = record_line(3);
  append_to(path(), partial.substr(0, partial.size() / 2));
  EXPECT_EQ(read({}), range(0, 3));
  EXPECT_TRUE(warnings().empty());
}

TEST_F(LogReaderTest, SkipsCorruptLinesWithAWarningNamingTheFile) {
  append_to(path(), record_line(0) + "not json\n" + "{\"log\":\"x\"}\n" + record_line(1));
  EXPECT_EQ(read({}), range(0, 2));
  EXPECT_TRUE(warned_about(path().string()));
}

TEST_F(LogReaderTest, CorruptCompressedFileIsSkippedWithAWarning) {
  write_mixed_history();
  truncate_body(".2.gz");
  std::vector<int> got = read({});
  // What was decodable of .2.gz may come through; everything else must.
  std::vector<int> expected = range(0, 10);
  for (int i : got) {
    if (i >= 10 && i < 20) expected.push_back(i);
  }
  for (int i = 20; i < 40; ++i) expected.push_back(i);
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(warned_about(path(".2.gz").string()));
}

TEST_F(LogReaderTest, StopsWhenTheSinkRefuses) {
  write_mixed_history();
  CollectingSink sink;
  sink.stop_after = 3;
  read_logs(testing::host_file_system(), dir_, kBase, ReadRequest{}, sink, nullptr);
  EXPECT_EQ(sink.indices(), range(0, 3));
}

// --- tail -------------------------------------------------------------------

TEST_F(LogReaderTest, TailCountsRecordsAcrossFiles) {
  write_mixed_history();
  EXPECT_EQ(read({.tail = 0}), range(0, 0));
  EXPECT_EQ(read({.tail = 1}), range(39, 40));
  EXPECT_EQ(read({.tail = 5}), range(35, 40));
  EXPECT_EQ(read({.tail = 10}), range(30, 40));
  EXPECT_EQ(read({.tail = 15}), range(25, 40));  // into .1
  EXPECT_EQ(read({.tail = 25}), range(15, 40));  // into .2.gz
  EXPECT_EQ(read({.tail = 35}), range(5, 40));   // into .3.zst
  EXPECT_EQ(read({.tail = 1000}), range(0, 40));
  EXPECT_TRUE(warnings().empty());
}

TEST_F(LogReaderTest, TailIgnoresAnIncompleteLastLine) {
  append_to(path(), records(0, 5));
  append_to(path(), record_line(5).substr(0, 20));
  EXPECT_EQ(read({.tail = 2}), range(3, 5));
}

TEST_F(LogReaderTest, TailReadsBackwardsAcrossBlocks) {
  append_to(path(), records(0, 5000));  // ~400 KB, several read blocks
  EXPECT_EQ(read({.tail = 3000}), range(2000, 5000));
}

TEST_F(LogReaderTest, TailDoesNotDecompressOlderFilesItDoesNotNeed) {
  write_mixed_history();
  truncate_body(".2.gz");
  truncate_body(".3.zst");
  EXPECT_EQ(read({.tail = 15}), range(25, 40));
  EXPECT_TRUE(warnings().empty());
  // The same files are noticed as corrupt once the tail reaches them.
  read({.tail = 25});
  EXPECT_TRUE(warned_about(path(".2.gz").string()));
}

TEST_F(LogReaderTest, TailIsChosenBeforeSinceAndUntil) {
  write_mixed_history();
  EXPECT_EQ(read({.since_nanos = time_of(20), .tail = 10}), range(30, 40));
  EXPECT_EQ(read({.since_nanos = time_of(35), .tail = 10}), range(35, 40));
  EXPECT_EQ(read({.until_nanos = time_of(33), .tail = 10}), range(30, 34));
}

// --- since / until ----------------------------------------------------------

TEST_F(LogReaderTest, SinceAndUntilSelectAcrossFiles) {
  write_mixed_history();
  EXPECT_EQ(read({.since_nanos = time_of(15)}), range(15, 40));
  EXPECT_EQ(read({.since_nanos = time_of(15) - 1}), range(15, 40));
  EXPECT_EQ(read({.until_nanos = time_of(25)}), range(0, 26));
  EXPECT_EQ(read({.since_nanos = time_of(5), .until_nanos = time_of(33)}), range(5, 34));
  EXPECT_EQ(read({.since_nanos = time_of(100)}), range(0, 0));
}

TEST_F(LogReaderTest, SinceBinarySearchesPlainFiles) {
  // A corrupt line early on is only noticed by a reader that scans past it.
  append_to(path(".1"), records(0, 100) + "corrupt\n" + records(100, 20000));
  append_to(path(), records(20000, 20100) + "corrupt\n" + records(20100, 40000));
  EXPECT_EQ(read({.since_nanos = time_of(39990)}), range(39990, 40000));
  EXPECT_TRUE(warnings().empty());
  std::vector<int> got = read({.since_nanos = time_of(12345), .until_nanos = time_of(12400)});
  EXPECT_EQ(got, range(12345, 12401));
  EXPECT_TRUE(warnings().empty());
}

TEST_F(LogReaderTest, SinceIsCorrectWhenTimesGoBackwards) {
  // A clock stepped back mid-file: records 0..2999 at 1000+i, then 3000..5999 at i-3000.
  std::string content;
  std::vector<int> expected;
  const int64_t since = time_of(2500);
  for (int i = 0; i < 6000; ++i) {
    int64_t t = i < 3000 ? time_of(1000 + i) : time_of(i - 3000);
    content += record_line(i, t);
    if (t >= since) expected.push_back(i);
  }
  append_to(path(), content);
  EXPECT_EQ(read({.since_nanos = since}), expected);
}

TEST_F(LogReaderTest, CompressedFileBeforeSinceIsSkippedWithoutDecompressing) {
  write_mixed_history();
  truncate_body(".2.gz");  // lastTime is record 19's
  EXPECT_EQ(read({.since_nanos = time_of(20)}), range(20, 40));
  EXPECT_TRUE(warnings().empty());
  // Needed by since, the same file is read and found corrupt.
  read({.since_nanos = time_of(19)});
  EXPECT_TRUE(warned_about(path(".2.gz").string()));
}

// --- follow -----------------------------------------------------------------

// Runs read_logs on a thread of its own.
class Follower {
 public:
  Follower(const fs::path& dir, ReadRequest request, CollectingSink& sink,
           std::shared_ptr<LogWatch> watch) {
    request.follow = true;
    done_ = std::async(std::launch::async, [=, &sink] {
      read_logs(testing::host_file_system(), dir, kBase, request, sink, watch);
    });
  }
  // Whether read_logs returned within the timeout.
  bool finished(std::chrono::milliseconds timeout = testing::kHangLimit) {
    if (done_.wait_for(timeout) != std::future_status::ready) return false;
    done_.get();
    return true;
  }

 private:
  std::future<void> done_;
};

// Holds the follower inside each delivery until released; `entered` says
// it is held in the first.
struct HeldDelivery {
  explicit HeldDelivery(CollectingSink& sink) {
    sink.on_write = [this](const Record&) {
      entered.set();
      release.wait();
    };
  }
  testing::Event entered, release;
};

// What LogFile does: shift .k -> .k+1, current -> .1, new empty current.
void rotate(const fs::path& dir) {
  std::vector<std::pair<int, std::string>> rotated;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename();
    std::string prefix = std::string(kBase) + ".";
    if (name.rfind(prefix, 0) != 0 || name.ends_with(".tmp")) continue;
    std::string rest = name.substr(prefix.size());
    size_t digits = 0;
    int index = std::stoi(rest, &digits);
    rotated.emplace_back(index, rest.substr(digits));  // (index, ".gz" or "")
  }
  std::sort(rotated.rbegin(), rotated.rend());
  for (const auto& [index, ext] : rotated) {
    std::string from = std::string(kBase) + "." + std::to_string(index) + ext;
    fs::rename(dir / from, dir / (std::string(kBase) + "." + std::to_string(index + 1) + ext));
  }
  fs::rename(dir / kBase, dir / (std::string(kBase) + ".1"));
  append_to(dir / kBase, "");
}

// What the compressor does to .1: temp, rename into place, unlink the source.
void compress_first(const fs::path& dir, int64_t last_time) {
  fs::path plain = dir / (std::string(kBase) + ".1");
  fs::path tmp = dir / (std::string(kBase) + ".1.gz.tmp");
  compress_file(plain, tmp, Codec::kGzip, last_time);
  fs::rename(tmp, dir / (std::string(kBase) + ".1.gz"));
  fs::remove(plain);
}

TEST_F(LogReaderTest, FollowDeliversNewRecordsAndEndsAfterClose) {
  append_to(path(), records(0, 5));
  auto watch = LogWatch::create();
  CollectingSink sink;
  Follower follower(dir_, {}, sink, watch);
  for (int i = 5; i < 50; ++i) {
    append_to(path(), record_line(i));
    watch->notify();
  }
  append_to(path(), records(50, 60));  // written before close, never notified
  watch->close();
  ASSERT_TRUE(follower.finished());
  EXPECT_EQ(sink.indices(), range(0, 60));
}

// What is planted at a log's name (a hard link to a file elsewhere, a
// symbolic link, a FIFO) is refused: never read into `docker logs`, never
// waited on. The reader fails with an error naming it.
TEST_F(LogReaderTest, WhatIsPlantedAtALogNameIsNeverRead) {
  const fs::path outside = dir_ / "outside";
  append_to(outside, record_line(999));  // a record, which a reader would deliver
  for (const std::string kind : {"hard link", "symbolic link", "FIFO"}) {
    SCOPED_TRACE(kind);
    append_to(path(".1"), records(0, 5));
    append_to(path(), records(5, 10));
    const fs::path planted = kind == "FIFO" ? path(".1") : path();
    fs::remove(planted);
    if (kind == "hard link") fs::create_hard_link(outside, planted);
    if (kind == "symbolic link") fs::create_symlink(outside, planted);
    if (kind == "FIFO") {
      ASSERT_EQ(::mkfifo(planted.c_str(), 0600), 0);
    }
    CollectingSink sink;
    try {
      read_logs(testing::host_file_system(), dir_, kBase, {}, sink, nullptr);
      ADD_FAILURE() << "read through it";
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find("refusing " + planted.string()), std::string::npos)
          << e.what();
    }
    for (int i : sink.indices()) EXPECT_NE(i, 999);
    fs::remove(path());
    fs::remove(path(".1"));
  }
  EXPECT_EQ(fs::file_size(outside), record_line(999).size());
}

// Real files, counting how many are open at once.
class CountingFileSystem : public FileSystemWrapper {
 public:
  CountingFileSystem() : FileSystemWrapper(testing::host_file_system()) {}
  std::unique_ptr<ReadableFile> open_read(const std::string& path) override {
    return std::make_unique<Counted>(target().open_read(path), open_);
  }
  int open_now() const { return open_.load(); }

 private:
  class Counted : public ReadableFile {
   public:
    Counted(std::unique_ptr<ReadableFile> file, std::atomic<int>& open)
        : file_(std::move(file)), open_(open) {
      ++open_;
    }
    ~Counted() override { --open_; }
    size_t read_at(uint64_t offset, char* buf, size_t n) override {
      return file_->read_at(offset, buf, n);
    }
    uint64_t size() override { return file_->size(); }
    FileId id() override { return file_->id(); }

   private:
    std::unique_ptr<ReadableFile> file_;
    std::atomic<int>& open_;
  };
  std::atomic<int> open_{0};
};

// A long `docker logs -f` must not keep files that max-file deletes using
// disk: once read, a history file is closed.
TEST_F(LogReaderTest, AFollowerKeepsOnlyTheFileItFollowsOpen) {
  write_mixed_history();
  CountingFileSystem files;
  auto watch = LogWatch::create();
  CollectingSink sink;
  auto done = std::async(std::launch::async, [&] {
    read_logs(files, dir_, kBase, {.follow = true}, sink, watch);
  });
  ASSERT_TRUE(sink.wait_idle_after(40));
  ASSERT_EQ(sink.indices(), range(0, 40));
  EXPECT_EQ(files.open_now(), 1);  // the current file, followed
  rotate(dir_);
  append_to(path(), records(40, 45));
  watch->notify();
  ASSERT_TRUE(sink.wait_idle_after(45));
  EXPECT_EQ(sink.indices(), range(0, 45));
  EXPECT_EQ(files.open_now(), 1);  // the new current file only
  watch->close();
  ASSERT_EQ(done.wait_for(testing::kHangLimit), std::future_status::ready);
  EXPECT_EQ(files.open_now(), 0);
}

TEST_F(LogReaderTest, FollowWithTailZeroStartsAtTheEnd) {
  append_to(path(), records(0, 5));
  std::string partial = record_line(5);
  append_to(path(), partial.substr(0, 10));  // completed after the reader started
  auto watch = LogWatch::create();
  CollectingSink sink;
  Follower follower(dir_, {.tail = 0}, sink, watch);
  ASSERT_TRUE(sink.wait_idle_after(0));  // past its (empty) history
  append_to(path(), partial.substr(10) + records(6, 8));
  watch->notify();
  watch->close();
  ASSERT_TRUE(follower.finished());
  EXPECT_EQ(sink.indices(), range(5, 8));
}

TEST_F(LogReaderTest, FollowEndsAtUntil) {
  append_to(path(), records(0, 3));
  auto watch = LogWatch::create();
  CollectingSink sink;
  Follower follower(dir_, {.until_nanos = time_of(6)}, sink, watch);
  append_to(path(), records(3, 10));
  watch->notify();
  ASSERT_TRUE(follower.finished());  // without close
  EXPECT_EQ(sink.indices(), range(0, 7));
}

TEST_F(LogReaderTest, FollowWaitsForTheFirstFile) {
  auto watch = LogWatch::create();
  CollectingSink sink;
  Follower follower(dir_, {}, sink, watch);
  ASSERT_TRUE(sink.wait_idle_after(0));  // no file yet: it waits
  append_to(path(), records(0, 3));
  watch->notify();
  watch->close();
  ASSERT_TRUE(follower.finished());
  EXPECT_EQ(sink.indices(), range(0, 3));
}

TEST_F(LogReaderTest, FollowerLeavesWhenTheClientHangsUp) {
  append_to(path(), records(0, 3));
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto watch = LogWatch::create();
  CollectingSink sink;
  sink.hangup = sv[0];
  Follower follower(dir_, {}, sink, watch);
  ASSERT_TRUE(sink.wait_idle_after(3));
  EXPECT_FALSE(follower.finished(seconds(0)));  // idle, waiting
  ::close(sv[1]);
  EXPECT_TRUE(follower.finished());
  ::close(sv[0]);
  EXPECT_EQ(sink.indices(), range(0, 3));
}

// A writer that appends, rotates (sometimes twice in a row, sometimes without
// notifying) and, if compressing, compresses each rotated file as it goes.
class FollowRotationTest : public LogReaderTest, public ::testing::WithParamInterface<bool> {};

TEST_P(FollowRotationTest, DeliversEveryRecordOnceInOrder) {
  const bool compress = GetParam();
  auto watch = LogWatch::create();
  CollectingSink sink;
  Follower follower(dir_, {}, sink, watch);
  int next = 0;
  auto rotate_once = [&](int64_t last_time) {
    rotate(dir_);
    if (compress) compress_first(dir_, last_time);
  };
  for (int round = 0; round < 30; ++round) {
    for (int chunk = 0; chunk < 4; ++chunk) {
      append_to(path(), records(next, next + 25));
      next += 25;
      watch->notify();
    }
    rotate_once(time_of(next - 1));
    if (round % 3 == 0) rotate_once(0);  // an empty file rotated too: nothing to lose
    if (round % 2 == 0) watch->notify();
  }
  append_to(path(), records(next, next + 10));
  next += 10;
  watch->close();
  ASSERT_TRUE(follower.finished());
  EXPECT_TRUE(same_sequence(sink.indices(), range(0, next)));
  EXPECT_TRUE(warnings().empty()) << ::testing::PrintToString(warnings());
}

INSTANTIATE_TEST_SUITE_P(PlainAndCompressed, FollowRotationTest, ::testing::Bool());

// The follower is held inside its first delivery while the writer rotates
// twice, so it must find the rotation it missed by reading the directory.
class MissedRotationTest : public LogReaderTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MissedRotationTest, ReadsFilesRotatedWhileItWasBusy) {
  const bool compress = GetParam();
  append_to(path(), records(0, 1));
  auto watch = LogWatch::create();
  CollectingSink sink;
  HeldDelivery held(sink);
  Follower follower(dir_, {}, sink, watch);
  ASSERT_TRUE(held.entered.wait());

  append_to(path(), records(1, 10));
  rotate(dir_);
  if (compress) compress_first(dir_, time_of(9));
  append_to(path(), records(10, 20));
  rotate(dir_);
  if (compress) compress_first(dir_, time_of(19));
  append_to(path(), records(20, 30));
  watch->notify();
  held.release.set();
  watch->close();

  ASSERT_TRUE(follower.finished());
  EXPECT_EQ(sink.indices(), range(0, 30));
  EXPECT_TRUE(warnings().empty());
}

// Held the same way while the writer rotates past max-file (2 rotated files
// kept), the follower finds the file after the one it read deleted: it warns,
// as Docker does, and delivers what is left, in order.
TEST_P(MissedRotationTest, WarnsWhenAFileItNeededWasDeletedPastMaxFile) {
  const bool compress = GetParam();
  append_to(path(), records(0, 1));
  auto watch = LogWatch::create();
  CollectingSink sink;
  HeldDelivery held(sink);
  Follower follower(dir_, {}, sink, watch);
  ASSERT_TRUE(held.entered.wait());

  append_to(path(), records(1, 10));
  for (int next = 10; next < 50; next += 10) {
    rotate(dir_);
    if (compress) compress_first(dir_, time_of(next - 1));
    fs::remove(path(".3"));
    fs::remove(path(".3.gz"));
    append_to(path(), records(next, next + 10));
  }
  watch->notify();
  held.release.set();
  watch->close();

  ASSERT_TRUE(follower.finished());
  std::vector<int> want = range(0, 10);  // 10-19 were deleted before the follower got there
  for (int i = 20; i < 50; ++i) want.push_back(i);
  EXPECT_EQ(sink.indices(), want);
  EXPECT_TRUE(warned_about("file rotations were missed while following logs"));
}

INSTANTIATE_TEST_SUITE_P(PlainAndCompressed, MissedRotationTest, ::testing::Bool());

TEST_F(LogReaderTest, ConcurrentFollowersEachGetEverything) {
  auto watch = LogWatch::create();
  CollectingSink a, b;
  Follower fa(dir_, {}, a, watch);
  Follower fb(dir_, {.since_nanos = time_of(0)}, b, watch);
  // Both following, so what comes next is read concurrently.
  ASSERT_TRUE(a.wait_idle_after(0));
  ASSERT_TRUE(b.wait_idle_after(0));
  for (int i = 0; i < 10; ++i) {
    append_to(path(), records(i * 10, i * 10 + 10));
    watch->notify();
    if (i % 4 == 3) rotate(dir_);
  }
  watch->close();
  ASSERT_TRUE(fa.finished());
  ASSERT_TRUE(fb.finished());
  EXPECT_TRUE(same_sequence(a.indices(), range(0, 100)));
  EXPECT_TRUE(same_sequence(b.indices(), range(0, 100)));
}

}  // namespace
}  // namespace logguard
