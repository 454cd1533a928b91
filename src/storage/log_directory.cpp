#include "logguard/storage/log_directory.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>

#include <spdlog/spdlog.h>

#include "logguard/format/log_names.h"
#include "logguard/base/warn_on_error.h"

namespace logguard {
namespace {

// Sequence numbers are unique in the process, so no two jobs ever mix up files.
uint64_t next_sequence() {
  static std::atomic<uint64_t> seq{0};
  return ++seq;
}

std::string random_token() {
  std::random_device random;
  char buf[40];
  std::snprintf(buf, sizeof buf, "compress-%08x%08x", random(), random());
  return buf;
}

}  // namespace

LogDirectory::LogDirectory(FileSystem& fs, std::string dir, std::string base)
    : fs_(fs), dir_(std::move(dir)), base_(std::move(base)) {}

std::string LogDirectory::path(size_t index, Codec form) const {
  return dir_ + "/" + rotated_name(base_, index, form);
}

std::string LogDirectory::new_temp_path(uint64_t seq) const {
  return dir_ + "/" + temp_name(base_, random_token() + "-" + std::to_string(seq));
}

size_t LogDirectory::index_of(uint64_t seq) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].seq == seq) return i + 1;
  }
  return 0;
}

void LogDirectory::attach_writer(int max_file) {
  std::lock_guard lock(mu_);
  // Under the lock: removal (remove_if_idle) cannot slip in between.
  fs_.create_dirs(dir_);
  if (!recovered_ || needs_rescan_) {
    recover_locked(max_file);
  } else {
    // Known in this process (compressions of an earlier session may still be
    // running): only apply this writer's max-file.
    drop_excess_locked(static_cast<size_t>(std::max(max_file, 1) - 1));
  }
  ++writers_;
}

void LogDirectory::detach_writer() {
  std::lock_guard lock(mu_);
  if (writers_ > 0) --writers_;
}

void LogDirectory::hold() {
  std::lock_guard lock(mu_);
  ++holders_;
}

void LogDirectory::release() {
  std::lock_guard lock(mu_);
  if (holders_ > 0) --holders_;
}

bool LogDirectory::in_use() const {
  std::lock_guard lock(mu_);
  return writers_ > 0 || holders_ > 0;
}

void LogDirectory::rescan_after_removal(int max_file) {
  std::lock_guard lock(mu_);
  recover_locked(max_file);
}

bool LogDirectory::rescan_if_needed(int max_file) {
  if (!needs_rescan_) return false;
  std::lock_guard lock(mu_);
  recover_locked(max_file);
  return true;
}

// Rebuilds entries_ from the directory, finishing or undoing whatever a crash
// or failure interrupted. Every step leaves a state this same function
// accepts, so a crash during recovery is recovered by the next one.
void LogDirectory::recover_locked(int max_file) {
  std::map<size_t, std::vector<Codec>> found;
  bool changed = false;
  for (const std::string& name : fs_.list_dir(dir_)) {
    if (is_temp_name(name, base_)) {
      fs_.remove(dir_ + "/" + name);  // never complete: only synced temps are renamed
      changed = true;
    } else if (auto r = parse_rotated_name(name, base_)) {
      if (is_ours(name)) found[r->index].push_back(r->form);
    }
  }
  entries_.clear();
  for (auto& [index, forms] : found) {
    // A compressed form exists only once complete, so it wins; a plain twin
    // is the source of a compression that was finishing.
    std::sort(forms.begin(), forms.end(), [](Codec a, Codec b) { return a > b; });
    for (size_t i = 1; i < forms.size(); ++i) {
      fs_.remove(path(index, forms[i]));
      changed = true;
    }
    // Close gaps left by an interrupted rotation or eviction: indices
    // ascend, so the target index is always free.
    size_t target = entries_.size() + 1;
    if (index != target) {
      fs_.rename(path(index, forms[0]), path(target, forms[0]));
      changed = true;
    }
    entries_.push_back({next_sequence(), forms[0], false, 0});
  }
  size_t keep = static_cast<size_t>(std::max(max_file, 1) - 1);
  if (entries_.size() > keep) changed = true;
  drop_excess_locked(keep);
  if (changed) fs_.sync_dir(dir_);
  recovered_ = true;
  needs_rescan_ = false;
}

// Only a regular file under a rotated name is a rotated file: a FIFO, link
// or directory planted there is left where it is, never renamed into the
// log, opened or counted (a FIFO once moved to .1 ended a reattaching
// session that read its tail, and the container blocked on its stream). A
// rotation renames over it.
bool LogDirectory::is_ours(const std::string& name) const {
  if (fs_.entry_type(dir_ + "/" + name) == EntryType::kFile) return true;
  spdlog::warn("{}/{} is not a regular file: left alone, not part of the log", dir_, name);
  return false;
}

void LogDirectory::drop_excess_locked(size_t keep) {
  while (entries_.size() > keep) {
    fs_.remove(path(entries_.size(), entries_.back().form));
    entries_.pop_back();
  }
}

