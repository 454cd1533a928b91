#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "logguard/file_system.h"
#include "logguard/posix_file_system.h"
#include "logguard/unique_fd.h"

namespace logguard {
namespace {

// Dirty data is handed to the disk every this many bytes of a file (as
// RocksDB's bytes_per_sync), or once it is this old, so the kernel never
// holds seconds of log data that a journal commit would have to flush ahead
// of someone else's fsync. The age bound matters with many files: each
// writes slowly, but together they would leave a lot dirty. Below
// kWriteBehindMinBytes the age does not count: each sync_file_range kicks
// the disk queue, and hundreds of quiet containers (a few KB/s each) would
// pay that several times a second for almost nothing; the kernel's own
// write-back takes those few bytes.
constexpr uint64_t kWriteBehindBytes = 256 * 1024;
constexpr uint64_t kWriteBehindMinBytes = 16 * 1024;
constexpr int64_t kWriteBehindNanos = 250'000'000;

int64_t nanos_of(const timespec& ts) { return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec; }

int64_t monotonic_nanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return nanos_of(ts);
}

struct CloseDir {
  void operator()(DIR* d) const { ::closedir(d); }
};

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(UniqueFd fd, std::string path, uint64_t position)
      : fd_(std::move(fd)), path_(std::move(path)), position_(position), handed_(position) {}

  void append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
      position_ += static_cast<uint64_t>(n);
    }
    const uint64_t dirty = position_ - handed_;
    if (dirty >= kWriteBehindBytes) {
      write_behind();
    } else if (dirty > 0) {
      const int64_t now = monotonic_nanos();
      if (dirty_since_ == 0) dirty_since_ = now;
      if (dirty >= kWriteBehindMinBytes && now - dirty_since_ >= kWriteBehindNanos) write_behind();
    }
  }

  void write_at(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
  }

  void sync() override {
    if (::fdatasync(fd_.get()) != 0) throw_errno("fdatasync " + path_);
    handed_ = position_;
  }

  bool unlinked() override {
    struct stat st {};
    return ::fstat(fd_.get(), &st) == 0 && st.st_nlink == 0;
  }

  void close() override {
    if (fd_.get() >= 0 && position_ > handed_) write_behind();
    fd_.close_checked(path_);
  }

 private:
  // Starts write-back of what was appended since the last call and returns at
  // once (a congested queue may make it wait). Failure only loses smoothing.
  void write_behind() {
    ::sync_file_range(fd_.get(), static_cast<off64_t>(handed_),
                      static_cast<off64_t>(position_ - handed_), SYNC_FILE_RANGE_WRITE);
    handed_ = position_;
    dirty_since_ = 0;
  }

  UniqueFd fd_;
  std::string path_;
  uint64_t position_;  // end of file as this writer knows it
  uint64_t handed_;    // bytes before this were handed to the disk
  int64_t dirty_since_ = 0;  // monotonic time of the oldest bytes not handed over
};

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  size_t read_at(uint64_t offset, char* buf, size_t n) override {
    return pread_full(fd_.get(), buf, n, offset, path_);
  }

  uint64_t size() override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw_errno("fstat " + path_);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

