#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "logguard/file_system.h"
#include "logguard/unique_fd.h"

namespace logguard {
namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  void append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  void sync() override {
    if (::fdatasync(fd_.get()) != 0) throw_errno("fdatasync " + path_);
  }

  void close() override { fd_.close_checked(path_); }

 private:
  UniqueFd fd_;
  std::string path_;
};

std::unique_ptr<WritableFile> open_writable(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw_errno("open " + path);
  return std::make_unique<PosixWritableFile>(fd, path);
}

class PosixFileSystem : public FileSystem {
 public:
  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    return open_writable(path, O_APPEND);
  }

  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    return open_writable(path, O_TRUNC);
  }

  std::string read_all(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_errno("open " + path);
    std::string out;
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("read " + path);
      }
      if (n == 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  void rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) throw_errno("rename " + from + " to " + to);
  }

  void remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unlink " + path);
  }

  std::optional<uint64_t> file_size(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return std::nullopt;
      throw_errno("stat " + path);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  std::vector<std::string> list_dir(const std::string& dir) override {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return names;
      throw_errno("opendir " + dir);
    }
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int error = errno;
    ::closedir(d);
    if (error != 0) throw std::system_error(error, std::generic_category(), "readdir " + dir);
    return names;
  }

  void create_dirs(const std::string& dir) override {
    // Create each missing ancestor in turn, like `mkdir -p`.
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string prefix = dir.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) throw_errno("mkdir " + prefix);
    }
  }

  void sync_dir(const std::string& dir) override {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) throw_errno("open " + dir);
    if (::fsync(fd.get()) != 0) throw_errno("fsync " + dir);
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace logguard
