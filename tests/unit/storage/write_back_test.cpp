// The write-back: bursts reach the disk at the pace, a chunk at a time, files
// take turns, small tails wait until they are due, deleted files are never
// written, and the disk's own rate is measured. A fake disk and clock; one
// test with the real thread and files.
#include "logguard/storage/write_back.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

#include "logguard/storage/posix_file_system.h"
#include "test_util.h"

namespace logguard {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr uint64_t kMB = 1'000'000;

// A disk that takes `rate` bytes a second: each chunk moves the clock.
struct FakeDisk {
  struct Call {
    int fd;
    uint64_t offset, length;
  };
  explicit FakeDisk(FakeClock& c) : clock(c) {}

  FakeClock& clock;
  double rate = 100e6;
  std::vector<Call> calls;
  std::map<int, bool> deleted;

  WriteBack::Flush flush() {
    return [this](int fd, uint64_t offset, uint64_t length) {
      calls.push_back({fd, offset, length});
      clock.advance(static_cast<int64_t>(static_cast<double>(length) / rate * 1e9));
    };
  }
  WriteBack::Linked linked() {
    return [this](int fd) { return !deleted[fd]; };
  }
  uint64_t handed(int fd) const {
    uint64_t sum = 0;
    for (const Call& c : calls) sum += c.fd == fd ? c.length : 0;
    return sum;
  }
};

// Descriptors that are never used for I/O here: just numbers to tell files apart.
std::shared_ptr<UniqueFd> fake_fd(int n) {
  return std::shared_ptr<UniqueFd>(new UniqueFd(n), [](UniqueFd* fd) {
    fd->release();
    delete fd;
  });
}

class WriteBackTest : public ::testing::Test {
 protected:
  WriteBackTest() : disk_(clock_), wb_(clock_, disk_.flush(), disk_.linked()) {}

  // Steps the write-back until nothing is due, moving the clock over its
  // waits; at most `limit` of clock time.
  void run_for(int64_t limit) {
    const int64_t end = clock_.monotonic_nanos() + limit;
    while (clock_.monotonic_nanos() < end) {
      const int64_t wait = wb_.step();
      if (wait == INT64_MAX) return;
      if (wait > 0) clock_.advance(std::min(wait, end - clock_.monotonic_nanos()));
    }
  }

