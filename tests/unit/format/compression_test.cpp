#include "logguard/format/compression.h"
#include "compressed_files.h"
#include "logguard/storage/posix_file_system.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>
#include <vector>

#include "format/zlib_inflate.h"
#include "test_util.h"

namespace logguard {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string read_source(const std::string& path, size_t chunk = 4096) {
  auto src = open_byte_source(path);
  std::string out(chunk, '\0'), all;
  while (size_t n = src->read(out.data(), out.size())) all.append(out, 0, n);
  return all;
}

// json-file lines of a Java service: timestamps, levels, threads, class
// names, request ids, numbers, the odd stack trace — what real logs repeat
// and what they do not.
class JavaLogGenerator {
 public:
  explicit JavaLogGenerator(uint32_t seed = 42) : rng_(seed) {}

  std::string lines(size_t bytes) {
    std::string out;
    while (out.size() < bytes) out += next();
    return out;
  }

  std::string next() {
    static const char* kLevels[] = {"INFO ", "INFO ", "INFO ", "INFO ", "DEBUG", "DEBUG", "WARN ", "ERROR"};
    static const char* kClasses[] = {
        "c.e.shop.order.OrderService", "c.e.shop.payment.PaymentGateway",
        "o.s.web.servlet.DispatcherServlet", "c.e.shop.inventory.StockRepository",
        "o.h.engine.jdbc.spi.SqlExceptionHelper", "c.e.shop.api.CheckoutController",
        "c.z.hikari.pool.HikariPool", "c.e.shop.cache.RedisCacheManager"};
    static const char* kMessages[] = {
        "Processed order %d for customer %d in %d ms",
        "GET /api/v1/products/%d?page=%d returned 200 in %d ms",
        "Payment authorized: amount=%d.%02d EUR card=****%04d",
        "Cache miss for key product:%d, loading from database (%d ms)",
        "Connection pool stats (total=%d, active=%d, idle=%d)",
        "Retrying request to inventory service, attempt %d of %d after %d ms",
        "SQL Error: 0, SQLState: 40001 - deadlock detected on order %d (%d/%d)"};
    now_ += std::uniform_int_distribution<int64_t>(10'000, 40'000'000)(rng_);
    int level = pick(8), cls = pick(8), msg = pick(7);
    char text[512];
    std::snprintf(text, sizeof text, kMessages[msg], num(1'000'000), num(100'000), num(2'000));
    char req[40];
    std::snprintf(req, sizeof req, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(rng_()),
                  num(0xffff), num(0xffff), num(0xffff),
                  static_cast<unsigned long long>(rng_()) << 16 | num(0xffff));
    std::string log = clock_text(now_, "%Y-%m-%d %H:%M:%S") + "." + digits(now_ / 1'000'000 % 1000, 3) +
                      " " + kLevels[level] + " 1 --- [nio-8080-exec-" + std::to_string(1 + pick(10)) +
                      "] " + kClasses[cls] + " : [requestId=" + req + "] " + text + "\\n";
    std::string line = "{\"log\":\"" + log + "\",\"stream\":\"stdout\",\"time\":\"" +
                       clock_text(now_, "%Y-%m-%dT%H:%M:%S") + "." + digits(now_ % 1'000'000'000, 9) +
                       "Z\"}\n";
    if (level == 7) {  // an exception: a few stack frames, each its own record
      for (int i = 0; i < 6; ++i) {
        line += "{\"log\":\"\\tat " + std::string(kClasses[pick(8)]) + ".handle(" +
                std::to_string(num(900)) + ")\\n\",\"stream\":\"stderr\",\"time\":\"" +
                clock_text(now_, "%Y-%m-%dT%H:%M:%S") + "." + digits(now_ % 1'000'000'000 + i, 9) +
                "Z\"}\n";
      }
    }
    return line;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  int num(int n) { return pick(n); }
  static std::string digits(int64_t v, int width) {
    std::string s = std::to_string(v);
    return std::string(width - std::min<int>(width, static_cast<int>(s.size())), '0') + s;
  }
  static std::string clock_text(int64_t nanos, const char* fmt) {
    time_t secs = nanos / 1'000'000'000;
    tm t{};
    gmtime_r(&secs, &t);
    char buf[64];
    std::strftime(buf, sizeof buf, fmt, &t);
    return buf;
  }

  std::mt19937 rng_;
  int64_t now_ = 1'741'082'400'000'000'000;  // 2025-03-04T10:00:00Z
};

constexpr int64_t kLastTime = 1'741'083'072'123'456'789;  // 2025-03-04T10:11:12.123456789Z

TEST(Compression, CodecNames) {
  EXPECT_EQ(codec_extension(Codec::kGzip), ".gz");
  EXPECT_EQ(codec_extension(Codec::kZstd), ".zst");
  EXPECT_EQ(codec_extension(Codec::kNone), "");
  EXPECT_EQ(codec_for_path("/a/x-json.log.2.gz"), Codec::kGzip);
  EXPECT_EQ(codec_for_path("x-json.log.1.zst"), Codec::kZstd);
  EXPECT_EQ(codec_for_path("x-json.log.1"), Codec::kNone);
  EXPECT_EQ(codec_for_path("x-json.log"), Codec::kNone);
}

TEST(Compression, GzipRoundTripWithJsonFileHeader) {
  TempDir dir;
  std::string data = JavaLogGenerator().lines(3 << 20);
  write_file(dir / "l.1", data);
  compress_file(dir / "l.1", dir / "l.1.gz", Codec::kGzip, kLastTime);
  std::string gz = read_file(dir / "l.1.gz");
  const std::string extra = R"({"lastTime":"2025-03-04T10:11:12.123456789Z"})";
  ASSERT_GT(gz.size(), 12 + extra.size());
  EXPECT_EQ(gz.substr(0, 4), std::string("\x1f\x8b\x08\x04", 4));  // deflate, FEXTRA only
  EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0'));                // MTIME 0
  EXPECT_EQ(gz[8], '\0');                                           // XFL, default level
  EXPECT_EQ(static_cast<unsigned char>(gz[9]), 255);                // OS unknown
  EXPECT_EQ(static_cast<unsigned char>(gz[10]) | static_cast<unsigned char>(gz[11]) << 8,
            static_cast<int>(extra.size()));
  EXPECT_EQ(gz.substr(12, extra.size()), extra);  // raw JSON, as json-file
  EXPECT_EQ(read_source(dir / "l.1.gz"), data);
  EXPECT_EQ(read_source(dir / "l.1.gz", 7), data);  // small reads
  EXPECT_EQ(read_last_time(dir / "l.1.gz"), kLastTime);
}

// Several members: gzip(1) checks each one's CRC and size and reads them as
// one stream.
TEST(Compression, GzipOutputIsReadByGzipTool) {
  if (std::system("command -v gzip >/dev/null 2>&1") != 0) GTEST_SKIP() << "no gzip(1)";
  TempDir dir;
  std::string data = JavaLogGenerator(3).lines(kGzipMemberInput * 5 / 2);
  write_file(dir / "l.1", data);
  compress_file(dir / "l.1", dir / "l.1.gz", Codec::kGzip, kLastTime);
  EXPECT_EQ(std::system(("gzip -t " + (dir / "l.1.gz")).c_str()), 0);
  ASSERT_EQ(std::system(("gzip -dc " + (dir / "l.1.gz") + " > " + (dir / "out")).c_str()), 0);
  EXPECT_EQ(read_file(dir / "out"), data);
}

struct GzipMember {
  unsigned char flags;  // FLG of its header
  std::string data;     // what it decodes to
};

// The members of a gzip file, one after another, as zlib's inflate decodes
// each (checking its CRC32 and ISIZE).
std::vector<GzipMember> gzip_members(const std::string& gz) {
  std::vector<GzipMember> members;
  size_t pos = 0;
  while (pos < gz.size()) {
    testing::InflatedMember m = testing::zlib_inflate_member(std::string_view(gz).substr(pos));
    EXPECT_EQ(m.rc, Z_STREAM_END) << "member " << members.size() << " at " << pos;
    if (m.rc != Z_STREAM_END) break;
    members.push_back({static_cast<unsigned char>(gz[pos + 3]), std::move(m.data)});
    pos += m.used;
  }
  return members;
}

// One member per kGzipMemberInput bytes of input (one for an empty file),
// only the first carrying lastTime; the whole reads back through our reader.
TEST(Compression, GzipFileIsOneMemberPerChunkOfInput) {
  constexpr size_t kChunk = kGzipMemberInput;
  TempDir dir;
  const std::string all = JavaLogGenerator(5).lines(2 * kChunk + 1000);
  for (size_t size : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 2 * kChunk + 1000}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string data = all.substr(0, size);
    const std::string src = dir / ("l" + std::to_string(size));
    write_file(src, data);
    compress_file(src, src + ".gz", Codec::kGzip, kLastTime);
    const auto members = gzip_members(read_file(src + ".gz"));
    const size_t expected = std::max<size_t>(1, (size + kChunk - 1) / kChunk);
    ASSERT_EQ(members.size(), expected);
    std::string joined;
    for (size_t i = 0; i < members.size(); ++i) {
      EXPECT_EQ(members[i].flags, i == 0 ? 0x04 : 0x00) << "member " << i;
      if (i + 1 < members.size()) {
        EXPECT_EQ(members[i].data.size(), kChunk) << "member " << i;
      }
      joined += members[i].data;
    }
    EXPECT_EQ(joined, data);
    EXPECT_EQ(read_source(src + ".gz"), data);
    EXPECT_EQ(read_source(src + ".gz", 7), data);
    EXPECT_EQ(read_last_time(src + ".gz"), kLastTime);
  }
}

// Without a lastTime no member has FEXTRA, however many there are.
TEST(Compression, GzipWithoutLastTimeHasNoExtraInAnyMember) {
  TempDir dir;
  const std::string data = JavaLogGenerator(6).lines(kGzipMemberInput + 10);
  write_file(dir / "l", data);
  compress_file(dir / "l", dir / "l.gz", Codec::kGzip, 0);
  const auto members = gzip_members(read_file(dir / "l.gz"));
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].flags, 0);
  EXPECT_EQ(members[1].flags, 0);
  EXPECT_EQ(read_last_time(dir / "l.gz"), std::nullopt);
  EXPECT_EQ(read_source(dir / "l.gz"), data);
}

// Output goes out member by member, each handed to the pacer once.
TEST(Compression, GzipReportsEachMemberAsWritten) {
  TempDir dir;
  const std::string data = JavaLogGenerator(8).lines(kGzipMemberInput * 3 / 2);
  write_file(dir / "l", data);
  FileSystem& files = testing::host_file_system();
  std::vector<size_t> pieces;
  compress_file(*files.open_read(dir / "l"), *files.create_exclusive(dir / "l.gz"), Codec::kGzip,
                kLastTime, [&](size_t n) { pieces.push_back(n); });
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0] + pieces[1], fs::file_size(dir / "l.gz"));
}

