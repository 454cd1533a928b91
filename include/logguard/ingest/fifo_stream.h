// FifoStream: the engine's FIFO as a LogStream. Peeks with tee(2) into a
// private pipe and reads that, consumes with read(2) (a few bytes) or
// splice(2) into /dev/null.
//
// What every stream of the process shares is one FifoPipes, owned by main:
// - The private pipes for peeks, a few for all streams rather than one each:
//   every pipe's capacity counts against its user's pipe-user-pages-soft
//   (64 MiB by default), and on a node with a few hundred containers, most of
//   them root like the engine and us, a pipe per stream went over it — then
//   a new pipe gets 8 KiB and cannot grow, too small for one 16 KiB frame.
//   One is kLargePipe big, for any peek; the others keep the kernel's
//   default size (an engine FIFO's), for the small peeks of quiet streams. A
//   peek takes whichever is free: with a single pipe, the quiet sessions
//   that one timer interrupt wakes together queued for it, and a tenth of
//   their turns paid a futex wait and wake-up (measured, 100 containers).
// - Large FIFOs (kLargePipe, the default pipe-max-size) are few for the
//   same reason: at most kMaxLargePipes streams hold one at a time.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

#include "logguard/base/unique_fd.h"
#include "logguard/ingest/log_stream.h"

namespace logguard {

class FifoPipes {
 public:
  static constexpr size_t kLargePipe = 1 << 20;
  static constexpr int kMaxLargePipes = 8;

  static constexpr int kPeekPipes = 4;

  // Makes the private pipes (logs an error if the kernel keeps the large one
  // smaller than a FIFO the engine makes) and opens /dev/null. Throws
  // std::system_error.
  FifoPipes();

  // What one peek can take at most.
  size_t capacity() const { return capacity_; }
  // Copies up to n bytes at the head of `fifo` into buf without consuming
  // them: {bytes, eof}; EAGAIN (nothing there) is {0, false}. Thread-safe.
  LogStream::Peek peek(int fifo, char* buf, size_t n);
  // /dev/null, for splicing consumed bytes into.
  int null_fd() const { return null_.get(); }

  // One of the kMaxLargePipes, if one is free (and peeks could see more than
  // a small pipe); give it back with give_back_large(). Thread-safe.
  bool take_large();
  void give_back_large();
  // Large FIFOs held now.
  int large_in_use() const { return large_in_use_.load(); }

 private:
  // A pipe peeks go through: tee and read as one, one peek at a time.
  struct PeekPipe {
    std::mutex mu;
    UniqueFd read, write;
    size_t capacity = 0;
  };
  static LogStream::Peek peek_through(PeekPipe& pipe, int fifo, char* buf, size_t n);

  std::array<PeekPipe, kPeekPipes> peek_pipes_;  // [0]: kLargePipe; the others as made
  std::atomic<unsigned> next_peek_pipe_{0};
  UniqueFd null_;
  size_t capacity_ = 0;
  std::atomic<int> large_in_use_{0};
};

class FifoStream : public LogStream {
 public:
  // Opens the FIFO for reading without blocking (the engine already holds
  // its writer). Throws std::system_error, e.g. if path is not a FIFO.
  // pipes must outlive the stream.
  FifoStream(const std::string& path, FifoPipes& pipes);
  ~FifoStream() override;

  Peek peek(char* buf, size_t n) override;
  void consume(size_t n, std::span<char> scratch) override;
  size_t capacity() const override { return capacity_; }
  size_t available() const override;
  int poll_fd() const override { return fifo_.get(); }
  bool hung_up() const override;
  void use_large_pipe(bool large) override;

 private:
  bool resize_fifo(size_t bytes);
  size_t splice_out(size_t n);
  size_t read_out(size_t n, std::span<char> scratch);

  FifoPipes& pipes_;
  UniqueFd fifo_;
  size_t capacity_ = 0;       // what one peek can take: the FIFO's size, at most the private pipe's
  size_t base_capacity_ = 0;  // the FIFO's capacity as the engine made it
  bool large_ = false;        // holds one of the kMaxLargePipes
};

// Whether path names a FIFO (without following a link).
bool is_fifo(const std::string& path);

}  // namespace logguard
