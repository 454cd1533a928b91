// FakeFileSystem: an in-memory FileSystem for tests that can fail one
// operation, or "crash" at any operation boundary.
//
// Model (we protect against a process crash, not a power loss): every
// operation that completed is on "disk" — data appended but never synced
// included, as the page cache survives kill -9. A crash stops execution at an
// operation boundary: from then on every call throws FakeCrash and changes
// nothing; recovered_from() gives a fresh file system holding what was there.
//
// Files are inodes: an open handle keeps writing to its file after a rename
// or an unlink, as with POSIX.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include "logguard/base/file_system.h"

namespace logguard::testing {

struct FakeCrash : std::runtime_error {
  FakeCrash() : std::runtime_error("fake crash") {}
};

class FakeFileSystem : public FileSystem {
 public:
  FakeFileSystem() = default;

  // A file system holding what `crashed` held (durably) at its crash.
  static std::unique_ptr<FakeFileSystem> recovered_from(const FakeFileSystem& crashed) {
    auto fs = std::make_unique<FakeFileSystem>();
    std::lock_guard lock(crashed.mu_);
    for (const auto& [path, inode] : crashed.files_) fs->files_[path] = std::make_shared<std::string>(*inode);
    fs->dirs_ = crashed.dirs_;
    fs->links_ = crashed.links_;
    return fs;
  }

  // Mutating operations (open, append, sync, rename, remove, truncate, mkdir,
  // dir sync) so far.
  int mutations() const {
    std::lock_guard lock(mu_);
    return mutations_;
  }
  // The next n mutating operations succeed; then the process "dies".
  void crash_after(int n) {
    std::lock_guard lock(mu_);
    crash_at_ = mutations_ + n;
  }
  // Counts as one mutating operation of this file system (may fail or
  // crash): for other fakes of the same process, such as a stream whose
  // consumption is a step the crash tests must also stop at.
  void operation() {
    std::lock_guard lock(mu_);
    mutate();
  }
  bool crashed() const {
    std::lock_guard lock(mu_);
    return crashed_;
  }
  // The next n mutating operations succeed; the one after fails once with
  // `error`, without effect — except that an append first writes `partial`
  // bytes of its data, as a short write before ENOSPC does.
  void fail_after(int n, std::errc error, size_t partial = 0) {
    std::lock_guard lock(mu_);
    fail_at_ = mutations_ + n;
    fail_error_ = error;
    fail_partial_ = partial;
  }

  // Test setup and inspection; not counted, not subject to failures.
  void put(const std::string& path, std::string data) {
    std::lock_guard lock(mu_);
    files_[path] = std::make_shared<std::string>(std::move(data));
    add_dirs(parent(path));
  }
  std::map<std::string, std::string> files() const {
    std::lock_guard lock(mu_);
    std::map<std::string, std::string> out;
    for (const auto& [path, inode] : files_) out[path] = *inode;
    return out;
  }
  bool exists(const std::string& path) const {
    std::lock_guard lock(mu_);
    return files_.count(path) != 0;
  }

  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    require_dir(parent(path), path);
    auto& inode = files_[path];
    if (!inode) inode = std::make_shared<std::string>();
    return std::make_unique<File>(this, inode);
  }

  std::unique_ptr<WritableFile> create_exclusive(const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    require_dir(parent(path), path);
    if (files_.count(path)) throw std::system_error(EEXIST, std::generic_category(), path);
    auto& inode = files_[path];
    inode = std::make_shared<std::string>();
    return std::make_unique<File>(this, inode);
  }

