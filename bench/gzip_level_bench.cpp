// gzip compressor and level for rotated files, chosen by measurement.
//
// Generates json-file records in memory (Java service log lines, access-log
// lines and base64 payload lines, the mix printed; deterministic),
// then compresses the same input with:
//   zlib 6 (the baseline: deflate streaming, one member, as before libdeflate;
//          measured first and last, the mean is the baseline), zlib 1,
//   libdeflate 1..12 in gzip members of 1 MiB (GzipMemberEncoder, as
//          compress_file writes them), and the member size from 256 KiB to
//          4 MiB at levels 1, 4 and 6, and as one member,
//   zstd 1 and 3 (for reference; the zstd path is not changed),
// and prints per case the thread's CPU seconds, MB/s of input per CPU second,
// CPU and output size as ratios to zlib 6, and the compression ratio. Then
// the CPU to read zlib 6's output and compress_file's members (kGzipLevel,
// kGzipMemberInput) back with zlib's inflate (as our reader does), and a
// check that both decode to the input.
// It asserts nothing about timing; it exits 1 only if a decode differs.
//
// usage: gzip_level_bench [--mb=N] [--max-level=L] [--repeat=R]
//   N: MB of records (default 170; 1 MB = 10^6 B); L: highest libdeflate level (default 12);
//   R: runs per case, the least CPU is shown (default 1; use 3 or more on a busy machine).
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/format/compression.h"
#include "logguard/format/gzip_member.h"

