// The newest records of a container's log, for a restarted session to find
// out what its crashed predecessor had already written (stream_pump.h).
#pragma once

#include <cstddef>
#include <vector>

#include "logguard/base/file_system.h"
#include "logguard/format/json_record.h"
#include "logguard/storage/log_directory.h"

namespace logguard {

// Records (oldest first) from the last max_bytes of the log: the current
// file's end and, if that is shorter, the newest rotated file's end
// (decompressed if it is compressed; only its end is kept in memory). Lines
// that are not records are left out.
std::vector<Record> read_log_tail(FileSystem& fs, const LogDirectory& dir, size_t max_bytes);

}  // namespace logguard