  FakeClock clock_;
  FakeDisk disk_;
  WriteBack wb_;
};

TEST_F(WriteBackTest, ABurstReachesTheDiskAtThePaceNotAtOnce) {
  wb_.set_rate(2 * kMB);
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(8 * kMB);  // written to the page cache at once
  EXPECT_EQ(wb_.backlog(), 8 * kMB);
  const int64_t start = clock_.monotonic_nanos();
  run_for(2 * kSecond);
  // Two seconds at 2 MB/s, plus the pace's burst (a chunk) and the chunk
  // that may take it into debt.
  EXPECT_LE(disk_.handed(3), 4 * kMB + 2 * WriteBack::kChunkBytes);
  EXPECT_GE(disk_.handed(3), 4 * kMB - WriteBack::kChunkBytes);
  EXPECT_EQ(wb_.backlog(), 8 * kMB - disk_.handed(3));
  run_for(10 * kSecond);
  EXPECT_EQ(disk_.handed(3), 8 * kMB);
  EXPECT_EQ(wb_.backlog(), 0u);
  EXPECT_NEAR(static_cast<double>(clock_.monotonic_nanos() - start), 4e9, 0.2e9);
}

TEST_F(WriteBackTest, AtMostAChunkIsHandedOverAtATimeInOrder) {
  auto file = wb_.track(fake_fd(3), 1000);  // the file already held 1000 bytes
  file->wrote(3 * kMB);
  run_for(10 * kSecond);
  uint64_t next = 1000;
  for (const auto& call : disk_.calls) {
    EXPECT_LE(call.length, WriteBack::kChunkBytes);
    EXPECT_EQ(call.offset, next);
    next += call.length;
  }
  EXPECT_EQ(next, 1000 + 3 * kMB);
}

TEST_F(WriteBackTest, UnpacedItHandsOverAsFastAsTheDiskTakes) {
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(10 * kMB);
  const int64_t start = clock_.monotonic_nanos();
  run_for(10 * kSecond);
  EXPECT_EQ(wb_.backlog(), 0u);
  EXPECT_NEAR(static_cast<double>(clock_.monotonic_nanos() - start), 0.1e9, 0.01e9);  // 100 MB/s
}

TEST_F(WriteBackTest, FilesTakeTurns) {
  auto a = wb_.track(fake_fd(3), 0);
  auto b = wb_.track(fake_fd(4), 0);
  a->wrote(2 * kMB);
  b->wrote(2 * kMB);
  run_for(10 * kSecond);
  ASSERT_GE(disk_.calls.size(), 4u);
  EXPECT_NE(disk_.calls[0].fd, disk_.calls[1].fd);
  EXPECT_NE(disk_.calls[1].fd, disk_.calls[2].fd);
}

TEST_F(WriteBackTest, ASmallTailWaitsUntilItIsDue) {
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(1000);  // a quiet container's few lines
  EXPECT_GT(wb_.step(), 4 * kSecond);
  EXPECT_TRUE(disk_.calls.empty());
  file->wrote(WriteBack::kDueBytes);  // enough to be worth a call
  EXPECT_EQ(wb_.step(), 0);
  ASSERT_EQ(disk_.calls.size(), 1u);
  EXPECT_EQ(disk_.calls[0].length, 1000 + WriteBack::kDueBytes);
  file->wrote(500);
  EXPECT_GT(wb_.step(), 0);
  clock_.advance(WriteBack::kDueNanos);  // or old enough
  EXPECT_EQ(wb_.step(), 0);
  EXPECT_EQ(wb_.backlog(), 0u);
  EXPECT_EQ(wb_.step(), INT64_MAX);  // nothing dirty
}

// Quiet files come due one after another; the thread, woken for the first,
// takes all that are due within a second, and then sleeps that second.
TEST_F(WriteBackTest, TailsDueWithinASecondOfEachOtherShareAWakeUp) {
  auto a = wb_.track(fake_fd(3), 0);
  a->wrote(100);
  clock_.advance(kSecond / 2);
  auto b = wb_.track(fake_fd(4), 0);
  b->wrote(100);
  clock_.advance(kSecond);
  auto c = wb_.track(fake_fd(5), 0);
  c->wrote(100);
  const int64_t wait = wb_.step();
  EXPECT_EQ(wait, WriteBack::kDueNanos - 3 * kSecond / 2);  // when a is due
  clock_.advance(wait);
  EXPECT_EQ(wb_.step(), 0);
  EXPECT_EQ(wb_.step(), 0);
  EXPECT_EQ(disk_.handed(3), 100u);
  EXPECT_EQ(disk_.handed(4), 100u);   // due half a second later: taken now
  EXPECT_NEAR(static_cast<double>(wb_.step()), 1.5 * kSecond, 1e6);  // c, due 1.5 s after a, waits
  EXPECT_EQ(disk_.handed(5), 0u);
}

TEST_F(WriteBackTest, AClosedFilesRestIsHandedOverThenItsDescriptorLetGo) {
  auto fd = fake_fd(3);
  auto file = wb_.track(fd, 0);
  file->wrote(100);
  file->close();
  file.reset();
  EXPECT_EQ(fd.use_count(), 2);  // the write-back holds it until its bytes are over
  EXPECT_EQ(wb_.step(), 0);      // a closed file is due at once
  EXPECT_EQ(disk_.handed(3), 100u);
  EXPECT_EQ(fd.use_count(), 1);
}

TEST_F(WriteBackTest, ADeletedFilesBytesAreNeverWritten) {
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(5 * kMB);
  file->close();
  disk_.deleted[3] = true;  // compressed and removed before its turn
  run_for(kSecond);
  EXPECT_TRUE(disk_.calls.empty());
  EXPECT_EQ(wb_.backlog(), 0u);
}

// A deleted file's space is not free while its descriptor is open: it is let
// go at the next look, not when its turn would have come.
TEST_F(WriteBackTest, ADeletedFileIsLetGoBeforeItsTurn) {
  wb_.set_rate(1 * kMB);
  auto busy = wb_.track(fake_fd(3), 0);
  busy->wrote(10 * kMB);
  auto fd = fake_fd(4);
  auto rotated = wb_.track(fd, 0);
  rotated->wrote(5 * kMB);
  rotated->close();
  rotated.reset();
  run_for(kSecond);  // the pace is busy with the first file's bytes
  disk_.deleted[4] = true;
  const int64_t wait = wb_.step();
  EXPECT_LE(wait, 50 * kMs);
  EXPECT_EQ(fd.use_count(), 1);
  EXPECT_EQ(wb_.backlog(), 10 * kMB - disk_.handed(3));  // the rest of file 4 is off the books
}

TEST_F(WriteBackTest, AFileSyncedByItsWriterOwesNothing) {
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(kMB);
  file->synced();
  EXPECT_EQ(wb_.backlog(), 0u);
  run_for(10 * kSecond);
  EXPECT_TRUE(disk_.calls.empty());
}

TEST_F(WriteBackTest, MeasuresHowFastTheDiskTakesItsChunks) {
  EXPECT_EQ(wb_.service_rate(), 0);  // not known yet
  disk_.rate = 20e6;
  wb_.set_rate(200 * kMB);  // a budget the disk cannot carry
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(20 * kMB);
  run_for(10 * kSecond);
  EXPECT_NEAR(wb_.service_rate(), 20e6, 1e6);
}

TEST_F(WriteBackTest, AnOldMeasurementIsForgotten) {
  disk_.rate = 2e6;  // something else held the disk
  auto file = wb_.track(fake_fd(3), 0);
  file->wrote(2 * kMB);
  run_for(2 * kSecond);
  EXPECT_NEAR(wb_.service_rate(), 2e6, 0.2e6);
  clock_.advance(WriteBack::kMeasureLifetimeNanos + kSecond);
  EXPECT_EQ(wb_.service_rate(), 0);  // unknown again, not 2 MB/s for ever
  disk_.rate = 50e6;
  file->wrote(20 * kMB);
  run_for(2 * kSecond);
  EXPECT_NEAR(wb_.service_rate(), 50e6, 5e6);  // not averaged with the stale one
}

// The real thing: a rooted file system whose appends the write-back follows.
TEST(WriteBackThread, HandsOverWhatARealFileWasWritten) {
  testing::TempDir tmp;
  WriteBack wb(testing::real_clock());
  wb.start();
  auto fs = make_posix_file_system(tmp.path(), &wb);
  auto file = fs->open_append(tmp / "log");
  file->append(std::string(3 * WriteBack::kChunkBytes, 'x'));
  EXPECT_TRUE(testing::eventually([&] { return wb.backlog() == 0; }));
  file->append("tail");
  file->close();  // a closed file's tail is due at once
  EXPECT_TRUE(testing::eventually([&] { return wb.backlog() == 0; }));
  wb.stop();
}

// A writer about to fdatasync (the compressor, its temp) has its bytes handed
// over first, at the pace, so the sync finds little left; a small tail does
// not wait to be due.
TEST(WriteBackThread, HandOverWaitsUntilTheFilesBytesAreHandedOver) {
  std::mutex mu;
  uint64_t handed = 0;
  WriteBack wb(
      testing::real_clock(),
      [&](int, uint64_t, uint64_t length) {
        std::lock_guard lock(mu);
        handed += length;
      },
      [](int) { return true; });
  auto file = wb.track(fake_fd(3), 0);
  file->wrote(1000);
  file->hand_over();  // not running: returns at once, the sync does the work
  EXPECT_EQ(wb.backlog(), 1000u);
  wb.start();
  file->hand_over();
  EXPECT_EQ(wb.backlog(), 0u);
  std::lock_guard lock(mu);
  EXPECT_EQ(handed, 1000u);
}

TEST(WriteBackThread, StopReturnsWhileTheDiskDoesNotAnswer) {
  // Shared with the thread left behind, which outlives the test's frame.
  struct Stuck {
    std::mutex mu;
    std::condition_variable cv;
    bool answered = false, entered = false;
  };
  auto stuck = std::make_shared<Stuck>();
  std::weak_ptr<WriteBack::File> left;
  {
    WriteBack wb(
        testing::real_clock(),
        [stuck](int, uint64_t, uint64_t) {
          std::unique_lock lock(stuck->mu);
          stuck->entered = true;
          stuck->cv.notify_all();
          stuck->cv.wait(lock, [&] { return stuck->answered; });
        },
        [](int) { return true; });
    wb.start();
    auto file = wb.track(fake_fd(3), 0);
    file->wrote(kMB);
    {
      std::unique_lock lock(stuck->mu);
      stuck->cv.wait(lock, [&] { return stuck->entered; });
    }
    wb.stop();  // returns although the chunk never comes back
    left = file;
  }
  {
    std::lock_guard lock(stuck->mu);
    stuck->answered = true;  // the left-behind thread may finish now
    stuck->cv.notify_all();
  }
  // ... and, once it has, holds nothing of ours.
  EXPECT_TRUE(testing::eventually([&] { return left.expired(); }));
}

// A file with bytes in line and the write-back hold each other: dropping the
// write-back must free both (a leak in every test before).
TEST(WriteBackThread, ItsFilesAreLetGoWithIt) {
  FakeClock clock;
  std::weak_ptr<WriteBack::File> left;
  {
    WriteBack wb(clock, [](int, uint64_t, uint64_t) {}, [](int) { return true; });
    wb.start();
    auto file = wb.track(fake_fd(3), 0);
    file->wrote(1000);  // a small tail: it waits in line
    left = file;
  }
  EXPECT_TRUE(left.expired());
}

}  // namespace
}  // namespace logguard
