// FileSystem: the seam for the files of the log root (as LevelDB's Env):
// every file the plugin writes, reads back or compresses there goes through
// it. The real one is POSIX; tests use an in-memory one that can fail or
// "crash" at any step, which is how rotation's and reattach's crash safety
// are proven.
//
// Files are opened only if they are what the plugin makes: a regular file
// with one name. A symbolic link, a FIFO, a device, a directory or a file
// with another hard link (which could be a file outside the logs) is
// refused with an error naming it, and left untouched.
//
// Errors are reported by throwing std::system_error (errno-style codes), so
// the callers' happy path stays linear; every thread catches at its top.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/base/unique_fd.h"

namespace logguard {

// Which file: equal for the same file whatever its names, and never equal
// for two files both alive (an inode number is reused only once freed).
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of data (retrying short writes) or throws.
  virtual void append(std::string_view data) = 0;
  // Writes all of data at offset (for files opened by open_overwrite or
  // open_truncate; an appending file appends whatever the offset).
  virtual void write_at(uint64_t offset, std::string_view data) = 0;
  // fdatasync; what the write-back still holds is handed over first, at its
  // pace, so a sync does not push a burst at the disk.
  virtual void sync() = 0;
  virtual void close() = 0;
  // Whether no name links to the file any more (someone deleted it): one
  // fstat, where looking its path up again walks every component.
  virtual bool unlinked() = 0;
};

class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Up to n bytes at offset; fewer only at the end of the file.
  virtual size_t read_at(uint64_t offset, char* buf, size_t n) = 0;
  // The size now (a file being appended to grows).
  virtual uint64_t size() = 0;
  // Which file this is, whatever is renamed or deleted meanwhile.
  virtual FileId id() = 0;
};

// What a directory entry is, without following a symbolic link.
enum class EntryType { kMissing, kFile, kDirectory, kOther };

// A regular file in a directory, as list_files() sees it.
struct FileEntry {
  std::string name;
  uint64_t size = 0;
  int64_t modified_nanos = 0;  // Unix nanoseconds
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens for appending, creating with mode 0640 if missing; never truncates.
  virtual std::unique_ptr<WritableFile> open_append(const std::string& path) = 0;
  // Opens for writing, truncating (for temporaries that are renamed into
  // place, and the probe file); what was there is checked before it is cut.
  virtual std::unique_ptr<WritableFile> open_truncate(const std::string& path) = 0;
  // Opens for writing in place with write_at, creating it if missing; never
  // truncates.
  virtual std::unique_ptr<WritableFile> open_overwrite(const std::string& path) = 0;
  // Opens for reading; throws std::system_error (ENOENT if missing).
  virtual std::unique_ptr<ReadableFile> open_read(const std::string& path) = 0;
  // Creates path, which must not exist (EEXIST), for writing (the
  // compressor's temps: nothing planted there can be one).
  virtual std::unique_ptr<WritableFile> create_exclusive(const std::string& path) = 0;
  // Whole-file read; for small files and tests.
  virtual std::string read_all(const std::string& path) = 0;
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // Like rename, but never replaces: throws EEXIST if `to` exists.
  virtual void rename_noreplace(const std::string& from, const std::string& to) = 0;
  // Removes a file; a missing file is not an error.
  virtual void remove(const std::string& path) = 0;
  // Removes an empty directory; a missing one is not an error.
  virtual void remove_dir(const std::string& path) = 0;
  // Cuts a file to `size` bytes.
  virtual void truncate(const std::string& path, uint64_t size) = 0;
  virtual std::optional<uint64_t> file_size(const std::string& path) = 0;
  // Last modification, Unix nanoseconds; nullopt if missing.
  virtual std::optional<int64_t> modified_nanos(const std::string& path) = 0;
  virtual EntryType entry_type(const std::string& path) = 0;
  // Which file the name holds (a symbolic link is not followed); nullopt if
  // the name does not exist.
  virtual std::optional<FileId> file_id(const std::string& path) = 0;
  // Names (not paths) of the entries in dir; empty if dir is missing.
  virtual std::vector<std::string> list_dir(const std::string& dir) = 0;
  // The regular files in dir (not links) with their sizes and times;
  // nullopt if dir is missing or not a directory. The real file system
  // looks dir up once, not once per file (the node guard lists every
  // container's directory every second).
  virtual std::optional<std::vector<FileEntry>> list_files(const std::string& dir) {
    if (entry_type(dir) != EntryType::kDirectory) return std::nullopt;
    std::vector<FileEntry> files;
    for (std::string& name : list_dir(dir)) {
      const std::string path = dir + "/" + name;
      if (entry_type(path) != EntryType::kFile) continue;
      auto size = file_size(path);
      if (!size) continue;  // gone meanwhile
      files.push_back({std::move(name), *size, modified_nanos(path).value_or(0)});
    }
    return files;
  }
  virtual void create_dirs(const std::string& dir) = 0;
  // Makes path a symbolic link holding `target` (not followed, not checked).
  virtual void create_symlink(const std::string& target, const std::string& path) = 0;
  // The text of the symbolic link at path; nullopt if path is missing or not a link.
  virtual std::optional<std::string> read_symlink(const std::string& path) = 0;
  // Makes renames and creations in dir durable (fsync of the directory).
  virtual void sync_dir(const std::string& dir) = 0;
};

// Forwards every call to another FileSystem; tests derive from it and
// override only what they change (as LevelDB's EnvWrapper).
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem& target) : target_(target) {}
  FileSystem& target() { return target_; }

  std::unique_ptr<WritableFile> open_append(const std::string& path) override {
    return target_.open_append(path);
  }
  std::unique_ptr<WritableFile> open_truncate(const std::string& path) override {
    return target_.open_truncate(path);
  }
  std::unique_ptr<WritableFile> open_overwrite(const std::string& path) override {
    return target_.open_overwrite(path);
  }
  std::unique_ptr<ReadableFile> open_read(const std::string& path) override {
    return target_.open_read(path);
  }
  std::unique_ptr<WritableFile> create_exclusive(const std::string& path) override {
    return target_.create_exclusive(path);
  }
  std::string read_all(const std::string& path) override { return target_.read_all(path); }
  void rename(const std::string& from, const std::string& to) override { target_.rename(from, to); }
  void rename_noreplace(const std::string& from, const std::string& to) override {
    target_.rename_noreplace(from, to);
  }
  void remove(const std::string& path) override { target_.remove(path); }
  void remove_dir(const std::string& path) override { target_.remove_dir(path); }
  void truncate(const std::string& path, uint64_t size) override { target_.truncate(path, size); }
  std::optional<uint64_t> file_size(const std::string& path) override {
    return target_.file_size(path);
  }
  std::optional<int64_t> modified_nanos(const std::string& path) override {
    return target_.modified_nanos(path);
  }
  EntryType entry_type(const std::string& path) override { return target_.entry_type(path); }
  std::optional<FileId> file_id(const std::string& path) override {
    return target_.file_id(path);
  }
  std::vector<std::string> list_dir(const std::string& dir) override { return target_.list_dir(dir); }
  std::optional<std::vector<FileEntry>> list_files(const std::string& dir) override {
    return target_.list_files(dir);
  }
  void create_dirs(const std::string& dir) override { target_.create_dirs(dir); }
  void create_symlink(const std::string& target, const std::string& path) override {
    target_.create_symlink(target, path);
  }
  std::optional<std::string> read_symlink(const std::string& path) override {
    return target_.read_symlink(path);
  }
  void sync_dir(const std::string& dir) override { target_.sync_dir(dir); }

 private:
  FileSystem& target_;
};

}  // namespace logguard
