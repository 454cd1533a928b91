// FakeStream: a LogStream in memory, with the engine's side to fill it. It
// can share a FakeFileSystem's fate: once that "crashes", peek and consume
// throw FakeCrash too, as the whole process would be gone.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "fake_file_system.h"
#include "logguard/ingest/log_stream.h"

namespace logguard::testing {

class FakeStream : public LogStream {
 public:
  explicit FakeStream(size_t capacity = 64 * 1024) : capacity_(capacity) {}

  // The engine's side.
  void write(const std::string& bytes) { data_ += bytes; }
  void close() { closed_ = true; }
  // Dies with this file system (null: never); consuming counts as one of
  // its operations, so a crash can fall right before or after it.
  void crash_with(FakeFileSystem* fs) { fs_ = fs; }

  Peek peek(char* buf, size_t n) override {
    check();
    const size_t left = data_.size() - consumed_;
    const size_t take = std::min({n, left, capacity_});
    std::memcpy(buf, data_.data() + consumed_, take);
    return {take, take == 0 && closed_};
  }
  void consume(size_t n, std::span<char>) override {
    check();
    if (fs_) fs_->operation();
    consumed_ += std::min(n, data_.size() - consumed_);
  }
  size_t capacity() const override { return capacity_; }
  // All unconsumed bytes, as FIONREAD counts them: more than a peek shows
  // when the writer got ahead of the capacity (a FIFO larger than the peek).
  size_t available() const override { return data_.size() - consumed_; }
  int poll_fd() const override { return -1; }
  bool hung_up() const override { return closed_; }

  size_t consumed() const { return consumed_; }
  size_t unconsumed() const { return data_.size() - consumed_; }

 private:
  void check() const {
    if (fs_ && fs_->crashed()) throw FakeCrash();
  }

  size_t capacity_;
  std::string data_;
  size_t consumed_ = 0;
  bool closed_ = false;
  FakeFileSystem* fs_ = nullptr;
};

}  // namespace logguard::testing
