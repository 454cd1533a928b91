// Helpers shared by the unit tests: a temporary directory, quiet logs, and
// the engine's side of the plugin protocol (frames as dockerd writes them).
#pragma once

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "logguard/frame.h"
#include "logguard/options.h"

namespace logguard::testing {

// spdlog's registry is made on first use, inside libspdlog, which the
// sanitizer builds do not instrument: ThreadSanitizer cannot see the guard
// of that lazy construction and reports a race when a test's first log line
// comes from two threads at once. Made before main, it is made once.
inline const bool kLogRegistryReady = (spdlog::default_logger(), true);

// A directory removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "logguard-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Silences logging for a scope (tests that provoke errors on purpose).
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
  ~QuietLogs() { spdlog::set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

// A getenv that reads `env`, for the plugin settings' parsers.
inline std::function<const char*(const char*)> env_of(
    const std::map<std::string, std::string>& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

// The message of the OptionError fn throws, "" if none.
template <typename Fn>
std::string option_error(Fn&& fn) {
  try {
    fn();
  } catch (const OptionError& e) {
    return e.what();
  }
  return "";
}

inline constexpr int64_t kSomeTime = 1'700'000'000'000'000'000;

// One frame as the engine writes it for a complete line.
inline std::string frame(const std::string& source, const std::string& line,
                         int64_t time = kSomeTime) {
  LogEntry entry;
  entry.set_source(source);
  entry.set_time_nano(time);
  entry.set_line(line);
  std::string out;
  append_frame(out, entry);
  return out;
}

// [from, to)
// Polls pred until it holds; false only if it still does not after `limit`,
// a bound for a test that hangs, not a statement about speed.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

}  // namespace logguard::testing
