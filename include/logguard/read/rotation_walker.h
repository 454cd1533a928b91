// RotationWalker: finds the rotated files of a log in order while the writer
// keeps rotating, without waiting for the files to hold still.
//
// What it relies on (log_directory.h): a rotation renames .N -> .N+1 down to
// .1 -> .2, then the current file -> .1; files only ever move up; a
// compression puts .k.gz (or .zst) in place, then removes .k. So two names in
// use at the same moment, .k and .k+1, hold consecutive rotations, and a
// rotation under way leaves at most one gap, with the file that was below it
// now just above it. The walker steps from .1 upwards, opening each file and
// then checking that the one before it is still in place (so the two were in
// use together); a gap is stepped over; a file that moved is looked for
// further up. A rotation during the walk costs a step, never the walk.
//
// A file is recognised by its identity while it stays plain, and once
// compressed by its header's lastTime, the time of its last record. A file
// without records is not recognisable once compressed; callers fall back on
// record times (see rotated_between).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logguard/format/compression.h"
#include "logguard/base/file_system.h"

namespace logguard {

// One file of the log, open: readable whatever is renamed or deleted later.
struct OpenedLogFile {
  std::string path;  // the name it was opened under
  size_t index = 0;  // 0: the current file; N: rotation N
  Codec codec = Codec::kNone;
  std::unique_ptr<ReadableFile> file;
  FileId id;
  std::optional<int64_t> header_last_time;  // compressed: its header's lastTime

  bool compressed() const { return codec != Codec::kNone; }
};

// The time of the file's last record: its header's if compressed, else read
// from its end now. nullopt if unknown.
std::optional<int64_t> last_time_of(OpenedLogFile& file);

class RotationWalker {
 public:
  // Opens and looks files up through fs (a name that is not a plain file of
  // the log is refused: file_system.h); a missing name is a gap.
  RotationWalker(FileSystem& fs, std::string dir, std::string base);

  const std::string& current_path() const { return current_path_; }
  // The current file; nullopt if it does not exist (no log yet, or a
  // rotation is between renaming it and creating the next one).
  std::optional<OpenedLogFile> open_current();
  // Which file the current name holds now; nullopt if none.
  std::optional<FileId> current_id();

  struct Found {
    std::vector<OpenedLogFile> files;  // oldest first
    bool missed = false;               // files in between were deleted (max-file) before found
  };
  // The rotated files newer than `old` and older than `next`, oldest first.
  // old: the newest file already read (kept open, so its identity holds);
  // null if none. next: the current file as opened; null if there was none
  // (then every rotated file newer than old). seen_last: the time of the last
  // record read, to place files when old cannot be recognised.
  Found rotated_between(OpenedLogFile* old, OpenedLogFile* next, std::optional<int64_t> seen_last);

 private:
  struct Chain {
    std::vector<OpenedLogFile> files;  // newest first, each rotated just before the previous one
    bool found_old = false;
  };

  std::optional<OpenedLogFile> open_rotated(size_t index);
  bool in_place(const OpenedLogFile& file);
  Chain walk(const OpenedLogFile* old, std::optional<int64_t> old_last);
  bool relocate(Chain& chain, size_t& index);
  std::optional<OpenedLogFile> find_from(size_t index, OpenedLogFile& target,
                                         std::optional<int64_t> target_last);
  bool settled(std::optional<FileId> before);

  FileSystem& fs_;
  std::string dir_;
  std::string base_;
  std::string current_path_;
};

}  // namespace logguard
