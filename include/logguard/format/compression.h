// Compression of rotated log files, and reading any log file back as bytes.
//
// Compressed files carry json-file's "lastTime" fact (the time of the last
// record in the file) so readers can skip whole files by time without
// decompressing them:
//  - gzip: FEXTRA holds the raw JSON {"lastTime":"<RFC3339Nano>"}, exactly as
//    Docker's json-file writes it (not RFC 1952 sub-fields); MTIME 0. The file
//    is a sequence of gzip members of kGzipMemberInput bytes of input each
//    (the last one shorter; one member for an empty source), compressed whole
//    by libdeflate; only the first member has the FEXTRA field. Readers of
//    concatenated members (gzip -d, Go's gzip.Reader, ours) see one stream.
//  - zstd: the file starts with a skippable frame (magic 0x184D2A50, 4-byte
//    little-endian length) whose payload is the same JSON, then the data frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/base/file_system.h"
#include "logguard/base/unique_fd.h"

namespace logguard {

enum class Codec { kNone, kGzip, kZstd };

// How gzip files are written, chosen by measurement (bench/gzip_level_bench.cpp,
// README "Compression"): libdeflate level 1 takes about a quarter of zlib 6's
// CPU for output about 4 % larger; levels 2 and 3 cost more and are no
// smaller, 4 saves 1 % for half again the CPU, 6 (zlib 6's size) costs more
// than half of zlib 6. Members of 1 MiB of input keep memory bounded (one
// chunk in, one out) and cost well under 1 % in size against one member;
// 256 KiB to 4 MiB measured the same CPU.
inline constexpr int kGzipLevel = 1;
// Bytes of input per gzip member of a compressed file.
inline constexpr size_t kGzipMemberInput = size_t{1} << 20;

// ".gz", ".zst", or "" for kNone.
std::string_view codec_extension(Codec codec);
// The codec a file name's extension says, kNone for anything else.
Codec codec_for_path(std::string_view path);

// Streams src (an open file, so a caller can open it while it holds a lock
// that keeps its name from changing) into `out`, a new empty file
// (FileSystem::create_exclusive), with the given
// codec, then syncs and closes it; the caller renames it into place, or
// removes it after a failure. Throws std::system_error on I/O errors. Never
// loads the whole file into memory. A last_time_nanos <= 0 means unknown:
// the header then carries no lastTime (gzip without FEXTRA, zstd without the
// skippable frame). on_written, if set, is called after each piece of output
// with its size; it may wait (pacing by the node's write budget). The output
// reaches the disk as the file system's write-back hands it over.
void compress_file(ReadableFile& src, WritableFile& out, Codec codec, int64_t last_time_nanos,
                   const std::function<void(size_t)>& on_written = {});

// The lastTime recorded in a compressed file's header, read without
// decompressing; nullopt if absent, unreadable or the file is plain.
std::optional<int64_t> read_last_time(ReadableFile& file, Codec codec);

// Sequential bytes of one log file, decompressed when its name says so.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into buf; 0 at the end. Throws std::runtime_error on
  // corrupt compressed data, std::system_error on I/O errors.
  virtual size_t read(char* buf, size_t n) = 0;
};

// The bytes of a file from its start, decompressed as `codec` says. The
// source reads the file by offset: any number of sources may read one file.
std::unique_ptr<ByteSource> open_byte_source(std::unique_ptr<ReadableFile> file, Codec codec);
// Same over a file that outlives the source.
std::unique_ptr<ByteSource> open_byte_source(ReadableFile& file, Codec codec);

}  // namespace logguard
