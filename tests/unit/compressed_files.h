// Compressed log files by path on the host's file system, for tests: the
// plugin itself goes through its rooted FileSystem (compression.h's
// ReadableFile versions).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "host_file_system.h"
#include "logguard/format/compression.h"

namespace logguard {

// Compresses src into dst (replaced), recording last_time_nanos.
inline void compress_file(const std::string& src, const std::string& dst, Codec codec,
                          int64_t last_time_nanos) {
  FileSystem& fs = testing::host_file_system();
  auto in = fs.open_read(src);
  fs.remove(dst);
  try {
    compress_file(*in, *fs.create_exclusive(dst), codec, last_time_nanos);
  } catch (...) {
    fs.remove(dst);
    throw;
  }
}

// The lastTime in a compressed file's header, the codec from the name;
// nullopt if absent, unreadable or the file is plain.
inline std::optional<int64_t> read_last_time(const std::string& path) {
  Codec codec = codec_for_path(path);
  if (codec == Codec::kNone) return std::nullopt;
  try {
    return read_last_time(*testing::host_file_system().open_read(path), codec);
  } catch (const std::system_error&) {
    return std::nullopt;
  }
}

// The file's bytes from its start, decompressed as codec_for_path(path) says.
// Throws std::system_error (e.g. ENOENT) if it cannot be opened.
inline std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  return open_byte_source(testing::host_file_system().open_read(path), codec_for_path(path));
}

}  // namespace logguard
