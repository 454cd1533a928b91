// InputFiles: what reading a container's log needs of its files, the
// reader's seam (as FileSystem is the writer's). Beyond listing and reading
// by offset it needs two facts FileSystem does not offer yet:
//  - which file a name or an open file is (device and inode), to tell
//    whether a name still holds the file opened under it while rotations
//    rename files, and
//  - the records of an open compressed file and its header's lastTime,
//    read through the descriptor (the name may hold another file by then).
// Once file_system.h and compression.h offer both (FileSystem::file_id,
// ReadableFile::id, open_byte_source and read_last_time over a
// ReadableFile), the real InputFiles is a thin adapter over FileSystem.
//
// Errors other than a missing file throw std::system_error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logguard/compression.h"
#include "logguard/file_system.h"

namespace logguard {

// Which file: equal for the same file whatever its names, and never equal
// for two files both alive (an inode number is reused only once freed).
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

// An open file of a log; it stays readable whatever is renamed or deleted.
class InputFile : public ReadableFile {
 public:
  virtual FileId id() = 0;
  // The decompressed bytes of a compressed file from its start. This file
  // must outlive the source. Only one source per file at a time.
  virtual std::unique_ptr<ByteSource> decompress(Codec codec) = 0;
  // The lastTime in a compressed file's header; nullopt if it has none or
  // it is unreadable.
  virtual std::optional<int64_t> header_last_time(Codec codec) = 0;
};

class InputFiles {
 public:
  virtual ~InputFiles() = default;
  // Entry names of dir; empty if dir is missing.
  virtual std::vector<std::string> list_dir(const std::string& dir) = 0;
  // Opens for reading; null if the name does not exist.
  virtual std::unique_ptr<InputFile> open(const std::string& path) = 0;
  // Which file the name holds (a symbolic link is not followed); nullopt if
  // the name does not exist.
  virtual std::optional<FileId> id(const std::string& path) = 0;
};

// The real files (POSIX; links in the last component are not followed).
InputFiles& posix_input_files();

}  // namespace logguard
