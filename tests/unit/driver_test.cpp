// The driver with real FIFOs and files, the engine played by the test: it
// holds the FIFO open O_RDWR and writes frames, exactly as dockerd does.
#include "logguard/driver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "logguard/file_system.h"
#include "logguard/frame.h"
#include "logguard/json_record.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;
const std::string kId(64, 'a');

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

std::string frame(const std::string& source, const std::string& line, int64_t time = 1'700'000'000'000'000'000) {
  LogEntry entry;
  entry.set_source(source);
  entry.set_time_nano(time);
  entry.set_line(line);
  std::string out;
  append_frame(out, entry);
  return out;
}

class CollectingSink : public RecordSink {
 public:
  bool write(const Record& record) override {
    records.push_back(record);
    return true;
  }
  std::vector<Record> records;
};

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lg-driver-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "fifos");
    DriverConfig config;
    config.root = (dir_ / "logs").string();
    config.stop_drain_timeout = std::chrono::milliseconds(2000);
    driver_ = std::make_unique<Driver>(config, posix_file_system(), nullptr);
  }
  void TearDown() override {
    driver_.reset();
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
  void engine_close() {
    ::close(engine_fds_.back());
    engine_fds_.pop_back();
  }
  fs::path log_path() const { return dir_ / "logs" / kId / (kId + "-json.log"); }

  fs::path dir_;
  std::unique_ptr<Driver> driver_;
  std::vector<int> engine_fds_;
};

TEST_F(DriverTest, WritesFramesAsJsonFileRecordsBeforeStopLoggingReturns) {
  auto fifo = make_fifo("a");
  driver_->start_logging(fifo, {kId, "/web", {}});
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

TEST_F(DriverTest, PartialChunksKeepNewlineOnlyOnLastChunk) {
  auto fifo = make_fifo("p");
  driver_->start_logging(fifo, {kId, "/web", {}});
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
  driver_->start_logging(first, {kId, "/web", {}});
  engine_write(frame("stdout", "one"));
  driver_->stop_logging(first);
  engine_close();
  // `docker logs` of a stopped container: a new session that receives nothing.
  auto second = make_fifo("2");
  driver_->start_logging(second, {kId, "/web", {}});
  driver_->stop_logging(second);
  engine_close();
  auto third = make_fifo("3");
  driver_->start_logging(third, {kId, "/web", {}});
  engine_write(frame("stdout", "two"));
  driver_->stop_logging(third);
  auto records = read_records(log_path());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].log, "one\n");
  EXPECT_EQ(records[1].log, "two\n");
  engine_close();
}

TEST_F(DriverTest, InvalidOptionIsRefusedWithItsName) {
  auto fifo = make_fifo("bad");
  try {
    driver_->start_logging(fifo, {kId, "/web", {{"rate", "fast"}}});
    FAIL() << "accepted rate=fast";
  } catch (const DriverError& e) {
    EXPECT_NE(std::string(e.what()).find("rate"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fast"), std::string::npos) << e.what();
  }
}

TEST_F(DriverTest, RefusesContainerIdThatIsNotHex) {
  auto fifo = make_fifo("evil");
  EXPECT_THROW(driver_->start_logging(fifo, {"../../etc", "/x", {}}), DriverError);
}

TEST_F(DriverTest, CorruptFrameEndsOnlyThatStream) {
  auto bad = make_fifo("corrupt");
  const std::string other_id(64, 'b');
  driver_->start_logging(bad, {kId, "/bad", {}});
  auto good = make_fifo("good");
  driver_->start_logging(good, {other_id, "/good", {}});
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

TEST_F(DriverTest, ReadLogsReturnsWhatWasWritten) {
  auto fifo = make_fifo("r");
  driver_->start_logging(fifo, {kId, "/web", {}});
  engine_write(frame("stdout", "a") + frame("stdout", "b") + frame("stderr", "c"));
  driver_->stop_logging(fifo);
  CollectingSink sink;
  ReadRequest request;
  request.tail = 2;
  driver_->read_logs({kId, "/web", {}}, request, sink);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].log, "b\n");
  EXPECT_EQ(sink.records[1].log, "c\n");
  EXPECT_EQ(sink.records[1].stream, "stderr");
  engine_close();
}

}  // namespace
}  // namespace logguard
