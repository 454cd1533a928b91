// Helpers shared by the unit tests: a temporary directory, quiet logs, and
// the engine's side of the plugin protocol (frames as dockerd writes them).
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "logguard/base/clock.h"
#include "logguard/format/frame.h"
#include "logguard/config/options.h"
#include "logguard/config/plugin_log.h"

namespace logguard::testing {

// spdlog's registry is made on first use, inside libspdlog, which the
// sanitizer builds do not instrument: ThreadSanitizer cannot see the guard
// of that lazy construction and reports a race when a test's first log line
// comes from two threads at once. Made before main, it is made once.
inline const bool kLogRegistryReady = (spdlog::default_logger(), true);

// The real clock, for tests that wait on real threads. One for the whole
// test process: a thread a test leaves behind may still read it.
inline Clock& real_clock() {
  static SystemClock clock;
  return clock;
}

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

// The plugin's log (plugin_log.h) for a scope, at info: the lines that went
// to stdout and those that went to stderr.
class CapturedLogs {
 public:
  CapturedLogs()
      : previous_(spdlog::default_logger()),
        out_(std::make_shared<LineSink>()),
        err_(std::make_shared<LineSink>()) {
    spdlog::set_default_logger(make_plugin_logger(spdlog::level::info, out_, err_));
  }
  ~CapturedLogs() { spdlog::set_default_logger(previous_); }
  CapturedLogs(const CapturedLogs&) = delete;
  CapturedLogs& operator=(const CapturedLogs&) = delete;

  // The messages (without time and level) of the stdout lines that hold `text`.
  std::vector<std::string> out_lines_with(const std::string& text) const {
    std::vector<std::string> found;
    for (const std::string& line : out_->lines()) {
      if (line.find(text) == std::string::npos) continue;
      found.push_back(line.substr(line.find(' ', 28) + 1));
    }
    return found;
  }
  std::vector<std::string> err_lines() const { return err_->lines(); }

 private:
  class LineSink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines() {
      std::lock_guard lock(mutex_);
      return lines_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      spdlog::memory_buf_t text;
      formatter_->format(msg, text);
      lines_.emplace_back(text.data(), text.size() - 1);  // without its newline
    }
    void flush_() override {}

   private:
    std::vector<std::string> lines_;
  };

  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<LineSink> out_, err_;
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

// What something with write access to a log root may plant at `path`
// (replacing what is there): kind "hard link" or "symbolic link" to
// `target`, or a "FIFO". Throws std::system_error if it cannot.
inline void plant(const std::string& kind, const std::string& target, const std::string& path) {
  std::filesystem::remove(path);
  if (kind == "hard link") {
    std::filesystem::create_hard_link(target, path);
  } else if (kind == "symbolic link") {
    std::filesystem::create_symlink(target, path);
  } else if (::mkfifo(path.c_str(), 0600) != 0) {
    throw std::system_error(errno, std::generic_category(), "mkfifo " + path);
  }
}

// How long a test waits for something before it calls it a hang: a bound
// for a broken build, not a statement about speed (a loaded machine is slow).
inline constexpr std::chrono::milliseconds kHangLimit = std::chrono::seconds(60);

// Polls pred until it holds; false only if it still does not after `limit`.
// For states nothing signals; where a fake or a hook can, wait on an Event.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = kHangLimit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Something another thread makes happen (a fake reached a call, a hook
// ran) that a test waits for instead of sleeping. Setting it again is
// harmless.
class Event {
 public:
  void set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  // False only if it was not set within `limit`.
  bool wait(std::chrono::milliseconds limit = kHangLimit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// [from, to)
inline std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

}  // namespace logguard::testing
