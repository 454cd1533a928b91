#include "logguard/read/log_seek.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "logguard/format/json_record.h"
#include "logguard/format/json_record_parser.h"
#include "logguard/read/line_reader.h"

namespace logguard {
namespace {

constexpr size_t kBlockSize = 64 * 1024;
constexpr size_t kProbeBlockSize = 4 * 1024;
// Below this many bytes a linear scan is cheaper than more probes.
constexpr uint64_t kLinearScanBytes = 64 * 1024;
// Records looked at past a probe point before giving up on a parsable time.
constexpr int kProbeLines = 8;

struct Probe {
  uint64_t offset;
  int64_t time;
};

// The first record with a parsable time among the few lines starting at or
// after `from` (a line start if `aligned`, else anywhere inside a line).
std::optional<Probe> probe(ReadableFile& file, uint64_t from, uint64_t end, bool aligned) {
  uint64_t begin = aligned || from == 0 ? from : from - 1;
  LineReader reader(std::make_unique<RangeSource>(file, begin, end), begin, {}, nullptr,
                    kProbeBlockSize);
  if (begin != from && !reader.next()) return std::nullopt;  // the rest of the line around from
  for (int i = 0; i < kProbeLines; ++i) {
    auto line = reader.next();
    if (!line) return std::nullopt;
    if (auto time = parse_json_record_time(*line)) return Probe{reader.line_offset(), *time};
  }
  return std::nullopt;
}

std::optional<Probe> last_probe(ReadableFile& file, uint64_t begin, uint64_t end) {
  TailStart last = find_tail_start(file, begin, end, 1);
  if (last.lines == 0) return std::nullopt;
  return probe(file, last.offset, end, true);
}

bool times_ascend(std::vector<Probe> probes) {
  std::sort(probes.begin(), probes.end(),
            [](const Probe& a, const Probe& b) { return a.offset < b.offset; });
  return std::is_sorted(probes.begin(), probes.end(),
                        [](const Probe& a, const Probe& b) { return a.time < b.time; });
}

}  // namespace

TailStart find_tail_start(ReadableFile& file, uint64_t begin, uint64_t end, uint64_t want) {
  std::string block(kBlockSize, '\0');
  uint64_t newlines = 0;
  for (uint64_t pos = end; pos > begin;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockSize, pos - begin));
    pos -= n;
    if (file.read_at(pos, block.data(), n) != n) throw std::runtime_error("file shrank");
    for (size_t i = n; i-- > 0;) {
      if (block[i] == '\n' && ++newlines == want + 1) return {pos + i + 1, want};
    }
  }
  return {begin, newlines};
}

std::optional<int64_t> last_record_time(ReadableFile& file, uint64_t end) {
  auto last = last_probe(file, 0, end);
  return last ? std::optional<int64_t>(last->time) : std::nullopt;
}

// A binary search on record times: [lo, hi) narrows to where the first
// record at or after since lies, then the probes seen are checked for order.
SinceStart seek_since(ReadableFile& file, uint64_t begin, uint64_t end, int64_t since) {
  auto first = probe(file, begin, end, true);
  if (!first || first->time >= since) return {begin, true};
  std::vector<Probe> probes{*first};
  uint64_t lo = first->offset;
  uint64_t hi = end;  // end, or the start of a record at or after since
  while (hi - lo > kLinearScanBytes) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto p = probe(file, mid, end, false);
    if (!p || p->offset >= hi) {
      hi = mid;  // nothing parsable starts in [mid, hi)
      continue;
    }
    probes.push_back(*p);
    (p->time < since ? lo : hi) = p->offset;
  }
  if (auto last = last_probe(file, begin, end)) probes.push_back(*last);
  if (!times_ascend(probes)) return {begin, false};
  return {lo, true};
}

uint64_t count_lines(ByteSource& source) {
  std::string block(kBlockSize, '\0');
  uint64_t lines = 0;
  while (size_t n = source.read(block.data(), block.size())) {
    lines += static_cast<uint64_t>(std::count(block.data(), block.data() + n, '\n'));
  }
  return lines;
}

}  // namespace logguard
