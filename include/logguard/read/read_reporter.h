// ReadReporter: where reading a log tells what it skipped (as LevelDB's
// log::Reader::Reporter). Reading never stops for these; it passes over the
// damage and goes on. The plugin logs them; tests collect them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace logguard {

enum class ReadProblem {
  kCorruptLine,        // a line that is not a json-file record: skipped
  kOverlongLine,       // a line longer than any record we write: skipped
  kTruncatedLine,      // a file ends inside a line: the partial line is skipped
  kUnreadableFile,     // a file, or the rest of it, cannot be read or decompressed
  kMissedRotations,    // a follower fell behind and files were deleted (max-file) unread
  kTimesNotAscending,  // record times go backwards: since scans the file instead of searching
};

class ReadReporter {
 public:
  virtual ~ReadReporter() = default;
  // `path`: the file (the current file's path for kMissedRotations);
  // `offset`: where in its bytes (decompressed bytes if compressed), 0 if
  // not about a place; `detail`: the error's text, if any.
  virtual void report(ReadProblem problem, const std::string& path, uint64_t offset,
                      std::string_view detail) = 0;
};

// Reports to the plugin's log: warnings (times not ascending: debug), at
// most kMaxCorruptWarnings corrupt lines per reporter, then one note that
// more are not reported.
class LoggingReadReporter : public ReadReporter {
 public:
  static constexpr int kMaxCorruptWarnings = 20;
  void report(ReadProblem problem, const std::string& path, uint64_t offset,
              std::string_view detail) override;

 private:
  int corrupt_lines_ = 0;
};

}  // namespace logguard
