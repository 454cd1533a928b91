// LogStream: a container's log stream as the engine hands it over (a FIFO),
// read WITHOUT consuming: peek() copies what the stream holds, and only
// consume() takes bytes out. The session consumes bytes only after what they
// carry is written (or counted as dropped) durably, so a plugin killed at
// any moment loses nothing it had read: the next process reads it again
// (see stream_pump.h for how it skips what was already written).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>


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
  // `scratch` is the caller's memory the stream may overwrite meanwhile, at
  // least n bytes (the peek's buffer, whose bytes are decided): a session
  // thread then needs no buffer of its own on its stack, a page of memory
  // each with hundreds of sessions.
  virtual void consume(size_t n, std::span<char> scratch) = 0;
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

}  // namespace logguard
