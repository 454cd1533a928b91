#include "logguard/format/compression.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <functional>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "logguard/base/file_system.h"
#include "logguard/format/gzip_member.h"
#include "logguard/base/time_format.h"
#include "logguard/base/unique_fd.h"

namespace logguard {
namespace {

constexpr size_t kChunk = 128 * 1024;
constexpr uint32_t kSkippableMagic = 0x184D2A50;  // zstd skippable frame, variant 0
constexpr size_t kMaxHeaderJson = 64 * 1024;
constexpr int kZstdLevel = 3;


// Where compressed bytes go: the temp file, and a pacer that may make the
// writer wait (the node's write budget).
struct Output {
  WritableFile& file;
  const std::function<void(size_t)>& on_written;
};

void put_le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// {"lastTime":"..."} as Go's json.Marshal writes it; empty when unknown.
std::string last_time_json(int64_t last_time_nanos) {
  if (last_time_nanos <= 0) return {};
  return nlohmann::json{{"lastTime", format_rfc3339nano(last_time_nanos)}}.dump();
}

std::optional<int64_t> parse_last_time_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto it = j.find("lastTime");
  if (it == j.end() || !it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  if (is_zero_go_time(s)) return std::nullopt;
  return parse_rfc3339(s);
}

void write_out(Output& out, const char* data, size_t n) {
  if (n == 0) return;
  out.file.append(std::string_view(data, n));
  if (out.on_written) out.on_written(n);
}

// Streams src (from offset 0) through `step`, which consumes input and
// writes output; `step(nullptr, 0)` is called once at the end to finish.
template <typename Step>
void pump(ReadableFile& src, Step&& step) {
  std::vector<char> in(kChunk);
  uint64_t offset = 0;
  for (;;) {
    size_t n = src.read_at(offset, in.data(), in.size());
    if (n == 0) break;
    offset += n;
    step(in.data(), n);
  }
  step(nullptr, 0);
}

// gzip as a sequence of members, one per kGzipMemberInput bytes of input,
// each compressed whole by libdeflate (see gzip_member.h). Only the first
// member carries the lastTime JSON, so read_gzip_extra finds it where
// json-file puts it; an empty source still gets that one member.
void gzip_stream(ReadableFile& src, Output& dst, const std::string& json) {
  GzipMemberEncoder encoder(kGzipLevel);
  std::vector<char> in(kGzipMemberInput);
  uint64_t offset = 0;
  for (;;) {
    const size_t n = src.read_at(offset, in.data(), in.size());
    if (n == 0 && offset > 0) break;
    const std::string_view member =
        encoder.encode({in.data(), n}, offset == 0 ? std::string_view(json) : std::string_view());
    write_out(dst, member.data(), member.size());
    offset += n;
    if (n < in.size()) break;
  }
}

// A skippable frame holding the lastTime JSON, then one zstd frame with a checksum.
void zstd_stream(ReadableFile& src, Output& dst, const std::string& json) {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) throw std::runtime_error("ZSTD_createCCtx failed");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kZstdLevel);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  if (!json.empty()) {
    std::string frame;
    put_le32(frame, kSkippableMagic);
    put_le32(frame, static_cast<uint32_t>(json.size()));
    frame += json;
    write_out(dst, frame.data(), frame.size());
  }
  std::vector<char> out(ZSTD_CStreamOutSize());
  pump(src, [&](const char* data, size_t n) {
    ZSTD_inBuffer in{data, n, 0};
    const ZSTD_EndDirective mode = data ? ZSTD_e_continue : ZSTD_e_end;
    size_t remaining;
    do {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      remaining = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
      if (ZSTD_isError(remaining)) throw std::runtime_error(ZSTD_getErrorName(remaining));
      write_out(dst, out.data(), o.pos);
    } while (mode == ZSTD_e_end ? remaining != 0 : in.pos < in.size);
  });
}

// A file read from its start by offset, owned by the reader or not.
class FileReader {
 public:
  FileReader(ReadableFile& file, std::unique_ptr<ReadableFile> owned)
      : owned_(std::move(owned)), file_(file) {}
  size_t read(char* buf, size_t n) {
    const size_t got = file_.read_at(offset_, buf, n);
    offset_ += got;
    return got;
  }

 private:
  std::unique_ptr<ReadableFile> owned_;
  ReadableFile& file_;
  uint64_t offset_ = 0;
};

class PlainSource : public ByteSource {
 public:
  explicit PlainSource(FileReader file) : file_(std::move(file)) {}
  size_t read(char* buf, size_t n) override { return file_.read(buf, n); }

 private:
  FileReader file_;
};

// Input side shared by the decoders: a fixed buffer refilled from the file.
class Input {
 public:
  explicit Input(FileReader file) : file_(std::move(file)), buf_(kChunk) {}
  // Refills when empty; false at end of file.
  bool fill() {
    if (pos_ < len_) return true;
    if (eof_) return false;
    len_ = file_.read(buf_.data(), buf_.size());
    pos_ = 0;
    eof_ = len_ == 0;
    return !eof_;
  }
  const char* data() const { return buf_.data() + pos_; }
  size_t size() const { return len_ - pos_; }
  void consume(size_t n) { pos_ += n; }

 private:
  FileReader file_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
};

