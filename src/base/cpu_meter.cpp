#include "logguard/base/cpu_meter.h"

#include <unistd.h>

#include <charconv>
#include <exception>

namespace logguard {
namespace {

// Skips spaces, then parses one unsigned decimal field; false if there is none.
bool next_field(std::string_view& text, uint64_t& value) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

}  // namespace

std::optional<int64_t> spare_nanos_from_proc_stat(std::string_view text, int64_t ticks_per_second) {
  constexpr std::string_view kTotal = "cpu ";
  if (text.substr(0, kTotal.size()) != kTotal || ticks_per_second <= 0) return std::nullopt;
  text.remove_prefix(kTotal.size());
  uint64_t fields[5];  // user nice system idle iowait
  for (uint64_t& field : fields) {
    if (!next_field(text, field)) return std::nullopt;
  }
  const uint64_t spare_ticks = fields[1] + fields[3] + fields[4];
  const int64_t whole = static_cast<int64_t>(spare_ticks / static_cast<uint64_t>(ticks_per_second));
  const int64_t part = static_cast<int64_t>(spare_ticks % static_cast<uint64_t>(ticks_per_second));
  return whole * 1'000'000'000 + part * 1'000'000'000 / ticks_per_second;
}

ProcCpuMeter::ProcCpuMeter(FileSystem& host_fs, Clock& clock)
    : fs_(host_fs), clock_(clock), ticks_per_second_(sysconf(_SC_CLK_TCK)) {}

std::optional<CpuSample> ProcCpuMeter::sample() {
  std::optional<int64_t> spare;
  try {
    spare = spare_nanos_from_proc_stat(fs_.read_all("/proc/stat"), ticks_per_second_);
  } catch (const std::exception&) {
    return std::nullopt;  // no /proc: nothing to yield to
  }
  if (!spare) return std::nullopt;
  return CpuSample{clock_.monotonic_nanos(), *spare};
}

}  // namespace logguard
