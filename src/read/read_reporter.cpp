#include "logguard/read/read_reporter.h"

#include <spdlog/spdlog.h>

namespace logguard {

void LoggingReadReporter::report(ReadProblem problem, const std::string& path, uint64_t offset,
                                 std::string_view detail) {
  switch (problem) {
    case ReadProblem::kCorruptLine:
      ++corrupt_lines_;
      if (corrupt_lines_ <= kMaxCorruptWarnings) {
        spdlog::warn("{}: skipping a corrupt log line at offset {}", path, offset);
      }
      if (corrupt_lines_ == kMaxCorruptWarnings) {
        spdlog::warn("{}: further corrupt lines in this read are not reported", path);
      }
      return;
    case ReadProblem::kOverlongLine:
      spdlog::warn("{}: skipping an overlong line at offset {}", path, offset);
      return;
    case ReadProblem::kTruncatedLine:
      spdlog::warn("{}: skipping a truncated last line at offset {}", path, offset);
      return;
    case ReadProblem::kUnreadableFile:
      spdlog::warn("{}: skipping the rest of an unreadable log file: {}", path, detail);
      return;
    case ReadProblem::kMissedRotations:
      spdlog::warn("{}: file rotations were missed while following logs; some log messages may "
                   "have been skipped",
                   path);
      return;
    case ReadProblem::kTimesNotAscending:
      spdlog::debug("{}: record times are not ascending; scanning for since linearly", path);
      return;
  }
}

}  // namespace logguard
