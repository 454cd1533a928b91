#include "logguard/log_file.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace logguard {
namespace {

// Buffered bytes beyond this are written before the next record is taken,
// so a writer's memory stays bounded whatever the caller does.
constexpr size_t kFlushThreshold = 64 * 1024;

constexpr std::string_view kTempSuffix = ".tmp";

// Compression temps are unique in the process (not only per LogFile), so no
// two jobs ever share a temp.
uint64_t next_sequence() {
  static std::atomic<uint64_t> seq{0};
  return ++seq;
}

template <typename Fn>
void log_errors(std::string_view what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}", what, e.what());
  }
}

}  // namespace

std::optional<RotatedName> parse_rotated_name(std::string_view name, std::string_view base) {
  if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base ||
      name[base.size()] != '.') {
    return std::nullopt;
  }
  std::string_view rest = name.substr(base.size() + 1);
  Codec form = Codec::kNone;
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    std::string_view ext = codec_extension(c);
    if (rest.size() > ext.size() && rest.substr(rest.size() - ext.size()) == ext) {
      form = c;
      rest.remove_suffix(ext.size());
    }
  }
  if (rest.empty() || rest.size() > 9 || rest[0] == '0') return std::nullopt;
  size_t index = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
  if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
  return RotatedName{index, form};
}

bool is_log_temp_name(std::string_view name, std::string_view base_name) {
  return name.size() > base_name.size() + 1 + kTempSuffix.size() &&
         name.substr(0, base_name.size()) == base_name && name[base_name.size()] == '.' &&
         name.substr(name.size() - kTempSuffix.size()) == kTempSuffix;
}

// The rotated files' bookkeeping, shared between the writer and compression
// jobs. Each rotated file has a sequence number that stays with it while its
// index changes, so a job finds its file wherever rotation has moved it by
// then. There is one per directory in the process (see acquire): jobs outlive
// the LogFile that queued them (a container that exits right after rotating)
// and still finish, and a later LogFile of the same container shares their
// bookkeeping and lock instead of racing them.
struct LogFile::Shared {
  struct Rotated {
    uint64_t seq;
    Codec form;          // kNone while plain
    bool queued;         // a compression job for it is pending or running
    int64_t last_time;   // of its last record; 0 = unknown
  };

  Shared(FileSystem& fs, std::string dir, std::string base, RotationPolicy policy)
      : fs(fs), dir(std::move(dir)), base(std::move(base)), policy(policy) {}

  std::string path(size_t index, Codec form) const {
    return dir + "/" + base + "." + std::to_string(index) + std::string(codec_extension(form));
  }
  std::string temp_path(uint64_t seq) const {
    return dir + "/" + base + ".compress-" + std::to_string(seq) + std::string(kTempSuffix);
  }
  std::string current_path() const { return dir + "/" + base; }

  // Index (1-based) of the file with this sequence number, 0 if gone.
  size_t index_of(uint64_t seq) const {
    for (size_t i = 0; i < rotated.size(); ++i) {
      if (rotated[i].seq == seq) return i + 1;
    }
    return 0;
  }

  // The directory's state, and whether it is new (nothing in this process
  // knew the directory: what is on disk must be recovered first).
  static std::pair<std::shared_ptr<Shared>, bool> acquire(FileSystem& fs, const std::string& dir,
                                                          const std::string& base,
                                                          RotationPolicy policy);

  void recover_locked();
  void drop_excess_locked(size_t keep);
  void shift_locked(int64_t current_last_time);
  bool pin(uint64_t seq, const std::function<void(const std::string&)>& open);
  void finish(uint64_t seq, Codec codec, bool written);

  FileSystem& fs;
  const std::string dir;
  const std::string base;
  RotationPolicy policy;  // guarded by mu; the newest LogFile's
  std::mutex mu;
  std::deque<Rotated> rotated;  // rotated[0] is <base>.1
  // Set when a failed operation may have left the directory differing from
  // `rotated`; the writer then rescans it before going on.
  std::atomic<bool> needs_rescan{false};
};

std::pair<std::shared_ptr<LogFile::Shared>, bool> LogFile::Shared::acquire(
    FileSystem& fs, const std::string& dir, const std::string& base, RotationPolicy policy) {
  static std::mutex registry_mu;
  static std::map<std::pair<FileSystem*, std::string>, std::weak_ptr<Shared>> registry;
  std::lock_guard lock(registry_mu);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = registry[{&fs, dir + "/" + base}];
  if (auto live = slot.lock()) {
    std::lock_guard state_lock(live->mu);
    live->policy = policy;
    return {live, false};
  }
  auto fresh = std::make_shared<Shared>(fs, dir, base, policy);
  slot = fresh;
  return {fresh, true};
}

