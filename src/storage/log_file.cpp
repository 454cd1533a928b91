#include "logguard/storage/log_file.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "logguard/base/warn_on_error.h"

namespace logguard {
namespace {

// Buffered bytes beyond this are written before the next record is taken,
// so a writer's memory stays bounded whatever the caller does.
constexpr size_t kFlushThreshold = 64 * 1024;
// How far back from the end open() looks for the last '\n' of a torn record.
constexpr size_t kTornSearchBlock = 64 * 1024;

}  // namespace

LogFile::LogFile(FileSystem& fs, std::shared_ptr<LogDirectory> dir, RotationOptions rotation,
                 CompressionQueue* queue, std::shared_ptr<LogWatch> watch)
    : fs_(fs),
      dir_(std::move(dir)),
      rotation_{rotation.max_size, std::max(rotation.max_file, 1), rotation.codec},
      queue_(rotation.codec == Codec::kNone ? nullptr : queue),
      watch_(std::move(watch)) {}

LogFile::~LogFile() {
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::error("closing {}: {}", dir_->current_path(), e.what());
  }
}

void LogFile::open() {
  close();
  dir_->attach_writer(rotation_.max_file);
  attached_ = true;
  cut_torn_record();
  ensure_current();
  submit_compressions();
}

// A crash in the middle of a write can leave the current file ending inside
// a record; that record was never complete, so it is cut off. Readers and
// reattach then see only whole records.
void LogFile::cut_torn_record() {
  const std::string path = dir_->current_path();
  if (!fs_.file_size(path)) return;
  auto file = fs_.open_read(path);
  const uint64_t size = file->size();
  std::string block;
  for (uint64_t end = size; end > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kTornSearchBlock, end));
    block.resize(n);
    if (file->read_at(end - n, block.data(), n) != n) return;  // shrank meanwhile
    size_t newline = block.rfind('\n');
    if (newline != std::string::npos) {
      uint64_t keep = end - n + newline + 1;
      if (keep == size) return;
      spdlog::warn("{}: cutting off {} bytes of a record torn by a crash", path, size - keep);
      fs_.truncate(path, keep);
      return;
    }
    end -= n;
  }
  spdlog::warn("{}: cutting off {} bytes of a record torn by a crash", path, size);
  fs_.truncate(path, 0);
}

void LogFile::ensure_current() {
  if (current_) return;
  current_ = fs_.open_append(dir_->current_path());
  written_ = fs_.file_size(dir_->current_path()).value_or(0);
}

void LogFile::ensure_in_place() {
  if (!current_ || !current_->unlinked()) return;
  spdlog::warn("{}: deleted while in use; starting it again", dir_->current_path());
  flush();  // into the deleted file: those records went with it
  std::unique_ptr<WritableFile> gone = std::move(current_);
  warn_on_error("closing the deleted file", [&] { gone->close(); });
  fs_.create_dirs(dir_->dir());
  dir_->rescan_after_removal(rotation_.max_file);
  ensure_current();
}

void LogFile::append(std::string_view record, int64_t time_nanos) {
  if (dir_->rescan_if_needed(rotation_.max_file)) submit_compressions();
  if (rotation_.max_size > 0 && current_size() > 0 && current_size() >= rotation_.max_size) {
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
    warn_on_error("sizing the current file after a failed write", [&] {
      uint64_t size = fs_.file_size(dir_->current_path()).value_or(written_);
      size_t landed = static_cast<size_t>(
          std::min<uint64_t>(size > written_ ? size - written_ : 0, buffer_.size()));
      buffer_.erase(0, landed);
      written_ += landed;
      total_written_ += landed;
    });
    throw;
  }
  written_ += buffer_.size();
  total_written_ += buffer_.size();
  buffer_.clear();
  // A burst grew the buffer; give the memory back rather than keep its peak.
  if (buffer_.capacity() > 2 * kFlushThreshold) std::string().swap(buffer_);
}

void LogFile::rotate() {
  flush();
  if (rotation_.max_file <= 1) {
    // json-file's behaviour: start over; open readers keep the old inode.
    fs_.remove(dir_->current_path());
  } else {
    dir_->rotate(rotation_.max_file, last_time_);
  }
  // The handle now names .1 (or an unlinked file): never write through it again.
  std::unique_ptr<WritableFile> old = std::move(current_);
  written_ = 0;
  last_time_ = 0;
  if (old) warn_on_error("closing the rotated file", [&] { old->close(); });
  ensure_current();
  if (watch_) watch_->notify();
  if (metrics_) metrics_->rotations.Increment();
  submit_compressions();
  if (rotation_.max_file > 1) fs_.sync_dir(dir_->dir());
}

// Offers every plain rotated file not yet queued to the compressor. Files the
// queue refuses stay plain (still counted in max_file) and are offered again
// at the next rotation. Submitting happens outside the directory's lock, so a
// queue may even run a job inline.
void LogFile::submit_compressions() {
  if (!queue_) return;
  auto todo = dir_->take_uncompressed();
  for (size_t i = 0; i < todo.size(); ++i) {
    if (!queue_->submit(make_job(todo[i].seq, todo[i].last_time))) {
      std::vector<uint64_t> refused;
      for (size_t j = i; j < todo.size(); ++j) refused.push_back(todo[j].seq);
      dir_->unqueue(refused);
      return;
    }
  }
}

CompressionJob LogFile::make_job(uint64_t seq, int64_t last_time) {
  CompressionJob job;
  job.temp_path = dir_->new_temp_path(seq);
  job.codec = rotation_.codec;
  job.last_time_nanos = last_time;
  job.open_source = [dir = dir_, seq] { return dir->open_to_compress(seq); };
  job.create_temp = [dir = dir_, temp = job.temp_path] { return dir->create_temp(temp); };
  job.finish = [dir = dir_, seq, temp = job.temp_path, codec = rotation_.codec](bool written) {
    dir->finish_compression(seq, temp, codec, written);
  };
  if (metrics_) {
    job.compressed = [metrics = metrics_](uint64_t in_bytes, uint64_t out_bytes) {
      metrics->compressed_input_bytes.Increment(static_cast<double>(in_bytes));
      metrics->compressed_output_bytes.Increment(static_cast<double>(out_bytes));
    };
  }
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
  // Compressions already queued go on and finish: they hold the LogDirectory.
  if (current_) {
    std::unique_ptr<WritableFile> file = std::move(current_);
    warn_on_error("closing the current file", [&] { file->close(); });
  }
  if (std::exchange(attached_, false)) dir_->detach_writer();
  if (error) std::rethrow_exception(error);
}

}  // namespace logguard
