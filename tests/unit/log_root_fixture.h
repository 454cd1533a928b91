// A log root on an in-memory file system, as the node guard's tests see it:
// containers named by one repeated hex digit, files of a given size and age,
// and a live session's writer.
#pragma once

#include <memory>
#include <string>

#include "fake_file_system.h"
#include "logguard/base/clock.h"
#include "logguard/storage/log_directory.h"
#include "logguard/storage/log_file.h"
#include "logguard/format/log_names.h"

namespace logguard::testing {

class LogRootFixture {
 public:
  static constexpr int64_t kSec = 1'000'000'000;
  static constexpr int64_t kHour = 3600 * kSec;
  inline static const std::string kRoot = "/logs";

  LogRootFixture() : directories_(fs_) {}

  // Container c's ID: 64 times the hex digit c.
  static std::string id(char c) { return std::string(64, c); }
  // Its current file, or a rotated one with suffix ".1", ".2.gz", ...
  static std::string file(char c, const std::string& suffix = "") {
    return container_log_dir(kRoot, id(c)) + "/" + log_base_name(id(c)) + suffix;
  }
  // A file of `bytes`, last written `age` ago.
  void put(const std::string& path, size_t bytes, int64_t age) {
    fs_.put(path, std::string(bytes - 1, 'x') + "\n");
    fs_.set_modified(path, clock_.wall_nanos() - age);
  }
  // A live session's writer on container c.
  std::unique_ptr<LogFile> live(char c) {
    auto log = std::make_unique<LogFile>(
        fs_, directories_.acquire(container_log_dir(kRoot, id(c)), log_base_name(id(c))),
        RotationOptions{0, 100, Codec::kNone}, nullptr, nullptr);
    log->open();
    return log;
  }

 protected:
  FakeFileSystem fs_;
  FakeClock clock_;
  LogDirectories directories_;
};

}  // namespace logguard::testing
