// FifoStream: the engine's FIFO as a LogStream. Peeks with tee(2) into a
// private pipe and reads that, consumes with read(2) (a few bytes) or
// splice(2) into /dev/null.
//
// What every stream of the process shares is one FifoPipes, owned by main:
// - The private pipe for peeks, one for all streams rather than one each:
//   every pipe's capacity counts against its user's pipe-user-pages-soft
//   (64 MiB by default), and on a node with a few hundred containers, most of
//   them root like the engine and us, a pipe per stream went over it — then
//   a new pipe gets 8 KiB and cannot grow, too small for one 16 KiB frame.
//   It is made once, kLargePipe big.
// - Large FIFOs (kLargePipe, the default pipe-max-size) are few for the
//   same reason: at most kMaxLargePipes streams hold one at a time.
#pragma once

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

  // Makes the private pipe (logs an error if the kernel keeps it smaller
  // than a FIFO the engine makes) and opens /dev/null. Throws std::system_error.
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
  std::mutex mu_;  // tee and read as one: the pipe is shared
  UniqueFd read_, write_;
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
  void consume(size_t n) override;
  size_t capacity() const override { return capacity_; }
  size_t available() const override;
  int poll_fd() const override { return fifo_.get(); }
  bool hung_up() const override;
  void use_large_pipe(bool large) override;

 private:
  bool resize_fifo(size_t bytes);

  FifoPipes& pipes_;
  UniqueFd fifo_;
  size_t capacity_ = 0;       // what one peek can take: the FIFO's size, at most the private pipe's
  size_t base_capacity_ = 0;  // the FIFO's capacity as the engine made it
  bool large_ = false;        // holds one of the kMaxLargePipes
};

// Whether path names a FIFO (without following a link).
bool is_fifo(const std::string& path);

}  // namespace logguard
