// FileSystem: the seam for the files a container's log lives in. The real one
// is POSIX; tests use an in-memory one that can fail or "crash" at any step,
// which is how rotation's crash safety is proven.
//
// Errors are reported by throwing std::system_error (errno-style codes), so
// the callers' happy path stays linear; every thread catches at its top.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logguard {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of data (retrying short writes) or throws.
  virtual void append(std::string_view data) = 0;
  virtual void sync() = 0;  // fdatasync
  virtual void close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens for appending, creating with mode 0640 if missing; never truncates.
  virtual std::unique_ptr<WritableFile> open_append(const std::string& path) = 0;
  // Opens for writing, truncating (for temporaries that are renamed into place).
  virtual std::unique_ptr<WritableFile> open_truncate(const std::string& path) = 0;
  // Whole-file read; for small files and tests.
  virtual std::string read_all(const std::string& path) = 0;
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // Removes a file; a missing file is not an error.
  virtual void remove(const std::string& path) = 0;
  virtual std::optional<uint64_t> file_size(const std::string& path) = 0;
  // Names (not paths) of the entries in dir; empty if dir is missing.
  virtual std::vector<std::string> list_dir(const std::string& dir) = 0;
  virtual void create_dirs(const std::string& dir) = 0;
  // Makes renames and creations in dir durable (fsync of the directory).
  virtual void sync_dir(const std::string& dir) = 0;
};

// The real file system.
FileSystem& posix_file_system();

}  // namespace logguard
