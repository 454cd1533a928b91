#include "logguard/storage/session_store.h"

#include <zlib.h>

#include <cstdio>
#include <functional>
#include <system_error>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "logguard/format/log_names.h"

namespace logguard {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSessionSuffix = ".session";
constexpr std::string_view kProgressSuffix = ".progress";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kDamagedSuffix = ".damaged";
constexpr std::string_view kSlotMagic = "LGPROGRESS1";

uint32_t crc_of(std::string_view data) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

json attrs_to_json(const Attrs& attrs) {
  json out = json::array();
  for (const auto& [k, v] : attrs) out.push_back({k, v});
  return out;
}

json progress_to_json(const SessionProgress& p) {
  json pending = json::array();
  for (const auto& d : p.limiter.pending) {
    pending.push_back({{"stream", d.stream},
                       {"lines", d.lines},
                       {"bytes", d.bytes},
                       {"limits", d.limits},
                       {"first", d.first_wall},
                       {"last", d.last_wall}});
  }
  return {{"saved", p.saved_wall_nanos},
          {"byte_tokens", p.limiter.byte_tokens},
          {"line_tokens", p.limiter.line_tokens},
          {"pending", pending},
          {"batch_length", p.batch_length},
          {"batch_crc", p.batch_crc}};
}

SessionProgress progress_from_json(const json& j) {
  SessionProgress p;
  p.saved_wall_nanos = j.at("saved").get<int64_t>();
  p.limiter.byte_tokens = j.at("byte_tokens").get<double>();
  p.limiter.line_tokens = j.at("line_tokens").get<double>();
  for (const auto& d : j.at("pending")) {
    p.limiter.pending.push_back({d.at("stream").get<std::string>(), d.at("lines").get<uint64_t>(),
                                 d.at("bytes").get<uint64_t>(), d.at("limits").get<unsigned>(),
                                 d.at("first").get<int64_t>(), d.at("last").get<int64_t>()});
  }
  p.batch_length = j.at("batch_length").get<uint64_t>();
  p.batch_crc = j.at("batch_crc").get<uint32_t>();
  return p;
}

// One slot: "<magic> <seq> <crc> <length>\n<json>", zero padded.
struct Slot {
  uint64_t seq;
  SessionProgress progress;
};

std::optional<Slot> parse_slot(std::string_view slot) {
  size_t newline = slot.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  char magic[16] = {};
  unsigned long long seq = 0, length = 0;
  unsigned crc = 0;
  std::string header(slot.substr(0, newline));
  if (std::sscanf(header.c_str(), "%15s %llu %x %llu", magic, &seq, &crc, &length) != 4 ||
      kSlotMagic != magic || length > slot.size() - newline - 1) {
    return std::nullopt;
  }
  std::string_view body = slot.substr(newline + 1, length);
  if (crc_of(body) != crc) return std::nullopt;
  try {
    return Slot{seq, progress_from_json(json::parse(body))};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

ProgressLog::ProgressLog(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}

std::optional<SessionProgress> ProgressLog::load() {
  std::string content;
  try {
    content = fs_.read_all(path_);
  } catch (const std::system_error& e) {
    // Unreadable is as good as torn: the session goes on without what it
    // would have carried over, rather than not at all.
    if (e.code().value() != ENOENT) {
      spdlog::warn("{}: unreadable progress, the limiter starts afresh: {}", path_, e.what());
    }
    return std::nullopt;
  }
  std::optional<Slot> best;
  for (size_t at = 0; at < content.size(); at += kSlotSize) {
    auto slot = parse_slot(std::string_view(content).substr(at, kSlotSize));
    if (slot && (!best || slot->seq > best->seq)) best = std::move(slot);
  }
  if (!best) return std::nullopt;
  seq_ = best->seq;
  return best->progress;
}

void ProgressLog::save(const SessionProgress& progress) {
  const std::string body = progress_to_json(progress).dump();
  char header[96];
  const uint64_t seq = seq_ + 1;
  std::snprintf(header, sizeof header, "%s %llu %08x %zu\n", kSlotMagic.data(),
                static_cast<unsigned long long>(seq), crc_of(body), body.size());
  std::string slot = header + body;
  if (slot.size() > kSlotSize) {
    throw std::system_error(EOVERFLOW, std::generic_category(), "progress of " + path_);
  }
  slot.resize(kSlotSize, '\0');
  // Slot by sequence number: a save never overwrites the newest intact slot
  // (load() read it), so a crash in the middle of one leaves the other.
  if (!file_) file_ = fs_.open_overwrite(path_);
  file_->write_at((seq % 2) * kSlotSize, slot);
  seq_ = seq;
}

SessionStore::SessionStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

std::string SessionStore::key(const std::string& fifo) {
  size_t slash = fifo.rfind('/');
  std::string name = slash == std::string::npos ? fifo : fifo.substr(slash + 1);
  if (is_container_id(name)) return name;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(fifo));
  return buf;
}

void SessionStore::save(const SessionRecord& r) {
  json labels = json::object();
  for (const auto& [k, v] : r.labels) labels[k] = v;
  json opts = json::object();
  for (const auto& [k, v] : r.opts) opts[k] = v;
  const std::string body = json{{"fifo", r.fifo},
                                {"container_id", r.container_id},
                                {"container_name", r.container_name},
                                {"opts", opts},
                                {"attrs", attrs_to_json(r.attrs)},
                                {"labels", labels}}
                               .dump(-1, ' ', false, json::error_handler_t::replace);
  fs_.create_dirs(dir_);
  const std::string path = dir_ + "/" + key(r.fifo) + std::string(kSessionSuffix);
  const std::string temp = path + std::string(kTempSuffix);
  // Not synced: StartLogging waits for this, and a sync waits for whatever
  // the disk is busy with (ms on a quiet node, seconds behind a flood's
  // write-back). A record only has to outlive the plugin's process, which
  // the page cache does; after the node's crash no FIFO it names exists.
  auto file = fs_.open_truncate(temp);
  file->append(body);
  file->close();
  fs_.rename(temp, path);
}

void SessionStore::remove(const std::string& fifo) {
  const std::string stem = dir_ + "/" + key(fifo);
  fs_.remove(stem + std::string(kSessionSuffix));
  fs_.remove(stem + std::string(kProgressSuffix));
}

SessionRecord SessionStore::read_record(const std::string& path) {
  json j = json::parse(fs_.read_all(path));
  SessionRecord r;
  r.fifo = j.at("fifo").get<std::string>();
  r.container_id = j.at("container_id").get<std::string>();
  r.container_name = j.at("container_name").get<std::string>();
  for (const auto& [k, v] : j.at("opts").items()) r.opts[k] = v.get<std::string>();
  for (const auto& kv : j.at("attrs")) {
    r.attrs.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  }
  for (const auto& [k, v] : j.at("labels").items()) r.labels[k] = v.get<std::string>();
  if (!is_container_id(r.container_id)) throw std::invalid_argument("bad container ID");
  return r;
}

void SessionStore::set_aside(const std::string& path, const std::string& why) {
  const std::string aside = path + std::string(kDamagedSuffix);
  try {
    fs_.rename(path, aside);
    spdlog::warn("{}: {}; set aside as {}", path, why, aside);
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}; skipped (cannot set it aside: {})", path, why, e.what());
  }
}

std::vector<SessionRecord> SessionStore::load_all() {
  std::vector<SessionRecord> records;
  std::vector<std::string> names;
  try {
    names = fs_.list_dir(dir_);
  } catch (const std::exception& e) {
    spdlog::error("{}: cannot list the sessions to reattach, none is: {}", dir_, e.what());
    return records;
  }
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    if (ends_with(name, kTempSuffix)) {
      try {
        fs_.remove(path);  // never renamed into place: the record was not complete
      } catch (const std::exception& e) {
        set_aside(path, std::string("cannot remove an unfinished record: ") + e.what());
      }
    } else if (ends_with(name, kSessionSuffix)) {
      try {
        records.push_back(read_record(path));
      } catch (const std::exception& e) {
        set_aside(path, std::string("unreadable session record, not reattached: ") + e.what());
      }
    }
  }
  return records;
}

std::unique_ptr<ProgressLog> SessionStore::progress(const std::string& fifo) {
  fs_.create_dirs(dir_);
  return std::make_unique<ProgressLog>(fs_,
                                       dir_ + "/" + key(fifo) + std::string(kProgressSuffix));
}

}  // namespace logguard