TEST(Compression, ZstdRoundTripWithSkippableHeader) {
  TempDir dir;
  std::string data = JavaLogGenerator().lines(3 << 20);
  write_file(dir / "l.1", data);
  compress_file(dir / "l.1", dir / "l.1.zst", Codec::kZstd, kLastTime);
  std::string z = read_file(dir / "l.1.zst");
  const std::string json = R"({"lastTime":"2025-03-04T10:11:12.123456789Z"})";
  EXPECT_EQ(z.substr(0, 4), std::string("\x50\x2a\x4d\x18", 4));
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(z[4])), json.size());
  EXPECT_EQ(z.substr(8, json.size()), json);
  EXPECT_EQ(z.substr(8 + json.size(), 4), std::string("\x28\xb5\x2f\xfd", 4));  // data frame
  EXPECT_EQ(read_source(dir / "l.1.zst"), data);
  EXPECT_EQ(read_last_time(dir / "l.1.zst"), kLastTime);
}

TEST(Compression, UnknownLastTimeWritesNoHeaderAndStillDecodes) {
  TempDir dir;
  write_file(dir / "l", "{\"log\":\"x\\n\"}\n");
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    std::string out = dir / ("l" + std::string(codec_extension(c)));
    compress_file(dir / "l", out, c, 0);
    EXPECT_EQ(read_last_time(out), std::nullopt);
    EXPECT_EQ(read_source(out), "{\"log\":\"x\\n\"}\n");
  }
}

