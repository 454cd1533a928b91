#include "logguard/ingest/fifo_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace logguard {
namespace {

using testing::TempDir;

// A FIFO with its writer, as the engine holds it.
class Fifo {
 public:
  Fifo(const std::string& path, FifoPipes& pipes) : path_(path) {
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    reader_ = std::make_unique<FifoStream>(path, pipes);
    writer_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    EXPECT_GE(writer_.get(), 0);
  }
  FifoStream& stream() { return *reader_; }
  // Writes n bytes of `c`; returns how many the pipe took.
  size_t write(size_t n, char c = 'x') {
    const std::string data(n, c);
    ssize_t w = ::write(writer_.get(), data.data(), data.size());
    return w < 0 ? 0 : static_cast<size_t>(w);
  }
  void close_writer() { writer_ = UniqueFd(); }

 private:
  std::string path_;
  std::unique_ptr<FifoStream> reader_;
  UniqueFd writer_;
};

void consume(FifoStream& s, size_t n) {
  std::string scratch(n, '\0');
  s.consume(n, scratch);
}

std::string peek_all(FifoStream& s, LogStream::Peek* p = nullptr) {
  std::string buf(s.capacity(), '\0');
  LogStream::Peek got = s.peek(buf.data(), buf.size());
  if (p) *p = got;
  buf.resize(got.bytes);
  return buf;
}

TEST(FifoStream, PeekLeavesTheBytesUntilConsumed) {
  TempDir dir;
  FifoPipes pipes;
  Fifo fifo(dir.path() + "/f", pipes);
  fifo.write(3, 'a');
  fifo.write(2, 'b');
  EXPECT_EQ(fifo.stream().available(), 5u);
  EXPECT_EQ(peek_all(fifo.stream()), "aaabb");
  EXPECT_EQ(peek_all(fifo.stream()), "aaabb");
  consume(fifo.stream(), 3);
  EXPECT_EQ(peek_all(fifo.stream()), "bb");
  consume(fifo.stream(), 2);
  LogStream::Peek p;
  EXPECT_EQ(peek_all(fifo.stream(), &p), "");
  EXPECT_FALSE(p.eof);  // the writer is still there
  fifo.close_writer();
  peek_all(fifo.stream(), &p);
  EXPECT_TRUE(p.eof);
}

// peek() says eof only once nothing is left; hung_up() tells a writer gone
// while bytes remain (the end of a frame that will never come).
TEST(FifoStream, HungUpWhileBytesRemainOnceTheWriterIsGone) {
  TempDir dir;
  FifoPipes pipes;
  Fifo fifo(dir.path() + "/f", pipes);
  fifo.write(3);
  EXPECT_FALSE(fifo.stream().hung_up());
  fifo.close_writer();
  EXPECT_TRUE(fifo.stream().hung_up());
  LogStream::Peek p;
  EXPECT_EQ(peek_all(fifo.stream(), &p), "xxx");
  EXPECT_FALSE(p.eof);
}

TEST(FifoStream, ALargePipeTakesABurstAndIsGivenBack) {
  TempDir dir;
  FifoPipes pipes;
  Fifo fifo(dir.path() + "/f", pipes);
  const size_t small = fifo.stream().capacity();
  ASSERT_LT(small, FifoPipes::kLargePipe);
  EXPECT_LT(fifo.write(FifoPipes::kLargePipe), FifoPipes::kLargePipe);  // the small pipe is full
  consume(fifo.stream(), small);
  EXPECT_EQ(pipes.large_in_use(), 0);

  fifo.stream().use_large_pipe(true);
  ASSERT_EQ(fifo.stream().capacity(), FifoPipes::kLargePipe);
  EXPECT_EQ(pipes.large_in_use(), 1);
  EXPECT_EQ(fifo.write(FifoPipes::kLargePipe), FifoPipes::kLargePipe);
  EXPECT_EQ(peek_all(fifo.stream()).size(), FifoPipes::kLargePipe);  // one peek takes it all

  // Holding more than the small pipe takes, it cannot shrink yet.
  fifo.stream().use_large_pipe(false);
  EXPECT_EQ(fifo.stream().capacity(), FifoPipes::kLargePipe);
  consume(fifo.stream(), FifoPipes::kLargePipe);
  fifo.stream().use_large_pipe(false);
  EXPECT_EQ(fifo.stream().capacity(), small);
  EXPECT_EQ(pipes.large_in_use(), 0);
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A pipe per stream once made a node with a few hundred containers go over
// root's pipe-user-pages-soft: new pipes were then too small for a frame.
TEST(FifoStream, StreamsHoldNoPipeOfTheirOwn) {
  TempDir dir;
  FifoPipes pipes;
  const size_t before = open_fds();
  std::vector<std::unique_ptr<Fifo>> fifos;
  for (int i = 0; i < 50; ++i) {
    fifos.push_back(std::make_unique<Fifo>(dir.path() + "/f" + std::to_string(i), pipes));
  }
  EXPECT_EQ(open_fds() - before, 2 * fifos.size());  // the FIFO's two ends, nothing else
  fifos[7]->write(5, 'x');
  EXPECT_EQ(peek_all(fifos[7]->stream()), "xxxxx");
  EXPECT_EQ(peek_all(fifos[8]->stream()), "");
}

// Peeks share a few pipes: many at once, small and large, each sees its own
// stream's bytes, whole.
TEST(FifoStream, PeeksAtOnceEachSeeTheirOwnStream) {
  TempDir dir;
  FifoPipes pipes;
  constexpr int kStreams = 8;
  std::vector<std::unique_ptr<Fifo>> fifos;
  for (int i = 0; i < kStreams; ++i) {
    fifos.push_back(std::make_unique<Fifo>(dir.path() + "/f" + std::to_string(i), pipes));
    // Half of them hold more than a small peek pipe takes.
    fifos.back()->write(i % 2 == 0 ? 100 : 60 * 1024, static_cast<char>('a' + i));
  }
  std::vector<std::thread> peekers;
  std::atomic<int> wrong{0};
  for (int i = 0; i < kStreams; ++i) {
    peekers.emplace_back([&, i] {
      const std::string want(i % 2 == 0 ? 100 : 60 * 1024, static_cast<char>('a' + i));
      for (int round = 0; round < 300; ++round) {
        if (peek_all(fifos[i]->stream()) != want) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& t : peekers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(FifoStream, OnlyAFewStreamsHoldALargePipe) {
  TempDir dir;
  FifoPipes pipes;
  std::vector<std::unique_ptr<Fifo>> fifos;
  for (int i = 0; i < FifoPipes::kMaxLargePipes + 2; ++i) {
    fifos.push_back(std::make_unique<Fifo>(dir.path() + "/f" + std::to_string(i), pipes));
    fifos.back()->stream().use_large_pipe(true);
  }
  int large = 0;
  for (auto& f : fifos) large += f->stream().capacity() == FifoPipes::kLargePipe ? 1 : 0;
  EXPECT_EQ(large, FifoPipes::kMaxLargePipes);
  EXPECT_EQ(pipes.large_in_use(), FifoPipes::kMaxLargePipes);
  fifos.clear();  // closing a stream gives its large pipe back
  EXPECT_EQ(pipes.large_in_use(), 0);
}

}  // namespace
}  // namespace logguard