// A failure part way leaves a gap, which the next rescan closes.
void LogDirectory::rotate(int max_file, int64_t last_time) {
  std::lock_guard lock(mu_);
  try {
    drop_excess_locked(static_cast<size_t>(std::max(max_file - 2, 0)));
    for (size_t i = entries_.size(); i >= 1; --i) {
      fs_.rename(path(i, entries_[i - 1].form), path(i + 1, entries_[i - 1].form));
    }
    fs_.rename(current_path(), path(1, Codec::kNone));
  } catch (...) {
    needs_rescan_ = true;
    throw;
  }
  entries_.push_front({next_sequence(), Codec::kNone, false, last_time});
}

std::vector<LogDirectory::Pending> LogDirectory::take_uncompressed() {
  std::lock_guard lock(mu_);
  std::vector<Pending> out;
  for (auto& e : entries_) {
    if (e.form == Codec::kNone && !e.queued) {
      e.queued = true;
      out.push_back({e.seq, e.last_time});
    }
  }
  return out;
}

void LogDirectory::unqueue(const std::vector<uint64_t>& seqs) {
  std::lock_guard lock(mu_);
  for (uint64_t seq : seqs) {
    if (size_t index = index_of(seq)) entries_[index - 1].queued = false;
  }
}

std::unique_ptr<ReadableFile> LogDirectory::open_to_compress(uint64_t seq) {
  std::lock_guard lock(mu_);
  size_t index = index_of(seq);
  // While a rescan is pending, entries_ may not match the names on disk.
  if (needs_rescan_ || index == 0 || entries_[index - 1].form != Codec::kNone) return nullptr;
  return fs_.open_read(path(index, Codec::kNone));
}

// Renames the synced temp to the file's current index, then removes the
// plain file. A crash between the two leaves both forms, which recovery
// resolves in favour of the compressed one.
void LogDirectory::finish_compression(uint64_t seq, const std::string& temp, Codec codec,
                                      bool written) {
  {
    std::lock_guard lock(mu_);
    size_t index = index_of(seq);
    if (index != 0) entries_[index - 1].queued = false;
    if (!written || needs_rescan_ || index == 0 || entries_[index - 1].form != Codec::kNone) {
      // Failed, the file was deleted (max-file, eviction) meanwhile, or the
      // names are in doubt until the next rescan (which queues it again).
      warn_on_error("removing compression temp", [&] { fs_.remove(temp); });
      return;
    }
    try {
      fs_.rename(temp, path(index, codec));
    } catch (...) {
      warn_on_error("removing compression temp", [&] { fs_.remove(temp); });
      throw;
    }
    entries_[index - 1].form = codec;
    try {
      fs_.remove(path(index, Codec::kNone));
    } catch (...) {
      needs_rescan_ = true;  // the plain twin is still there
      throw;
    }
  }
  // Outside the lock: on a stalled disk an fsync can take seconds, and the
  // writer's next rotation must not wait for it.
  fs_.sync_dir(dir_);
}

std::optional<uint64_t> LogDirectory::evict_oldest() {
  std::lock_guard lock(mu_);
  // Never recovered here (a container without a session): keep every rotation.
  if (!recovered_ || needs_rescan_) recover_locked(std::numeric_limits<int>::max());
  if (entries_.empty()) return std::nullopt;
  const std::string victim = path(entries_.size(), entries_.back().form);
  uint64_t size = fs_.file_size(victim).value_or(0);
  fs_.remove(victim);
  entries_.pop_back();
  return size;
}

std::optional<uint64_t> LogDirectory::remove_if_idle() {
  std::lock_guard lock(mu_);
  if (writers_ > 0 || holders_ > 0) return std::nullopt;
  uint64_t freed = 0;
  for (const std::string& name : fs_.list_dir(dir_)) {
    if (name != base_ && !parse_rotated_name(name, base_) && !is_temp_name(name, base_)) continue;
    const std::string path = dir_ + "/" + name;
    freed += fs_.file_size(path).value_or(0);
    fs_.remove(path);
  }
  entries_.clear();
  recovered_ = false;
  try {
    fs_.remove_dir(dir_);
  } catch (const std::system_error& e) {
    // Something else lives there (or a compression temp just appeared): the
    // log files are gone, the directory stays.
    spdlog::debug("{} not removed: {}", dir_, e.what());
  }
  return freed;
}

std::vector<LogDirectory::Rotated> LogDirectory::rotated() const {
  std::lock_guard lock(mu_);
  std::vector<Rotated> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    out.push_back({i + 1, entries_[i].form, path(i + 1, entries_[i].form)});
  }
  return out;
}

std::shared_ptr<LogDirectory> LogDirectories::find(const std::string& dir,
                                                   const std::string& base) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir + "/" + base);
  return it == dirs_.end() ? nullptr : it->second.lock();
}

size_t LogDirectories::sweep() {
  std::lock_guard lock(mu_);
  return sweep_locked();
}

size_t LogDirectories::sweep_locked() {
  return std::erase_if(dirs_, [](const auto& entry) { return entry.second.expired(); });
}

size_t LogDirectories::size() {
  std::lock_guard lock(mu_);
  return dirs_.size();
}

std::shared_ptr<LogDirectory> LogDirectories::acquire(const std::string& dir,
                                                      const std::string& base) {
  std::lock_guard lock(mu_);
  sweep_locked();
  auto& slot = dirs_[dir + "/" + base];
  if (auto live = slot.lock()) return live;
  auto fresh = std::make_shared<LogDirectory>(fs_, dir, base);
  slot = fresh;
  return fresh;
}

}  // namespace logguard
