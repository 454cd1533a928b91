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

#include "logguard/unique_fd.h"

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
};

// The engine's FIFO. Peeks with tee(2) into a private pipe of the same
// capacity, consumes with splice(2) into /dev/null (no copy).
class FifoStream : public LogStream {
 public:
  // Opens the FIFO for reading without blocking (the engine already holds
  // its writer). Throws std::system_error, e.g. if path is not a FIFO.
  explicit FifoStream(const std::string& path);

  Peek peek(char* buf, size_t n) override;
  void consume(size_t n) override;
  size_t capacity() const override { return capacity_; }
  size_t available() const override;
  int poll_fd() const override { return fifo_.get(); }

 private:
  UniqueFd fifo_;
  UniqueFd scratch_read_, scratch_write_;
  UniqueFd null_;
  size_t capacity_ = 0;
};

// Whether path names a FIFO (without following a link).
bool is_fifo(const std::string& path);

}  // namespace logguard