// Rebuilds `rotated` from the directory, finishing or undoing whatever a
// crash or failure interrupted. Every step leaves a state this same function
// accepts, so a crash during recovery is recovered by the next one.
void LogFile::Shared::recover_locked() {
  std::map<size_t, std::vector<Codec>> found;
  bool changed = false;
  for (const std::string& name : fs.list_dir(dir)) {
    if (is_log_temp_name(name, base)) {
      fs.remove(dir + "/" + name);  // never complete: only synced temps are renamed
      changed = true;
    } else if (auto r = parse_rotated_name(name, base)) {
      found[r->index].push_back(r->form);
    }
  }
  rotated.clear();
  for (auto& [index, forms] : found) {
    // A compressed form exists only once complete, so it wins; a plain twin
    // is the source of a compression that was finishing.
    std::sort(forms.begin(), forms.end(), [](Codec a, Codec b) { return a > b; });
    for (size_t i = 1; i < forms.size(); ++i) {
      fs.remove(path(index, forms[i]));
      changed = true;
    }
    // Close gaps left by an interrupted rotation: indices ascend, so the
    // target index is always free.
    size_t target = rotated.size() + 1;
    if (index != target) {
      fs.rename(path(index, forms[0]), path(target, forms[0]));
      changed = true;
    }
    rotated.push_back({next_sequence(), forms[0], false, 0});
  }
  size_t keep = static_cast<size_t>(std::max(policy.max_file, 1) - 1);
  if (rotated.size() > keep) changed = true;
  drop_excess_locked(keep);
  if (changed) fs.sync_dir(dir);
}

// Removes the oldest rotated files until at most `keep` remain.
void LogFile::Shared::drop_excess_locked(size_t keep) {
  while (rotated.size() > keep) {
    fs.remove(path(rotated.size(), rotated.back().form));
    rotated.pop_back();
  }
}

// Renames .N -> .N+1 (oldest first, whichever form each has) and the current
// file to .1, dropping the oldest to stay within max_file. A failure part way
// leaves a gap, which the next rescan closes.
void LogFile::Shared::shift_locked(int64_t current_last_time) {
  drop_excess_locked(static_cast<size_t>(policy.max_file - 2));
  for (size_t i = rotated.size(); i >= 1; --i) {
    fs.rename(path(i, rotated[i - 1].form), path(i + 1, rotated[i - 1].form));
  }
  fs.rename(current_path(), path(1, Codec::kNone));
  rotated.push_front({next_sequence(), Codec::kNone, false, current_last_time});
}

bool LogFile::Shared::pin(uint64_t seq, const std::function<void(const std::string&)>& open) {
  std::lock_guard lock(mu);
  size_t index = index_of(seq);
  // While a rescan is pending, `rotated` may not match the names on disk.
  if (needs_rescan || index == 0 || rotated[index - 1].form != Codec::kNone) {
    return false;
  }
  open(path(index, Codec::kNone));
  return true;
}

// Puts a finished compression in place: rename the synced temp to the file's
// current index, then remove the plain file. A crash between the two leaves
// both forms, which recovery resolves in favour of the compressed one.
void LogFile::Shared::finish(uint64_t seq, Codec codec, bool written) {
  std::string temp = temp_path(seq);
  {
    std::lock_guard lock(mu);
    size_t index = index_of(seq);
    if (index != 0) rotated[index - 1].queued = false;
    if (!written || needs_rescan || index == 0 || rotated[index - 1].form != Codec::kNone) {
      // Failed, the file was deleted past max_file meanwhile, or the names
      // are in doubt until the next rescan (which queues it again).
      log_errors("removing compression temp", [&] { fs.remove(temp); });
      return;
    }
    try {
      fs.rename(temp, path(index, codec));
    } catch (...) {
      log_errors("removing compression temp", [&] { fs.remove(temp); });
      throw;
    }
    rotated[index - 1].form = codec;
    try {
      fs.remove(path(index, Codec::kNone));
    } catch (...) {
      needs_rescan = true;  // the plain twin is still there
      throw;
    }
  }
  // Outside the lock: on a stalled disk an fsync can take seconds, and the
  // writer's next rotation must not wait for it.
  fs.sync_dir(dir);
}

LogFile::LogFile(FileSystem& fs, std::string dir, std::string base_name, RotationPolicy policy,
                 CompressionQueue* queue, std::shared_ptr<LogWatch> watch)
    : fs_(fs),
      dir_(std::move(dir)),
      base_(std::move(base_name)),
      policy_{policy.max_size, std::max(policy.max_file, 1), policy.codec},
      queue_(policy.codec == Codec::kNone ? nullptr : queue),
      watch_(std::move(watch)) {}

LogFile::~LogFile() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::error("closing {}/{}: {}", dir_, base_, e.what());
  }
}

std::string LogFile::current_path() const { return dir_ + "/" + base_; }

void LogFile::open() {
  close();
  fs_.create_dirs(dir_);
  auto [shared, fresh] = Shared::acquire(fs_, dir_, base_, policy_);
  shared_ = std::move(shared);
  if (fresh || shared_->needs_rescan) {
    std::lock_guard lock(shared_->mu);
    shared_->recover_locked();
    shared_->needs_rescan = false;
  } else {
    // Known in this process (compressions of an earlier session may still be
    // running): only apply this policy's max-file.
    std::lock_guard lock(shared_->mu);
    shared_->drop_excess_locked(static_cast<size_t>(policy_.max_file - 1));
  }
  ensure_current();
  submit_compressions();
}