TEST(Compression, ReadLastTimeOfPlainMissingOrGarbageIsNullopt) {
  TempDir dir;
  write_file(dir / "l.1", "plain");
  write_file(dir / "bad.gz", "not gzip at all");
  write_file(dir / "bad.zst", "xx");
  EXPECT_EQ(read_last_time(dir / "l.1"), std::nullopt);
  EXPECT_EQ(read_last_time(dir / "missing.gz"), std::nullopt);
  EXPECT_EQ(read_last_time(dir / "bad.gz"), std::nullopt);
  EXPECT_EQ(read_last_time(dir / "bad.zst"), std::nullopt);
}

TEST(Compression, ReadsLastTimeFromAnOpenFile) {
  TempDir dir;
  write_file(dir / "l", "{}\n");
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    const std::string out = dir / ("l" + std::string(codec_extension(c)));
    compress_file(dir / "l", out, c, kLastTime);
    auto file = testing::host_file_system().open_read(out);
    EXPECT_EQ(read_last_time(*file, c), kLastTime);
    EXPECT_EQ(read_last_time(*file, Codec::kNone), std::nullopt);
  }
}

// A gzip header's lastTime is JSON from the file: nested 60,000 levels deep
// it must read as no lastTime, not crash.
TEST(Compression, DeeplyNestedLastTimeJsonIsNoLastTime) {
  TempDir dir;
  const std::string json = std::string(30'000, '[') + std::string(30'000, ']');
  std::string gz = std::string("\x1f\x8b\x08\x04\0\0\0\0\0\xff", 10);
  gz += static_cast<char>(json.size() & 0xff);
  gz += static_cast<char>(json.size() >> 8);
  write_file(dir / "deep.gz", gz + json);
  EXPECT_EQ(read_last_time(dir / "deep.gz"), std::nullopt);
}

TEST(Compression, EmptySourceRoundTrips) {
  TempDir dir;
  write_file(dir / "e", "");
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    std::string out = dir / ("e" + std::string(codec_extension(c)));
    compress_file(dir / "e", out, c, kLastTime);
    EXPECT_EQ(read_source(out), "");
  }
}

