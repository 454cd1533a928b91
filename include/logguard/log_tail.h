// The newest records of a container's log, for a restarted session to find
// out what its crashed predecessor had already written (stream_pump.h).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "logguard/compression.h"
#include "logguard/file_system.h"
#include "logguard/json_record.h"
#include "logguard/log_directory.h"

namespace logguard {

// Reads a whole compressed file's bytes, decompressed.
using DecompressFn = std::function<std::string(const std::string& path, Codec codec)>;
// The real one (compression.h's readers).
std::string decompress_file(const std::string& path, Codec codec);

// Records (oldest first) from the last max_bytes of the log: the current
// file's end and, if that is shorter, the newest rotated file's end. Lines
// that are not records are left out.
std::vector<Record> read_log_tail(FileSystem& fs, const LogDirectory& dir, size_t max_bytes,
                                  const DecompressFn& decompress = decompress_file);

}  // namespace logguard
