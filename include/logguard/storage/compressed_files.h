// Compressed log files by path on the real, unrooted file system
// (posix_file_system.h): for tools and tests. The plugin itself goes through
// its rooted FileSystem (compression.h's ReadableFile versions).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "logguard/format/compression.h"

namespace logguard {

// Compresses src into dst (replaced), recording last_time_nanos.
void compress_file(const std::string& src, const std::string& dst, Codec codec,
                   int64_t last_time_nanos);
// The lastTime in a compressed file's header, the codec from the name;
// nullopt if absent, unreadable or the file is plain.
std::optional<int64_t> read_last_time(const std::string& path);
// The file's bytes from its start, decompressed as codec_for_path(path) says.
// Throws std::system_error (e.g. ENOENT) if it cannot be opened.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

}  // namespace logguard
