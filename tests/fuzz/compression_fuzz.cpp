// Compressed log files as the reader meets them: the lastTime header probe
// and the gzip and zstd readers on arbitrary file contents. The first byte
// picks the codec ('g' gzip, 'z' zstd, else plain); the rest is the file.
// Corrupt data may only raise std::runtime_error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "logguard/format/compression.h"

namespace {

// Decompressed bytes read per input at most: a small zstd frame may expand
// to gigabytes, which says nothing more than its first megabytes.
constexpr size_t kMaxOutput = 4 << 20;

// The file: the input's bytes, read as the file system's files are read.
class InputFile : public logguard::ReadableFile {
 public:
  explicit InputFile(std::string_view bytes) : bytes_(bytes) {}
  size_t read_at(uint64_t offset, char* buf, size_t n) override {
    if (offset >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - offset);
    std::copy_n(bytes_.data() + offset, n, buf);
    return n;
  }
  uint64_t size() override { return bytes_.size(); }
  logguard::FileId id() override { return {}; }

 private:
  std::string_view bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const logguard::Codec codec = data[0] == 'g'   ? logguard::Codec::kGzip
                                : data[0] == 'z' ? logguard::Codec::kZstd
                                                 : logguard::Codec::kNone;
  InputFile file(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  logguard::read_last_time(file, codec);
  try {
    auto source = logguard::open_byte_source(file, codec);
    std::vector<char> buffer(64 * 1024);
    size_t total = 0;
    while (total < kMaxOutput) {
      const size_t n = source->read(buffer.data(), buffer.size());
      if (n == 0) break;
      total += n;
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
