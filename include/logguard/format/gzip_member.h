// GzipMemberEncoder: one whole gzip member (RFC 1952) per call, compressed with
// libdeflate, which is much cheaper in CPU than zlib's streaming deflate for
// the same format but has no streaming API. A file is written as a sequence of
// members, one per chunk of input: concatenated members are one gzip stream to
// gzip(1), to Go's gzip.Reader (multistream by default) and to our reader.
//
// Each member's header is the one Go's gzip.Writer writes at its default
// level: ID1 ID2, CM 8, FLG FEXTRA or 0, MTIME 0, XFL 0, OS 255, then XLEN and
// the extra bytes as given (json-file puts raw JSON there, not RFC 1952
// sub-fields). The trailer carries the member's own CRC32 and ISIZE.
//
// Pure: no I/O. Not thread-safe (one compressor, one output buffer).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

struct libdeflate_compressor;

namespace logguard {

class GzipMemberEncoder {
 public:
  // level: libdeflate's 1 (fastest) .. 12 (smallest). Throws
  // std::invalid_argument for other levels, std::bad_alloc if out of memory.
  explicit GzipMemberEncoder(int level);
  ~GzipMemberEncoder();
  GzipMemberEncoder(const GzipMemberEncoder&) = delete;
  GzipMemberEncoder& operator=(const GzipMemberEncoder&) = delete;

  // A member holding data; extra (at most 65535 bytes) goes into FEXTRA, none
  // if empty. The view is valid until the next call. Empty data gives a valid
  // member that decodes to nothing.
  std::string_view encode(std::string_view data, std::string_view extra = {});

 private:
  struct FreeCompressor {
    void operator()(libdeflate_compressor* c) const;
  };
  std::unique_ptr<libdeflate_compressor, FreeCompressor> compressor_;
  std::vector<char> out_;
};

}  // namespace logguard