void LogFile::ensure_current() {
  if (current_) return;
  current_ = fs_.open_append(current_path());
  written_ = fs_.file_size(current_path()).value_or(0);
}

void LogFile::append(std::string_view record, int64_t time_nanos) {
  if (shared_->needs_rescan) rescan();
  if (policy_.max_size > 0 && current_size() > 0 && current_size() >= policy_.max_size) {
    rotate();
  }
  if (buffer_.size() >= kFlushThreshold) flush();
  buffer_.append(record);
  last_time_ = time_nanos;
}

void LogFile::flush() {
  if (buffer_.empty()) return;
  ensure_current();
  write_buffer();
  if (watch_) watch_->notify();
}

// Writes the buffer. On failure, whatever reached the file (a short write
// before ENOSPC) is taken off the buffer so a retry does not duplicate it.
void LogFile::write_buffer() {
  try {
    current_->append(buffer_);
  } catch (...) {
    log_errors("sizing the current file after a failed write", [&] {
      uint64_t size = fs_.file_size(current_path()).value_or(written_);
      size_t landed = static_cast<size_t>(std::min<uint64_t>(
          size > written_ ? size - written_ : 0, buffer_.size()));
      buffer_.erase(0, landed);
      written_ += landed;
    });
    throw;
  }
  written_ += buffer_.size();
  buffer_.clear();
}

void LogFile::rotate() {
  flush();
  if (policy_.max_file <= 1) {
    // json-file's behaviour: start over; open readers keep the old inode.
    fs_.remove(current_path());
  } else {
    std::lock_guard lock(shared_->mu);
    try {
      shared_->shift_locked(last_time_);
    } catch (...) {
      shared_->needs_rescan = true;
      throw;
    }
  }
  // The handle now names .1 (or an unlinked file): never write through it again.
  std::unique_ptr<WritableFile> old = std::move(current_);
  written_ = 0;
  last_time_ = 0;
  if (old) log_errors("closing the rotated file", [&] { old->close(); });
  ensure_current();
  if (watch_) watch_->notify();
  submit_compressions();
  if (policy_.max_file > 1) fs_.sync_dir(dir_);
}

void LogFile::rescan() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->recover_locked();
    shared_->needs_rescan = false;
  }
  submit_compressions();
}

// Offers every plain rotated file not yet queued to the compressor. Files the
// queue refuses stay plain (still counted in max_file) and are offered again
// at the next rotation. Submitting happens outside the lock, so a queue may
// even run a job inline.
void LogFile::submit_compressions() {
  if (!queue_) return;
  std::vector<std::pair<uint64_t, int64_t>> todo;  // seq, last time
  {
    std::lock_guard lock(shared_->mu);
    for (auto& r : shared_->rotated) {
      if (r.form == Codec::kNone && !r.queued) {
        r.queued = true;
        todo.emplace_back(r.seq, r.last_time);
      }
    }
  }
  for (size_t i = 0; i < todo.size(); ++i) {
    if (!queue_->submit(make_job(todo[i].first, todo[i].second))) {
      std::lock_guard lock(shared_->mu);
      for (size_t j = i; j < todo.size(); ++j) {
        if (size_t index = shared_->index_of(todo[j].first)) {
          shared_->rotated[index - 1].queued = false;
        }
      }
      return;
    }
  }
}

CompressionJob LogFile::make_job(uint64_t seq, int64_t last_time) {
  CompressionJob job;
  job.temp_path = shared_->temp_path(seq);
  job.codec = policy_.codec;
  job.last_time_nanos = last_time;
  job.pin_source = [shared = shared_, seq](const auto& open) { return shared->pin(seq, open); };
  job.finish = [shared = shared_, seq, codec = policy_.codec](bool written) {
    shared->finish(seq, codec, written);
  };
  return job;
}

void LogFile::close() {
  std::exception_ptr error;
  try {
    flush();
  } catch (...) {
    error = std::current_exception();
  }
  buffer_.clear();
  // Compressions already queued go on and finish: they hold shared_.
  if (current_) {
    std::unique_ptr<WritableFile> file = std::move(current_);
    log_errors("closing the current file", [&] { file->close(); });
  }
  if (error) std::rethrow_exception(error);
}

std::vector<std::string> log_file_names(FileSystem& fs, const std::string& dir,
                                        const std::string& base_name) {
  std::map<size_t, std::string, std::greater<>> rotated;  // oldest (highest index) first
  bool has_current = false;
  for (const std::string& name : fs.list_dir(dir)) {
    if (name == base_name) {
      has_current = true;
    } else if (auto r = parse_rotated_name(name, base_name)) {
      auto [it, inserted] = rotated.emplace(r->index, name);
      if (!inserted && r->form == Codec::kNone) it->second = name;  // plain is cheaper to read
    }
  }
  std::vector<std::string> paths;
  for (const auto& [index, name] : rotated) paths.push_back(dir + "/" + name);
  if (has_current) paths.push_back(dir + "/" + base_name);
  return paths;
}

}  // namespace logguard
