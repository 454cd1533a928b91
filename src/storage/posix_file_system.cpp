#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>
#include <utility>

#include "logguard/base/file_system.h"
#include "logguard/storage/posix_file_system.h"
#include "logguard/base/unique_fd.h"
#include "logguard/storage/write_back.h"

namespace logguard {
namespace {

int64_t nanos_of(const timespec& ts) { return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec; }

FileId id_of(const struct stat& st) {
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

[[noreturn]] void refuse(const std::string& path, int error, const std::string& why) {
  throw std::system_error(error, std::generic_category(), "refusing " + path + ": " + why);
}

struct CloseDir {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Appends go to the page cache; a WriteBack, if given, hands them to the
// disk at the node's pace (write_back.h), else the kernel's write-back does.
class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(UniqueFd fd, std::string path, uint64_t position, WriteBack* write_back)
      : fd_(std::make_shared<UniqueFd>(std::move(fd))), path_(std::move(path)) {
    if (write_back) dirty_ = write_back->track(fd_, position);
  }
  ~PosixWritableFile() override {
    if (dirty_) dirty_->close();
  }

  void append(std::string_view data) override {
    const size_t size = data.size();
    while (!data.empty()) {
      ssize_t n = ::write(fd_->get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (dirty_) dirty_->wrote(size - data.size());
        throw_errno("write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    if (dirty_) dirty_->wrote(size);
  }

  void write_at(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_->get(), data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
  }

  void sync() override {
    if (dirty_) dirty_->hand_over();
    if (::fdatasync(fd_->get()) != 0) throw_errno("fdatasync " + path_);
    if (dirty_) dirty_->synced();
  }

  bool unlinked() override { return !still_linked(fd_->get()); }

  // The descriptor closes now, or once the write-back has handed over what
  // it still holds (then a failing close can no longer be reported; write
  // errors show at write() and fdatasync() on Linux).
  void close() override {
    if (dirty_) std::exchange(dirty_, nullptr)->close();
    if (fd_.use_count() == 1) fd_->close_checked(path_);
    fd_ = std::make_shared<UniqueFd>();
  }

 private:
  std::shared_ptr<UniqueFd> fd_;
  std::string path_;
  std::shared_ptr<WriteBack::File> dirty_;  // null: left to the kernel
};

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  size_t read_at(uint64_t offset, char* buf, size_t n) override {
    return pread_full(fd_.get(), buf, n, offset, path_);
  }

  uint64_t size() override { return static_cast<uint64_t>(stat().st_size); }
  FileId id() override { return id_of(stat()); }

 private:
  struct stat stat() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw_errno("fstat " + path_);
    return st;
  }

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
  PosixFileSystem(std::string root, WriteBack* write_back)
      : root_(std::move(root)), write_back_(write_back) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    return open_writable(path, O_APPEND);
  }

  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    auto [fd, st] = open_checked(path, O_WRONLY | O_CREAT, 0640);
    // Cut only now: O_TRUNC would have cut a planted file before the check.
    if (st.st_size > 0 && ::ftruncate(fd.get(), 0) != 0) throw_errno("truncate " + path);
    return std::make_unique<PosixWritableFile>(std::move(fd), path, 0, write_back_);
  }

  std::unique_ptr<WritableFile> open_overwrite(const std::string& path) override {
    return open_writable(path, 0);
  }

  std::unique_ptr<ReadableFile> open_read(const std::string& path) override {
    return std::make_unique<PosixReadableFile>(open_checked(path, O_RDONLY).first, path);
  }

  std::unique_ptr<WritableFile> create_exclusive(const std::string& path) override {
    return std::make_unique<PosixWritableFile>(open_at(path, O_WRONLY | O_CREAT | O_EXCL, 0640),
                                               path, 0, write_back_);
  }

  std::string read_all(const std::string& path) override {
    PosixReadableFile file(open_checked(path, O_RDONLY).first, path);
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
    UniqueFd fd = open_checked(path, O_WRONLY).first;
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

  std::optional<FileId> file_id(const std::string& path) override {
    auto st = lstat(path);
    if (!st) return std::nullopt;
    return id_of(*st);
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
      if (errno == ELOOP) refuse(path, errno, "it is a symbolic link");
      if (errno == ENXIO) refuse(path, errno, "not a regular file (a FIFO or a socket?)");
      throw_errno("open " + path);
    }
    return fd;
  }

  // Opens (flags: access, O_APPEND, O_CREAT) only what the plugin makes: a
  // regular file with one name. Checked on the descriptor before anything
  // is read, written or cut. O_NONBLOCK: a FIFO planted under the name makes
  // the open fail (ENXIO) or return at once, instead of waiting for its
  // other end. A second hard link could be a file outside the logs.
  std::pair<UniqueFd, struct stat> open_checked(const std::string& path, int flags,
                                                mode_t mode = 0) {
    UniqueFd fd = open_at(path, flags | O_NONBLOCK, mode);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("fstat " + path);
    if (!S_ISREG(st.st_mode)) refuse(path, EINVAL, "not a regular file");
    if (st.st_nlink > 1) {
      refuse(path, EMLINK, "it has " + std::to_string(st.st_nlink) +
                               " hard links (another name may be a file outside the logs)");
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return {std::move(fd), st};
  }

  std::unique_ptr<WritableFile> open_writable(const std::string& path, int flags) {
    auto [fd, st] = open_checked(path, flags | O_WRONLY | O_CREAT, 0640);
    return std::make_unique<PosixWritableFile>(std::move(fd), path,
                                               static_cast<uint64_t>(st.st_size), write_back_);
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
  WriteBack* write_back_;
};

}  // namespace

std::unique_ptr<FileSystem> make_posix_file_system(const std::string& root,
                                                   WriteBack* write_back) {
  return std::make_unique<PosixFileSystem>(root, write_back);
}

}  // namespace logguard
