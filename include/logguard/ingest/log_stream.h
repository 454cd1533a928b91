// LogStream: a container's log stream as the engine hands it over (a FIFO),
// read WITHOUT consuming: peek() copies what the stream holds, and only
// consume() takes bytes out. The session consumes bytes only after what they
// carry is written (or counted as dropped) durably, so a plugin killed at
// any moment loses nothing it had read: the next process reads it again
// (see stream_pump.h for how it skips what was already written).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "logguard/base/unique_fd.h"

namespace logguard {

class LogStream {
 public:
  virtual ~LogStream() = default;

  struct Peek {
    size_t bytes = 0;  // copied into the buffer, from the first unconsumed byte
    bool eof = false;  // nothing left and the writer is gone: the stream ended
  };
  // Copies up to n of the unconsumed bytes into buf, without consuming them.
  // Throws std::system_error on I/O errors.
  virtual Peek peek(char* buf, size_t n) = 0;
  // Takes the first n unconsumed bytes out (n <= what the last peek saw).
  virtual void consume(size_t n) = 0;
  // The most peek() can ever return (the pipe's capacity).
  virtual size_t capacity() const = 0;
  // Unconsumed bytes now (more may arrive any moment).
  virtual size_t available() const = 0;
  // A descriptor that polls readable while unconsumed bytes or EOF wait;
  // -1 if the stream cannot be polled (fakes).
  virtual int poll_fd() const = 0;
  // Whether the writer is gone, even if unconsumed bytes remain (peek()
  // says eof only once nothing is left). Linux cannot tell for a writer that
  // left before this stream was opened: then false.
  virtual bool hung_up() const = 0;
  // Asks for a large pipe (a busy stream: turns of hundreds of KiB instead
  // of tens) or the original one back (quiet again). Best effort: the kernel
  // may refuse, and capacity() says what there is.
  virtual void use_large_pipe(bool /*large*/) {}
};

// The engine's FIFO. Peeks with tee(2) into a private pipe and reads that,
// consumes with read(2) (a few bytes) or splice(2) into /dev/null.
//
// The private pipe is one for the whole process, not one per stream: every
// pipe's capacity counts against its user's pipe-user-pages-soft (64 MiB by
// default), and on a node with a few hundred containers, most of them root
// like the engine and us, a pipe per stream went over it — then a new pipe
// gets 8 KiB and cannot grow, too small for one 16 KiB frame. It is made
// once, kLargePipe big.
//
// Large FIFOs (kLargePipe, the default pipe-max-size) are few for the same
// reason: at most kMaxLargePipes streams of the process hold one.
class FifoStream : public LogStream {
 public:
  static constexpr size_t kLargePipe = 1 << 20;
  static constexpr int kMaxLargePipes = 8;

  // Opens the FIFO for reading without blocking (the engine already holds
  // its writer). Throws std::system_error, e.g. if path is not a FIFO.
  explicit FifoStream(const std::string& path);
  ~FifoStream() override;

  Peek peek(char* buf, size_t n) override;
  void consume(size_t n) override;
  size_t capacity() const override { return capacity_; }
  size_t available() const override;
  int poll_fd() const override { return fifo_.get(); }
  bool hung_up() const override;
  void use_large_pipe(bool large) override;

  // Streams of this process holding a large pipe now.
  static int large_pipes();

 private:
  bool resize_fifo(size_t bytes);

  UniqueFd fifo_;
  size_t capacity_ = 0;       // what one peek can take: the FIFO's size, at most the private pipe's
  size_t base_capacity_ = 0;  // the FIFO's capacity as the engine made it
  bool large_ = false;        // holds one of the kMaxLargePipes
};

// Whether path names a FIFO (without following a link).
bool is_fifo(const std::string& path);

}  // namespace logguard