// Splits "a/b/c" into its parent "a/b" and name "c".
std::pair<std::string, std::string> split(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

class PosixFileSystem : public FileSystem {
 public:
  explicit PosixFileSystem(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    return open_writable(path, O_APPEND);
  }

  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    return open_writable(path, O_TRUNC);
  }

  std::unique_ptr<WritableFile> open_overwrite(const std::string& path) override {
    return open_writable(path, 0);
  }

  std::unique_ptr<ReadableFile> open_read(const std::string& path) override {
    return std::make_unique<PosixReadableFile>(open_at(path, O_RDONLY, 0), path);
  }

  std::string read_all(const std::string& path) override {
    PosixReadableFile file(open_at(path, O_RDONLY, 0), path);
    std::string out;
    char buf[64 * 1024];
    while (size_t n = file.read_at(out.size(), buf, sizeof buf)) out.append(buf, n);
    return out;
  }

  void rename(const std::string& from, const std::string& to) override {
    rename_with(from, to, 0);
  }

  void rename_noreplace(const std::string& from, const std::string& to) override {
    rename_with(from, to, RENAME_NOREPLACE);
  }

  void remove(const std::string& path) override {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir_if_present(dir);
    if (d.get() < 0) return;
    if (::unlinkat(d.get(), name.c_str(), 0) != 0 && errno != ENOENT) throw_errno("unlink " + path);
  }

  void remove_dir(const std::string& path) override {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir_if_present(dir);
    if (d.get() < 0) return;
    if (::unlinkat(d.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      throw_errno("rmdir " + path);
    }
  }

  void truncate(const std::string& path, uint64_t size) override {
    UniqueFd fd = open_at(path, O_WRONLY, 0);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw_errno("truncate " + path);
  }

  std::optional<uint64_t> file_size(const std::string& path) override {
    auto st = lstat(path);
    if (!st) return std::nullopt;
    return static_cast<uint64_t>(st->st_size);
  }

  std::optional<int64_t> modified_nanos(const std::string& path) override {
    auto st = lstat(path);
    if (!st) return std::nullopt;
    return nanos_of(st->st_mtim);
  }

  EntryType entry_type(const std::string& path) override {
    auto st = lstat(path);
    if (!st) return EntryType::kMissing;
    if (S_ISREG(st->st_mode)) return EntryType::kFile;
    if (S_ISDIR(st->st_mode)) return EntryType::kDirectory;
    return EntryType::kOther;
  }

  std::vector<std::string> list_dir(const std::string& dir) override {
    std::vector<std::string> names;
    for_each_entry(dir, [&](const dirent& e, int) { names.emplace_back(e.d_name); });
    return names;
  }

  std::optional<std::vector<FileEntry>> list_files(const std::string& dir) override {
    std::vector<FileEntry> files;
    bool found;
    try {
      found = for_each_entry(dir, [&](const dirent& e, int dir_fd) {
        if (e.d_type != DT_REG && e.d_type != DT_UNKNOWN) return;
        struct stat st {};
        if (::fstatat(dir_fd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;  // gone
        if (!S_ISREG(st.st_mode)) return;
        files.push_back({e.d_name, static_cast<uint64_t>(st.st_size), nanos_of(st.st_mtim)});
      });
    } catch (const std::system_error& e) {
      if (e.code().value() == ENOTDIR) return std::nullopt;
      throw;
    }
    if (!found) return std::nullopt;
    return files;
  }

  void create_dirs(const std::string& dir) override {
    // Each missing ancestor in turn, like `mkdir -p`; beneath the root no
    // component may be a symbolic link.
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string prefix = dir.substr(0, pos);
      if (!beneath_root(prefix)) {
        if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) throw_errno("mkdir " + prefix);
        continue;
      }
      auto [parent, name] = split(prefix);
      UniqueFd p = open_dir(parent);
      if (::mkdirat(p.get(), name.c_str(), 0750) != 0 && errno != EEXIST) {
        throw_errno("mkdir " + prefix);
      }
    }
  }

  void create_symlink(const std::string& target, const std::string& path) override {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir(dir);
    if (::symlinkat(target.c_str(), d.get(), name.c_str()) != 0) throw_errno("symlink " + path);
  }

  std::optional<std::string> read_symlink(const std::string& path) override {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir_if_present(dir);
    if (d.get() < 0) return std::nullopt;
    char buf[4096];
    ssize_t n = ::readlinkat(d.get(), name.c_str(), buf, sizeof buf);
    if (n < 0) {
      if (errno == ENOENT || errno == EINVAL) return std::nullopt;
      throw_errno("readlink " + path);
    }
    return std::string(buf, static_cast<size_t>(n));
  }

  void sync_dir(const std::string& dir) override {
    UniqueFd fd = open_dir(dir, O_RDONLY);
    if (::fsync(fd.get()) != 0) throw_errno("fsync " + dir);
  }

 private:
  // Whether path lies strictly beneath the root: there, no component may be
  // a symbolic link (something with write access to the log root, such as a
  // log shipper, must not be able to point logguard's writes elsewhere).
  bool beneath_root(const std::string& path) const {
    return !root_.empty() && path.size() > root_.size() + 1 &&
           path.compare(0, root_.size(), root_) == 0 && path[root_.size()] == '/';
  }

  // Calls fn(entry, descriptor of dir) for each entry of dir but . and ..;
  // false if dir is missing.
  template <typename Fn>
  bool for_each_entry(const std::string& dir, Fn&& fn) {
    UniqueFd fd = open_dir_if_present(dir, O_RDONLY);
    if (fd.get() < 0) return false;
    std::unique_ptr<DIR, CloseDir> d(::fdopendir(fd.get()));
    if (!d) throw_errno("opendir " + dir);
    (void)fd.release();  // closedir closes it
    for (;;) {
      errno = 0;  // readdir reports an error only through errno; fn may have set it
      const dirent* e = ::readdir(d.get());
      if (e == nullptr) break;
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") fn(*e, ::dirfd(d.get()));
    }
    if (const int error = errno; error != 0) {
      throw std::system_error(error, std::generic_category(), "readdir " + dir);
    }
    return true;
  }

  // A directory descriptor for `dir`, walking beneath the root one component
  // at a time without following links. -1 if a component is missing.
  UniqueFd open_dir_if_present(const std::string& dir, int access = O_PATH) {
    if (!beneath_root(dir) && dir != root_) {
      UniqueFd fd(::open(dir.c_str(), access | O_DIRECTORY | O_CLOEXEC));
      if (fd.get() < 0 && errno != ENOENT) throw_errno("open " + dir);
      return fd;
    }
    UniqueFd fd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return fd;
      throw_errno("open " + root_);
    }
    size_t pos = root_.size();
    while (pos < dir.size()) {
      size_t next = dir.find('/', pos + 1);
      if (next == std::string::npos) next = dir.size();
      std::string name = dir.substr(pos + 1, next - pos - 1);
      int flags = (next == dir.size() ? access : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
      UniqueFd child(::openat(fd.get(), name.c_str(), flags));
      if (child.get() < 0) {
        if (errno == ENOENT) return child;
        if (errno == ELOOP || errno == ENOTDIR) {
          throw std::system_error(errno, std::generic_category(),
                                  "refusing " + dir.substr(0, next) +
                                      ": not a directory (a symbolic link?)");
        }
        throw_errno("open " + dir.substr(0, next));
      }
      fd = std::move(child);
      pos = next;
    }
    if (pos == root_.size() && access != O_PATH) {
      fd = UniqueFd(::open(root_.c_str(), access | O_DIRECTORY | O_CLOEXEC));
      if (fd.get() < 0) throw_errno("open " + root_);
    }
    return fd;
  }

  UniqueFd open_dir(const std::string& dir, int access = O_PATH) {
    UniqueFd fd = open_dir_if_present(dir, access);
    if (fd.get() < 0) throw std::system_error(ENOENT, std::generic_category(), "open " + dir);
    return fd;
  }

  // Opens a file without following a link in its last component (nor,
  // beneath the root, in any other).
  UniqueFd open_at(const std::string& path, int flags, mode_t mode) {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir(dir);
    UniqueFd fd(::openat(d.get(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd.get() < 0) {
      if (errno == ELOOP) {
        throw std::system_error(errno, std::generic_category(),
                                "refusing " + path + ": it is a symbolic link");
      }
      throw_errno("open " + path);
    }
    return fd;
  }

  std::unique_ptr<WritableFile> open_writable(const std::string& path, int flags) {
    // O_NONBLOCK: a FIFO planted under the name must fail (ENXIO), not block.
    UniqueFd fd = open_at(path, flags | O_WRONLY | O_CREAT | O_NONBLOCK, 0640);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("fstat " + path);
    if (!S_ISREG(st.st_mode)) {
      throw std::system_error(EINVAL, std::generic_category(),
                              "refusing " + path + ": not a regular file");
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return std::make_unique<PosixWritableFile>(std::move(fd), path,
                                               static_cast<uint64_t>(st.st_size));
  }

  void rename_with(const std::string& from, const std::string& to, unsigned flags) {
    auto [from_dir, from_name] = split(from);
    auto [to_dir, to_name] = split(to);
    UniqueFd a = open_dir(from_dir);
    UniqueFd b = to_dir == from_dir ? UniqueFd() : open_dir(to_dir);
    int to_fd = b.get() >= 0 ? b.get() : a.get();
    if (::renameat2(a.get(), from_name.c_str(), to_fd, to_name.c_str(), flags) != 0) {
      throw_errno("rename " + from + " to " + to);
    }
  }

  std::optional<struct stat> lstat(const std::string& path) {
    auto [dir, name] = split(path);
    UniqueFd d = open_dir_if_present(dir);
    if (d.get() < 0) return std::nullopt;
    struct stat st {};
    if (::fstatat(d.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return std::nullopt;
      throw_errno("stat " + path);
    }
    return st;
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<FileSystem> make_posix_file_system(const std::string& root) {
  return std::make_unique<PosixFileSystem>(root);
}

FileSystem& posix_file_system() {
  static PosixFileSystem fs("");
  return fs;
}

}  // namespace logguard
