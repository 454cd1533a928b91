#include "logguard/log_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "logguard/unique_fd.h"

namespace logguard {
namespace {

FileId id_of(const struct stat& st) {
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

class PosixInputFile : public InputFile {
 public:
  PosixInputFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  size_t read_at(uint64_t offset, char* buf, size_t n) override {
    return pread_full(fd_.get(), buf, n, offset, path_);
  }

  uint64_t size() override { return static_cast<uint64_t>(stat().st_size); }
  FileId id() override { return id_of(stat()); }

  std::unique_ptr<ByteSource> decompress(Codec codec) override {
    // A duplicate shares the file offset, which the decoders read from.
    if (::lseek(fd_.get(), 0, SEEK_SET) < 0) throw_errno("lseek " + path_);
    int fd = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw_errno("dup " + path_);
    return open_byte_source(fd, codec);
  }

  std::optional<int64_t> header_last_time(Codec codec) override {
    return read_last_time(fd_.get(), codec);
  }

 private:
  struct stat stat() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw_errno("fstat " + path_);
    return st;
  }

  UniqueFd fd_;
  std::string path_;
};

class PosixInputFiles : public InputFiles {
 public:
  std::vector<std::string> list_dir(const std::string& dir) override {
    return posix_file_system().list_dir(dir);
  }

  std::unique_ptr<InputFile> open(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return nullptr;
      throw_errno("open " + path);
    }
    return std::make_unique<PosixInputFile>(std::move(fd), path);
  }

  std::optional<FileId> id(const std::string& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return id_of(st);
    if (errno == ENOENT) return std::nullopt;
    throw_errno("stat " + path);
  }
};

}  // namespace

InputFiles& posix_input_files() {
  static PosixInputFiles files;
  return files;
}

}  // namespace logguard
