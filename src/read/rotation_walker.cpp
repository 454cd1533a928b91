#include "logguard/read/rotation_walker.h"

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "logguard/format/log_names.h"
#include "logguard/read/log_seek.h"

namespace logguard {
namespace {

// Looks at the end of the names taken again when a rotation finished during
// the look. Only a writer rotating faster than a few stats exhausts them (or
// max-file 1, where there are no rotated files and "the end" is right).
constexpr int kSettleAttempts = 8;

// Whether `file` is `target` (whose last record is at target_last), renamed
// by rotations or compressed since.
bool same_rotation(const OpenedLogFile& file, const OpenedLogFile& target,
                   std::optional<int64_t> target_last) {
  if (file.id == target.id) return true;
  return file.compressed() && !target.compressed() && target_last &&
         file.header_last_time == *target_last;
}

std::optional<OpenedLogFile> open_log_file(FileSystem& fs, std::string path, size_t index,
                                           Codec codec) {
  std::unique_ptr<ReadableFile> file;
  try {
    file = fs.open_read(path);
  } catch (const std::system_error& e) {
    if (e.code().value() == ENOENT) return std::nullopt;
    throw;
  }
  OpenedLogFile opened{std::move(path), index, codec, std::move(file), {}, std::nullopt};
  opened.id = opened.file->id();
  if (opened.compressed()) opened.header_last_time = read_last_time(*opened.file, codec);
  return opened;
}

}  // namespace

std::optional<int64_t> last_time_of(OpenedLogFile& file) {
  if (file.compressed()) return file.header_last_time;
  return last_record_time(*file.file, file.file->size());
}

RotationWalker::RotationWalker(FileSystem& fs, std::string dir, std::string base)
    : fs_(fs), dir_(std::move(dir)), base_(std::move(base)),
      current_path_(dir_ + "/" + base_) {}

std::optional<OpenedLogFile> RotationWalker::open_current() {
  return open_log_file(fs_, current_path_, 0, Codec::kNone);
}

std::optional<FileId> RotationWalker::current_id() { return fs_.file_id(current_path_); }

// The file now at rotation `index`. Of a rotation in both forms (a
// compression finishing) readers take the plain one (log_names.h), so the
// plain name is tried first.
std::optional<OpenedLogFile> RotationWalker::open_rotated(size_t index) {
  for (Codec codec : {Codec::kNone, Codec::kGzip, Codec::kZstd}) {
    auto file = open_log_file(fs_, dir_ + "/" + rotated_name(base_, index, codec), index, codec);
    if (file) return file;
  }
  return std::nullopt;
}

bool RotationWalker::in_place(const OpenedLogFile& file) {
  auto now = fs_.file_id(file.path);
  return now && *now == file.id;
}

// Whether no rotation finished since the current file's identity was
// `before`: each one ends by renaming the current file.
bool RotationWalker::settled(std::optional<FileId> before) {
  return before && current_id() == before;
}

// The rotated files newer than `old` (all of them without one), newest first.
// Each step opens the file above the last one found, then checks that one is
// still in place: if so, both were in use together, hence consecutive. If
// .k+1 is missing, a rotation under way has moved its file to .k+2 (it
// renames top-down, so .k+2 stays in use until it ends); if .k+2 is missing
// too, .k was the oldest.
RotationWalker::Chain RotationWalker::walk(const OpenedLogFile* old,
                                           std::optional<int64_t> old_last) {
  Chain chain;
  size_t index = 0;  // where chain.files.back() is; 0 before the first
  for (int unsettled = 0;;) {
    // Before the first file nothing vouches for the names; the current file
    // does: while it stays, no rotation ends, and .1 or .2 is in use if any is.
    std::optional<FileId> before = index == 0 ? current_id() : std::nullopt;
    auto older = open_rotated(index + 1);
    if (!older) older = open_rotated(index + 2);
    if (index > 0 && !in_place(chain.files.back())) {
      if (!relocate(chain, index)) return chain;  // gone, and `old` with it
      continue;
    }
    if (!older) {
      if (index == 0 && !settled(before) && ++unsettled < kSettleAttempts) continue;
      return chain;
    }
    if (old && same_rotation(*older, *old, old_last)) {
      chain.found_old = true;
      return chain;
    }
    index = older->index;
    chain.files.push_back(std::move(*older));
  }
}

// The last file of the chain left its name: a rotation moved it up, or it was
// compressed in place. Looks for it from there up (files only move up);
// false if it is gone (deleted past max-file). A plain file without records
// is not recognisable once compressed: it is dropped, and found again as the
// file before the previous one.
bool RotationWalker::relocate(Chain& chain, size_t& index) {
  while (!chain.files.empty()) {
    OpenedLogFile& last = chain.files.back();
    std::optional<int64_t> last_at = last.compressed() ? std::nullopt : last_time_of(last);
    if (last.compressed() || last_at) {
      auto found = find_from(last.index, last, last_at);
      if (!found) return false;
      last = std::move(*found);
      index = last.index;
      return true;
    }
    chain.files.pop_back();
  }
  index = 0;
  return true;
}

// `target` at rotation `index` or above. Invariant: target is at `at` or
// above, as it only moves up and is not below any index looked at.
std::optional<OpenedLogFile> RotationWalker::find_from(size_t index, OpenedLogFile& target,
                                                       std::optional<int64_t> target_last) {
  for (size_t at = index, unsettled = 0;;) {
    std::optional<FileId> before = current_id();
    auto file = open_rotated(at);
    if (file && same_rotation(*file, target, target_last)) return file;
    // Another file, or a gap a rotation under way left: look further up.
    if (file || open_rotated(at + 1)) {
      ++at;
      continue;
    }
    // Neither .at nor .at+1 in use while no rotation ended: past the end.
    if (!settled(before) && ++unsettled < kSettleAttempts) continue;
    return std::nullopt;
  }
}

RotationWalker::Found RotationWalker::rotated_between(OpenedLogFile* old, OpenedLogFile* next,
                                                      std::optional<int64_t> seen_last) {
  std::optional<int64_t> old_last = old ? last_time_of(*old) : std::nullopt;
  Chain chain = walk(old, old_last);
  if (next) {
    // `next` may have been rotated (even compressed) since it was opened; if
    // so it is complete by now, so its last time identifies it.
    auto next_last = last_time_of(*next);
    auto newer = std::find_if(chain.files.rbegin(), chain.files.rend(),
                              [&](const OpenedLogFile& f) { return same_rotation(f, *next, next_last); });
    chain.files.erase(chain.files.begin(), newer.base());  // `next` and what came after it
  }
  Found found;
  if (old && !chain.found_old) {
    // `old` is gone (deleted by max-file) and files after it perhaps too,
    // or, holding no record, it cannot be told once compressed: keep what is
    // newer by time.
    found.missed = old_last && !chain.files.empty();
    if (!old_last) old_last = seen_last;
    std::erase_if(chain.files, [&](OpenedLogFile& file) {
      auto last = last_time_of(file);
      return !last || !old_last || *last <= *old_last;
    });
  }
  found.files.assign(std::make_move_iterator(chain.files.rbegin()),
                     std::make_move_iterator(chain.files.rend()));
  return found;
}

}  // namespace logguard
