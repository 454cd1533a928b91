// Compressed log files as the reader meets them: the lastTime header probe
// and the gzip and zstd readers on arbitrary file contents. The first byte
// picks the codec ('g' gzip, 'z' zstd, else plain); the rest is the file.
// Corrupt data may only raise std::runtime_error.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "logguard/compression.h"

namespace {

// Decompressed bytes read per input at most: a small zstd frame may expand
// to gigabytes, which says nothing more than its first megabytes.
constexpr size_t kMaxOutput = 4 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const logguard::Codec codec = data[0] == 'g'   ? logguard::Codec::kGzip
                                : data[0] == 'z' ? logguard::Codec::kZstd
                                                 : logguard::Codec::kNone;
  const int fd = ::memfd_create("compressed", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (size > 1 && ::write(fd, data + 1, size - 1) != static_cast<ssize_t>(size - 1)) std::abort();
  logguard::read_last_time(fd, codec);
  ::lseek(fd, 0, SEEK_SET);
  try {
    auto source = logguard::open_byte_source(::dup(fd), codec);
    std::vector<char> buffer(64 * 1024);
    size_t total = 0;
    while (total < kMaxOutput) {
      const size_t n = source->read(buffer.data(), buffer.size());
      if (n == 0) break;
      total += n;
    }
  } catch (const std::runtime_error&) {
  }
  ::close(fd);
  return 0;
}
