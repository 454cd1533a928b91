#include "logguard/format/gzip_member.h"

#include <libdeflate.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

namespace logguard {
namespace {

constexpr size_t kHeaderBytes = 10;
constexpr size_t kXlenBytes = 2;
constexpr size_t kTrailerBytes = 8;
constexpr unsigned char kFlagExtra = 0x04;
constexpr unsigned char kOsUnknown = 255;

char* put_le32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) *p++ = static_cast<char>((v >> (8 * i)) & 0xff);
  return p;
}

// json-file's header: no name, comment or header CRC; MTIME 0 and XFL 0 as
// Go's gzip.Writer leaves them at its default level.
char* put_header(char* p, std::string_view extra) {
  const unsigned char fixed[kHeaderBytes] = {
      0x1f, 0x8b, 8, static_cast<unsigned char>(extra.empty() ? 0 : kFlagExtra),
      0,    0,    0, 0,
      0,    kOsUnknown};
  for (unsigned char b : fixed) *p++ = static_cast<char>(b);
  if (extra.empty()) return p;
  *p++ = static_cast<char>(extra.size() & 0xff);
  *p++ = static_cast<char>(extra.size() >> 8);
  return std::copy(extra.begin(), extra.end(), p);
}

}  // namespace

void GzipMemberEncoder::FreeCompressor::operator()(libdeflate_compressor* c) const {
  libdeflate_free_compressor(c);
}

GzipMemberEncoder::GzipMemberEncoder(int level) {
  if (level < 1 || level > 12) {
    throw std::invalid_argument("gzip level " + std::to_string(level) + " is not in 1..12");
  }
  compressor_.reset(libdeflate_alloc_compressor(level));
  if (!compressor_) throw std::bad_alloc();
}

GzipMemberEncoder::~GzipMemberEncoder() = default;

std::string_view GzipMemberEncoder::encode(std::string_view data, std::string_view extra) {
  if (extra.size() > 0xffff) throw std::invalid_argument("gzip extra field over 65535 bytes");
  const size_t head = kHeaderBytes + (extra.empty() ? 0 : kXlenBytes + extra.size());
  const size_t bound = libdeflate_deflate_compress_bound(compressor_.get(), data.size());
  out_.resize(head + bound + kTrailerBytes);
  char* p = put_header(out_.data(), extra);
  // Within the bound libdeflate always fits; 0 would mean it did not.
  const size_t packed =
      libdeflate_deflate_compress(compressor_.get(), data.data(), data.size(), p, bound);
  if (packed == 0) throw std::runtime_error("libdeflate_deflate_compress: output did not fit");
  p += packed;
  p = put_le32(p, libdeflate_crc32(0, data.data(), data.size()));
  p = put_le32(p, static_cast<uint32_t>(data.size()));  // ISIZE is the size mod 2^32
  return {out_.data(), static_cast<size_t>(p - out_.data())};
}

}  // namespace logguard