namespace logguard {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// json-file records of a busy service: mostly text that repeats in structure
// but not in detail, some incompressible payload (base64 of random bytes).
class RecordGenerator {
 public:
  size_t bytes_by_kind[3] = {};  // Java, access log, base64 records
  std::string records(size_t bytes) {
    std::string out;
    out.reserve(bytes + 4096);
    while (out.size() < bytes) {
      const int kind = pick(100);
      const int k = kind < 62 ? 0 : kind < 85 ? 1 : 2;
      std::string log = k == 0 ? java_line() : k == 1 ? access_line() : base64_line();
      now_ += 10'000 + pick(20'000'000);
      const size_t before = out.size();
      out += "{\"log\":\"" + log + "\\n\",\"stream\":\"" + (kind % 9 == 0 ? "stderr" : "stdout") +
             "\",\"time\":\"" + rfc3339(now_) + "\"}\n";
      bytes_by_kind[k] += out.size() - before;
    }
    return out;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  std::string java_line() {
    static const char* kLevels[] = {"INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"};
    static const char* kClasses[] = {
        "c.e.shop.order.OrderService", "c.e.shop.payment.PaymentGateway",
        "o.s.web.servlet.DispatcherServlet", "c.e.shop.inventory.StockRepository",
        "c.z.hikari.pool.HikariPool", "c.e.shop.cache.RedisCacheManager"};
    static const char* kMessages[] = {
        "Processed order %d for customer %d in %d ms",
        "GET /api/v1/products/%d?page=%d returned 200 in %d ms",
        "Payment authorized: amount=%d.%02d EUR card=****%04d",
        "Cache miss for key product:%d, loading from database (%d ms)",
        "Connection pool stats (total=%d, active=%d, idle=%d)",
        "Retrying request to inventory service, attempt %d of %d after %d ms"};
    char text[256], line[512];
    std::snprintf(text, sizeof text, kMessages[pick(6)], pick(1'000'000), pick(100'000),
                  pick(2'000));
    std::snprintf(line, sizeof line,
                  "%s %s 1 --- [nio-8080-exec-%d] %s : [requestId=%08x-%04x-%04x] %s",
                  clock_text().c_str(), kLevels[pick(6)], 1 + pick(10), kClasses[pick(6)],
                  static_cast<unsigned>(rng_()), pick(0x10000), pick(0x10000), text);
    return line;
  }

  std::string access_line() {
    static const char* kPaths[] = {"/api/v1/cart", "/api/v1/products", "/static/app.js",
                                   "/healthz", "/api/v1/orders", "/img/logo.png"};
    static const char* kAgents[] = {
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
        "kube-probe/1.28", "curl/7.88.1"};
    static const int kStatus[] = {200, 200, 200, 200, 304, 404, 500};
    char line[512];
    std::snprintf(line, sizeof line,
                  "10.%d.%d.%d - - [%s] \\\"GET %s/%d HTTP/1.1\\\" %d %d \\\"-\\\" \\\"%s\\\"",
                  pick(256), pick(256), pick(256), clock_text().c_str(), kPaths[pick(6)],
                  pick(50'000), kStatus[pick(7)], pick(90'000), kAgents[pick(4)]);
    return line;
  }

  std::string base64_line() {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s = "payload=";
    for (int n = 64 + pick(448); n > 0; --n) s += kAlphabet[pick(64)];
    return s;
  }

  std::string clock_text() const { return format(now_, "%Y-%m-%d %H:%M:%S", 3); }
  std::string rfc3339(int64_t t) const { return format(t, "%Y-%m-%dT%H:%M:%S", 9) + "Z"; }
  static std::string format(int64_t nanos, const char* fmt, int digits) {
    time_t secs = nanos / 1'000'000'000;
    tm t{};
    gmtime_r(&secs, &t);
    char buf[64], frac[16];
    std::strftime(buf, sizeof buf, fmt, &t);
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos % 1'000'000'000));
    return buf + std::string(frac, 1 + digits);
  }

  std::mt19937 rng_{42};
  int64_t now_ = 1'741'082'400'000'000'000;  // 2025-03-04T10:00:00Z
};

struct Result {
  double cpu;   // seconds
  size_t size;  // output bytes
};

// The old path: one zlib deflate stream with a gzip wrapper, fed 128 KiB at a time.
Result zlib_gzip(std::string_view in, int level, std::string* keep = nullptr) {
  const double t0 = thread_cpu_seconds();
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<char> out(128 * 1024);
  size_t size = 0;
  for (size_t pos = 0;;) {
    const size_t n = std::min<size_t>(128 * 1024, in.size() - pos);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = static_cast<uInt>(n);
    pos += n;
    const int flush = pos == in.size() ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      rc = deflate(&zs, flush);
      size += out.size() - zs.avail_out;
      if (keep) keep->append(out.data(), out.size() - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    if (flush == Z_FINISH) break;
  }
  deflateEnd(&zs);
  return {thread_cpu_seconds() - t0, size};
}

Result libdeflate_members(std::string_view in, int level, size_t chunk,
                          std::string* keep = nullptr) {
  const double t0 = thread_cpu_seconds();
  GzipMemberEncoder encoder(level);
  const std::string extra = R"({"lastTime":"2025-03-04T10:11:12.123456789Z"})";
  size_t size = 0;
  for (size_t pos = 0; pos == 0 || pos < in.size(); pos += chunk) {
    const std::string_view member =
        encoder.encode(in.substr(pos, chunk), pos == 0 ? std::string_view(extra) : "");
    size += member.size();
    if (keep) keep->append(member);
  }
  return {thread_cpu_seconds() - t0, size};
}

Result zstd_stream(std::string_view in, int level) {
  const double t0 = thread_cpu_seconds();
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::vector<char> out(ZSTD_CStreamOutSize());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t size = 0, remaining;
  do {
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    remaining = ZSTD_compressStream2(cctx, &o, &input, ZSTD_e_end);
    size += o.pos;
  } while (remaining != 0 && !ZSTD_isError(remaining));
  ZSTD_freeCCtx(cctx);
  return {thread_cpu_seconds() - t0, size};
}

// zlib's inflate over concatenated members, resetting between them (as our
// GzipSource does); CPU seconds, and whether the bytes equal expected.
std::pair<double, bool> zlib_gunzip(const std::string& gz, std::string_view expected) {
  const double t0 = thread_cpu_seconds();
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::vector<char> out(128 * 1024);
  size_t pos = 0;
  bool same = true;
  while (same) {
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t n = out.size() - zs.avail_out;
    same = pos + n <= expected.size() && std::memcmp(out.data(), expected.data() + pos, n) == 0;
    pos += n;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
    } else if (rc != Z_OK) {
      same = false;
    }
  }
  inflateEnd(&zs);
  return {thread_cpu_seconds() - t0, same && pos == expected.size()};
}

struct Row {
  std::string name;
  Result result;
};

// Ratios are to base (the mean of the zlib 6 runs).
void print_table(const std::vector<Row>& rows, double mb, const Result& base) {
  std::printf("%-32s %7s %8s %8s %9s %8s %7s\n", "case", "CPU s", "MB/s", "CPU/z6", "out MB",
              "size/z6", "ratio");
  for (const Row& row : rows) {
    const Result& r = row.result;
    std::printf("%-32s %7.2f %8.1f %8.2f %9.2f %8.3f %7.2f\n", row.name.c_str(), r.cpu,
                mb / r.cpu, r.cpu / base.cpu, double(r.size) / 1e6,
                double(r.size) / double(base.size), mb * 1e6 / double(r.size));
  }
}

std::string kib(size_t bytes) { return std::to_string(bytes >> 10) + " KiB"; }

int run(size_t mb, int max_level, int repeat) {
  RecordGenerator generator;
  const std::string input = generator.records(mb * 1'000'000);
  const double in_mb = double(input.size()) / 1e6;
  std::string zlib6_out, chosen_out;
  std::vector<Row> rows;
  // The least CPU of `repeat` runs: load from others only ever adds.
  auto add = [&](const std::string& name, const std::function<Result()>& measure) {
    Result best = measure();
    for (int i = 1; i < repeat; ++i) {
      const Result r = measure();
      if (r.cpu < best.cpu) best = r;
    }
    std::fprintf(stderr, "%s: %.2f CPU s\n", name.c_str(), best.cpu);
    rows.push_back({name, best});
  };
  zlib_gzip(std::string_view(input).substr(0, 8'000'000), 6);  // warm-up, not counted
  zlib_gzip(input, 6, &zlib6_out);
  libdeflate_members(input, kGzipLevel, kGzipMemberInput, &chosen_out);
  add("zlib 6 (first run)", [&] { return zlib_gzip(input, 6); });
  add("zlib 1", [&] { return zlib_gzip(input, 1); });
  for (int level = 1; level <= max_level; ++level) {
    add("libdeflate " + std::to_string(level) + ", 1 MiB members",
        [&] { return libdeflate_members(input, level, 1 << 20); });
  }
  for (int level : {1, 4, 6}) {
    for (size_t chunk : {256u << 10, 512u << 10, 2u << 20, 4u << 20}) {
      add("libdeflate " + std::to_string(level) + ", " + kib(chunk) + " members",
          [&] { return libdeflate_members(input, level, chunk); });
    }
    add("libdeflate " + std::to_string(level) + ", one member",
        [&] { return libdeflate_members(input, level, input.size()); });
  }
  add("zstd 1", [&] { return zstd_stream(input, 1); });
  add("zstd 3", [&] { return zstd_stream(input, 3); });
  add("zlib 6 (last run)", [&] { return zlib_gzip(input, 6); });
  const Result& first = rows.front().result;
  const Result& last = rows.back().result;
  const Result base{(first.cpu + last.cpu) / 2, first.size};
  std::printf("input: %.1f MB of json-file records, by bytes %.0f %% Java service lines, %.0f %% "
              "access-log lines, %.0f %% base64 payload lines\n\n",
              in_mb, 100.0 * generator.bytes_by_kind[0] / input.size(),
              100.0 * generator.bytes_by_kind[1] / input.size(),
              100.0 * generator.bytes_by_kind[2] / input.size());
  print_table(rows, in_mb, base);
  std::printf("\nratios are to the mean of the two zlib 6 runs (%.2f CPU s); they differ by %.0f %%"
              " (machine load)\n", base.cpu, 100.0 * (last.cpu - first.cpu) / first.cpu);

  const auto [z6_read, z6_ok] = zlib_gunzip(zlib6_out, input);
  const auto [ours_read, ours_ok] = zlib_gunzip(chosen_out, input);
  std::printf("\ncompress_file writes libdeflate %d, %zu KiB members. Reading with zlib inflate "
              "(as our reader): zlib 6 output %.2f CPU s (%.0f MB/s), ours %.2f CPU s "
              "(%.0f MB/s), ratio %.2f; decoded equal to input: %s, %s\n",
              kGzipLevel, kGzipMemberInput >> 10, z6_read, in_mb / z6_read, ours_read,
              in_mb / ours_read, ours_read / z6_read, z6_ok ? "yes" : "NO",
              ours_ok ? "yes" : "NO");
  return z6_ok && ours_ok ? 0 : 1;
}

}  // namespace
}  // namespace logguard

int main(int argc, char** argv) {
  size_t mb = 170;
  int max_level = 12;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--mb=", 5) == 0) {
      mb = std::strtoul(argv[i] + 5, nullptr, 10);
    } else if (std::strncmp(argv[i], "--max-level=", 12) == 0) {
      max_level = std::atoi(argv[i] + 12);
    } else if (std::strncmp(argv[i], "--repeat=", 9) == 0) {
      repeat = std::max(1, std::atoi(argv[i] + 9));
    } else {
      std::fprintf(stderr, "usage: %s [--mb=N] [--max-level=L] [--repeat=R]\n", argv[0]);
      return 2;
    }
  }
  return logguard::run(mb, max_level, repeat);
}