// gunzip, accepting concatenated members as gzip(1) and Go's reader do.
class GzipSource : public ByteSource {
 public:
  explicit GzipSource(FileReader file) : in_(std::move(file)) {
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  size_t read(char* buf, size_t n) override {
    n = std::min(n, size_t{1} << 30);  // avail_out is 32 bits
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (n > 0 && zs_.avail_out == n) {
      if (!in_.fill()) {
        if (in_member_ || members_ == 0) throw std::runtime_error("truncated gzip data");
        return 0;
      }
      if (!in_member_) {
        inflateReset(&zs_);
        in_member_ = true;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data()));
      zs_.avail_in = static_cast<uInt>(in_.size());
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_.consume(in_.size() - zs_.avail_in);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        ++members_;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw std::runtime_error(std::string("corrupt gzip data: ") + (zs_.msg ? zs_.msg : "?"));
      }
    }
    return n - zs_.avail_out;
  }

 private:
  Input in_;
  z_stream zs_{};
  bool in_member_ = false;
  int members_ = 0;
};

// Streaming zstd; skippable frames (our lastTime header) are skipped by the decoder.
class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(FileReader file)
      : in_(std::move(file)), dctx_(ZSTD_createDCtx(), &ZSTD_freeDCtx) {
    if (!dctx_) throw std::runtime_error("ZSTD_createDCtx failed");
  }

  size_t read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (n > 0 && out.pos == 0) {
      bool more = in_.fill();
      if (!more && frame_done_) return 0;
      ZSTD_inBuffer in{in_.data(), in_.size(), 0};
      size_t rc = ZSTD_decompressStream(dctx_.get(), &out, &in);
      if (ZSTD_isError(rc)) {
        throw std::runtime_error(std::string("corrupt zstd data: ") + ZSTD_getErrorName(rc));
      }
      in_.consume(in.pos);
      frame_done_ = rc == 0;
      if (!more && out.pos == 0) throw std::runtime_error("truncated zstd data");
    }
    return out.pos;
  }

 private:
  Input in_;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx_;
  bool frame_done_ = false;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Reads exactly n bytes at offset; false if the file is shorter.
bool pread_exact(ReadableFile& file, unsigned char* buf, size_t n, uint64_t offset) {
  return file.read_at(offset, reinterpret_cast<char*>(buf), n) == n;
}

std::unique_ptr<ByteSource> make_byte_source(FileReader file, Codec codec) {
  switch (codec) {
    case Codec::kGzip:
      return std::make_unique<GzipSource>(std::move(file));
    case Codec::kZstd:
      return std::make_unique<ZstdSource>(std::move(file));
    case Codec::kNone:
      break;
  }
  return std::make_unique<PlainSource>(std::move(file));
}

std::optional<std::string> read_gzip_extra(ReadableFile& file) {
  unsigned char h[12];
  if (!pread_exact(file, h, sizeof h, 0)) return std::nullopt;
  if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0x04) == 0) return std::nullopt;
  size_t len = size_t{h[10]} | size_t{h[11]} << 8;
  std::string extra(len, '\0');
  if (!pread_exact(file, reinterpret_cast<unsigned char*>(extra.data()), len, sizeof h)) {
    return std::nullopt;
  }
  return extra;
}

std::optional<std::string> read_zstd_skippable(ReadableFile& file) {
  unsigned char h[8];
  if (!pread_exact(file, h, sizeof h, 0)) return std::nullopt;
  if ((get_le32(h) & 0xFFFFFFF0u) != kSkippableMagic) return std::nullopt;
  size_t len = get_le32(h + 4);
  if (len > kMaxHeaderJson) return std::nullopt;
  std::string payload(len, '\0');
  if (!pread_exact(file, reinterpret_cast<unsigned char*>(payload.data()), len, sizeof h)) {
    return std::nullopt;
  }
  return payload;
}

}  // namespace

std::string_view codec_extension(Codec codec) {
  switch (codec) {
    case Codec::kGzip:
      return ".gz";
    case Codec::kZstd:
      return ".zst";
    case Codec::kNone:
      break;
  }
  return "";
}

Codec codec_for_path(std::string_view path) {
  if (ends_with(path, ".gz")) return Codec::kGzip;
  if (ends_with(path, ".zst")) return Codec::kZstd;
  return Codec::kNone;
}

void compress_file(ReadableFile& src, WritableFile& out, Codec codec, int64_t last_time_nanos,
                   const std::function<void(size_t)>& on_written) {
  const std::string json = last_time_json(last_time_nanos);
  Output output{out, on_written};
  switch (codec) {
    case Codec::kGzip:
      gzip_stream(src, output, json);
      break;
    case Codec::kZstd:
      zstd_stream(src, output, json);
      break;
    case Codec::kNone:
      throw std::invalid_argument("compress_file: no codec");
  }
  // Synced before the caller renames it into place: a compressed name never
  // points at data that is not all there.
  out.sync();
  out.close();
}

std::optional<int64_t> read_last_time(ReadableFile& file, Codec codec) {
  if (codec == Codec::kNone) return std::nullopt;
  try {
    auto json = codec == Codec::kGzip ? read_gzip_extra(file) : read_zstd_skippable(file);
    if (!json) return std::nullopt;
    return parse_last_time_json(*json);
  } catch (const std::system_error&) {
    return std::nullopt;
  }
}

std::unique_ptr<ByteSource> open_byte_source(std::unique_ptr<ReadableFile> file, Codec codec) {
  ReadableFile& reference = *file;
  return make_byte_source(FileReader(reference, std::move(file)), codec);
}

std::unique_ptr<ByteSource> open_byte_source(ReadableFile& file, Codec codec) {
  return make_byte_source(FileReader(file, nullptr), codec);
}

}  // namespace logguard
