#include "logguard/storage/log_tail.h"

#include <algorithm>
#include <string>

#include "logguard/format/compression.h"
#include "logguard/format/json_record_parser.h"
#include "logguard/format/log_names.h"

namespace logguard {
namespace {

// The last `max_bytes` of a file's content, from a line start.
std::string tail_of_plain(FileSystem& fs, const std::string& path, size_t max_bytes) {
  if (!fs.file_size(path)) return {};
  auto file = fs.open_read(path);
  const uint64_t size = file->size();
  const uint64_t start = size > max_bytes ? size - max_bytes : 0;
  std::string bytes(static_cast<size_t>(size - start), '\0');
  bytes.resize(file->read_at(start, bytes.data(), bytes.size()));
  if (start > 0) {
    size_t newline = bytes.find('\n');
    bytes.erase(0, newline == std::string::npos ? bytes.size() : newline + 1);
  }
  return bytes;
}

// The last `max_bytes` of a compressed file's content, from a line start.
// Decompressed in blocks of which only the end is kept, so a file that
// inflates to gigabytes costs time here, not memory.
std::string tail_of_compressed(FileSystem& fs, const std::string& path, Codec codec,
                               size_t max_bytes) {
  auto source = open_byte_source(fs.open_read(path), codec);
  std::string bytes, block(64 * 1024, '\0');
  bool cut = false;
  while (size_t n = source->read(block.data(), block.size())) {
    bytes.append(block, 0, n);
    if (bytes.size() > max_bytes + block.size()) {
      bytes.erase(0, bytes.size() - max_bytes);
      cut = true;
    }
  }
  if (bytes.size() > max_bytes) {
    bytes.erase(0, bytes.size() - max_bytes);
    cut = true;
  }
  if (cut) {
    size_t newline = bytes.find('\n');
    bytes.erase(0, newline == std::string::npos ? bytes.size() : newline + 1);
  }
  return bytes;
}

void append_records(std::string_view bytes, std::vector<Record>& out) {
  while (!bytes.empty()) {
    size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) break;  // torn: not a record
    if (auto record = parse_json_record(bytes.substr(0, newline))) out.push_back(*record);
    bytes.remove_prefix(newline + 1);
  }
}

}  // namespace

std::vector<Record> read_log_tail(FileSystem& fs, const LogDirectory& dir, size_t max_bytes) {
  std::string current = tail_of_plain(fs, dir.current_path(), max_bytes);
  std::string older;
  if (current.size() < max_bytes) {
    const size_t want = max_bytes - current.size();
    auto rotated = dir.rotated();
    if (!rotated.empty()) {
      const auto& newest = rotated.front();
      older = newest.form == Codec::kNone
                  ? tail_of_plain(fs, newest.path, want)
                  : tail_of_compressed(fs, newest.path, newest.form, want);
    }
  }
  std::vector<Record> records;
  append_records(older, records);
  append_records(current, records);
  return records;
}

}  // namespace logguard