  std::unique_ptr<WritableFile> open_overwrite(const std::string& path) override {
    return open_append(path);  // this fake's files append on append() and overwrite on write_at()
  }

  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    require_dir(parent(path), path);
    auto& inode = files_[path];
    if (inode) {
      inode->clear();
    } else {
      inode = std::make_shared<std::string>();
    }
    return std::make_unique<File>(this, inode);
  }

  std::unique_ptr<ReadableFile> open_read(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    return std::make_unique<Reader>(this, find(path));
  }

  std::string read_all(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    return *find(path);
  }

  void rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mu_);
    mutate();
    auto inode = find(from);
    require_dir(parent(to), to);
    files_.erase(from);
    files_[to] = inode;
    links_.erase(to);
    if (links_.erase(from)) links_.insert(to);
  }

  void rename_noreplace(const std::string& from, const std::string& to) override {
    {
      std::lock_guard lock(mu_);
      check_alive();
      if (files_.count(to) || dirs_.count(to)) {
        throw std::system_error(EEXIST, std::generic_category(), to);
      }
    }
    rename(from, to);
  }

  void remove(const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    files_.erase(path);
    links_.erase(path);
  }

  void remove_dir(const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    for (const auto& [file, inode] : files_) {
      if (parent(file) == path) throw std::system_error(ENOTEMPTY, std::generic_category(), path);
    }
    dirs_.erase(path);
  }

  void truncate(const std::string& path, uint64_t size) override {
    std::lock_guard lock(mu_);
    mutate();
    auto inode = find(path);
    inode->resize(std::min<uint64_t>(size, inode->size()));
  }

  // Modification times: set by tests (set_modified), else 0.
  std::optional<int64_t> modified_nanos(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    if (files_.count(path) == 0 && dirs_.count(path) == 0) return std::nullopt;
    auto it = modified_.find(path);
    return it == modified_.end() ? 0 : it->second;
  }
  void set_modified(const std::string& path, int64_t nanos) {
    std::lock_guard lock(mu_);
    modified_[path] = nanos;
  }

  EntryType entry_type(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    if (files_.count(path)) return is_link(path) ? EntryType::kOther : EntryType::kFile;
    if (dirs_.count(path)) return EntryType::kDirectory;
    return EntryType::kMissing;
  }

  std::optional<uint64_t> file_size(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second->size();
  }

  std::optional<FileId> file_id(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return id_of(it->second);
  }

  std::vector<std::string> list_dir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    check_alive();
    std::vector<std::string> names;
    for (const auto& [path, inode] : files_) {
      if (parent(path) == dir) names.push_back(path.substr(dir.size() + 1));
    }
    for (const auto& d : dirs_) {
      if (parent(d) == dir) names.push_back(d.substr(dir.size() + 1));
    }
    return names;
  }

  void create_dirs(const std::string& dir) override {
    std::lock_guard lock(mu_);
    mutate();
    add_dirs(dir);
  }

  // A link is a file whose content is its target, marked as a link.
  void create_symlink(const std::string& target, const std::string& path) override {
    std::lock_guard lock(mu_);
    mutate();
    require_dir(parent(path), path);
    if (files_.count(path)) throw std::system_error(EEXIST, std::generic_category(), path);
    files_[path] = std::make_shared<std::string>(target);
    links_.insert(path);
  }
  std::optional<std::string> read_symlink(const std::string& path) override {
    std::lock_guard lock(mu_);
    check_alive();
    auto it = files_.find(path);
    if (it == files_.end() || !is_link(path)) return std::nullopt;
    return *it->second;
  }

  void sync_dir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    mutate();
    require_dir(dir, dir);
  }

 private:
  class Reader : public ReadableFile {
   public:
    Reader(FakeFileSystem* fs, std::shared_ptr<std::string> inode) : fs_(fs), inode_(std::move(inode)) {}
    size_t read_at(uint64_t offset, char* buf, size_t n) override {
      std::lock_guard lock(fs_->mu_);
      fs_->check_alive();
      if (offset >= inode_->size()) return 0;
      n = std::min<size_t>(n, inode_->size() - offset);
      std::copy_n(inode_->data() + offset, n, buf);
      return n;
    }
    uint64_t size() override {
      std::lock_guard lock(fs_->mu_);
      return inode_->size();
    }
    FileId id() override { return id_of(inode_); }

   private:
    FakeFileSystem* fs_;
    std::shared_ptr<std::string> inode_;
  };

  class File : public WritableFile {
   public:
    File(FakeFileSystem* fs, std::shared_ptr<std::string> inode) : fs_(fs), inode_(std::move(inode)) {}
    void append(std::string_view data) override {
      std::lock_guard lock(fs_->mu_);
      if (!inode_) throw std::system_error(EBADF, std::generic_category(), "append after close");
      try {
        fs_->mutate();
      } catch (const std::system_error&) {
        inode_->append(data.substr(0, std::min(fs_->fail_partial_, data.size())));
        throw;
      }
      inode_->append(data);
    }
    void write_at(uint64_t offset, std::string_view data) override {
      std::lock_guard lock(fs_->mu_);
      if (!inode_) throw std::system_error(EBADF, std::generic_category(), "write after close");
      fs_->mutate();
      if (inode_->size() < offset + data.size()) inode_->resize(offset + data.size());
      inode_->replace(offset, data.size(), data);
    }
    void sync() override {
      std::lock_guard lock(fs_->mu_);
      fs_->mutate();
    }
    void close() override { inode_.reset(); }
    bool unlinked() override {
      std::lock_guard lock(fs_->mu_);
      return std::none_of(fs_->files_.begin(), fs_->files_.end(),
                          [&](const auto& f) { return f.second == inode_; });
    }

   private:
    FakeFileSystem* fs_;
    std::shared_ptr<std::string> inode_;
  };

  // An inode's identity: its address, stable while anything holds it.
  static FileId id_of(const std::shared_ptr<std::string>& inode) {
    return FileId{0, reinterpret_cast<uintptr_t>(inode.get())};
  }
  static std::string parent(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  }
  void add_dirs(const std::string& dir) {
    for (std::string d = dir; d != "/" && !d.empty(); d = parent(d)) dirs_.insert(d);
  }
  void require_dir(const std::string& dir, const std::string& path) const {
    if (dir != "/" && dirs_.count(dir) == 0) {
      throw std::system_error(ENOENT, std::generic_category(), "no directory for " + path);
    }
  }
  std::shared_ptr<std::string> find(const std::string& path) const {
    auto it = files_.find(path);
    if (it == files_.end()) throw std::system_error(ENOENT, std::generic_category(), path);
    return it->second;
  }
  void check_alive() const {
    if (crashed_) throw FakeCrash();
  }
  // Called (under mu_) before each mutating operation takes effect.
  void mutate() {
    check_alive();
    if (mutations_ == crash_at_) {
      crashed_ = true;
      throw FakeCrash();
    }
    if (mutations_ == fail_at_) {
      fail_at_ = -1;
      throw std::system_error(std::make_error_code(fail_error_));
    }
    ++mutations_;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::string>> files_;
  std::set<std::string> dirs_;
  std::map<std::string, int64_t> modified_;
  std::set<std::string> links_;
  bool is_link(const std::string& path) const { return links_.count(path) != 0; }
  int mutations_ = 0;
  int crash_at_ = -1;
  int fail_at_ = -1;
  std::errc fail_error_ = std::errc::io_error;
  size_t fail_partial_ = 0;
  bool crashed_ = false;
};

}  // namespace logguard::testing
