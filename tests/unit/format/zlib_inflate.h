// Decoding gzip with zlib, the reference the format tests hold logguard's
// own gzip writing to.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>

namespace logguard::testing {

// The first gzip member of `gz`, as zlib's inflate decodes it.
struct InflatedMember {
  std::string data;
  int rc = Z_OK;        // Z_STREAM_END: whole, its CRC32 and ISIZE checked
  size_t used = 0;      // the bytes of `gz` it took
  std::string message;  // zlib's, if it gave one
};

inline InflatedMember zlib_inflate_member(std::string_view gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  InflatedMember member;
  char buf[64 * 1024];
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    member.rc = inflate(&zs, Z_NO_FLUSH);
    member.data.append(buf, sizeof buf - zs.avail_out);
  } while (member.rc == Z_OK);
  member.used = zs.total_in;
  if (zs.msg) member.message = zs.msg;
  inflateEnd(&zs);
  return member;
}

}  // namespace logguard::testing