TEST(Compression, ConcatenatedGzipMembersReadAsOneStream) {
  TempDir dir;
  std::string a = JavaLogGenerator(1).lines(300'000), b = JavaLogGenerator(2).lines(200'000);
  write_file(dir / "a", a);
  write_file(dir / "b", b);
  compress_file(dir / "a", dir / "a.gz", Codec::kGzip, kLastTime);
  compress_file(dir / "b", dir / "b.gz", Codec::kGzip, kLastTime);
  write_file(dir / "ab.gz", read_file(dir / "a.gz") + read_file(dir / "b.gz"));
  EXPECT_EQ(read_source(dir / "ab.gz"), a + b);
}

TEST(Compression, PlainSourceAndMissingFile) {
  TempDir dir;
  write_file(dir / "l", "abc\n");
  EXPECT_EQ(read_source(dir / "l"), "abc\n");
  EXPECT_THROW(open_byte_source(dir / "missing"), std::system_error);
}

TEST(Compression, CompressErrorsThrowAndLeaveNoOutput) {
  TempDir dir;
  EXPECT_THROW(compress_file(dir / "missing", dir / "o.gz", Codec::kGzip, 1), std::system_error);
  write_file(dir / "l", "x\n");
  EXPECT_THROW(compress_file(dir / "l", dir / "no/dir/o.gz", Codec::kGzip, 1), std::system_error);
  EXPECT_FALSE(fs::exists(dir / "o.gz"));
}

// Corrupt or truncated compressed data raises instead of yielding garbage.
class CorruptInput : public ::testing::TestWithParam<Codec> {};

TEST_P(CorruptInput, Raises) {
  TempDir dir;
  const std::string ext(codec_extension(GetParam()));
  write_file(dir / "l", JavaLogGenerator().lines(500'000));
  compress_file(dir / "l", dir / ("l" + ext), GetParam(), kLastTime);
  std::string good = read_file(dir / ("l" + ext));

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x55;
  write_file(dir / ("flipped" + ext), flipped);
  EXPECT_THROW(read_source(dir / ("flipped" + ext)), std::runtime_error);

  write_file(dir / ("truncated" + ext), good.substr(0, good.size() / 2));
  EXPECT_THROW(read_source(dir / ("truncated" + ext)), std::runtime_error);

  write_file(dir / ("tail" + ext), good.substr(0, good.size() - 3));
  EXPECT_THROW(read_source(dir / ("tail" + ext)), std::runtime_error);

  write_file(dir / ("garbage" + ext), good + "garbage after the end");
  EXPECT_THROW(read_source(dir / ("garbage" + ext)), std::runtime_error);

  write_file(dir / ("empty" + ext), "");
  EXPECT_THROW(read_source(dir / ("empty" + ext)), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CorruptInput, ::testing::Values(Codec::kGzip, Codec::kZstd));

// Not a pass/fail test: prints the ratio and speed of both codecs on
// realistic json-file lines (the figures quoted in the design notes).
TEST(Compression, FiguresOnJavaLogLines) {
  TempDir dir;
  const std::string data = JavaLogGenerator().lines(16 << 20);
  write_file(dir / "l", data);
  const double mb = data.size() / 1e6;
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    std::string out = dir / ("l" + std::string(codec_extension(c)));
    auto t0 = std::chrono::steady_clock::now();
    compress_file(dir / "l", out, c, kLastTime);
    auto t1 = std::chrono::steady_clock::now();
    auto src = open_byte_source(out);
    std::string chunk(64 * 1024, '\0');
    size_t pos = 0;
    while (size_t n = src->read(chunk.data(), chunk.size())) {
      ASSERT_EQ(data.compare(pos, n, chunk.data(), n), 0) << "at " << pos;
      pos += n;
    }
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_EQ(pos, data.size());
    double ratio = static_cast<double>(data.size()) / fs::file_size(out);
    double comp = mb / std::chrono::duration<double>(t1 - t0).count();
    double decomp = mb / std::chrono::duration<double>(t2 - t1).count();
    const std::string name = c == Codec::kGzip
                                 ? "gzip (libdeflate " + std::to_string(kGzipLevel) + ")"
                                 : std::string("zstd -3");
    std::printf("[ figures  ] %s: %.1f MB in, ratio %.1f:1, compress %.0f MB/s, decompress %.0f MB/s\n",
                name.c_str(), mb, ratio, comp, decomp);
    EXPECT_GT(ratio, 3.0);
  }
}

}  // namespace
}  // namespace logguard
