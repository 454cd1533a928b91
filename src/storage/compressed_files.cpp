#include "logguard/storage/compressed_files.h"

#include <system_error>

#include "logguard/storage/posix_file_system.h"

namespace logguard {

void compress_file(const std::string& src, const std::string& dst, Codec codec,
                   int64_t last_time_nanos) {
  FileSystem& fs = posix_file_system();
  auto in = fs.open_read(src);
  fs.remove(dst);
  try {
    compress_file(*in, *fs.create_exclusive(dst), codec, last_time_nanos);
  } catch (...) {
    fs.remove(dst);
    throw;
  }
}

std::optional<int64_t> read_last_time(const std::string& path) {
  Codec codec = codec_for_path(path);
  if (codec == Codec::kNone) return std::nullopt;
  try {
    return read_last_time(*posix_file_system().open_read(path), codec);
  } catch (const std::system_error&) {
    return std::nullopt;
  }
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  return open_byte_source(posix_file_system().open_read(path), codec_for_path(path));
}

}  // namespace logguard
