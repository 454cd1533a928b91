// The on-disk naming rules of the log root, in one place (as LevelDB's
// filename.h). The writer, the reader, eviction, the tests and the Python
// harness (tests/e2e/harness.py) all follow these rules:
//
//   <root>/<id>/                         one container's log directory
//   <root>/<id>/<id>-json.log            its current file
//   <root>/<id>/<id>-json.log.<N>        rotated; N = 1 (newest) .. max-file - 1,
//                                        decimal without leading zeros, as json-file
//   <root>/<id>/<id>-json.log.<N>.gz     the same, compressed (or .zst)
//   <root>/<id>/<id>-json.log.<x>.tmp    a temporary (a compression under way or
//                                        interrupted); never a log file
//
// <id> is the engine's container ID (hex digits). If a rotation exists both
// plain and compressed (a compression finishing), both hold the same records:
// readers use the plain one, crash recovery keeps the compressed one. Every
// other name under <root> is not a container's log (e.g. <root>/containers/ and
// <root>/.pod-links/, the Kubernetes view, and <root>/.logguard-probe, the node
// guard's probe).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/format/compression.h"

namespace logguard {

class FileSystem;

// Whether `id` can name a container's log directory: 1 to 128 hex digits.
// Everything that turns an engine-supplied ID into a path checks this first.
bool is_container_id(std::string_view id);

// "<id>-json.log", the current file's name and the stem of every other one.
std::string log_base_name(std::string_view container_id);
// "<root>/<id>".
std::string container_log_dir(std::string_view root, std::string_view container_id);

// "<base>.<N>" or "<base>.<N>.gz|.zst"; index >= 1.
std::string rotated_name(std::string_view base, size_t index, Codec form);
// "<base>.<token>.tmp"; token must not be empty.
std::string temp_name(std::string_view base, std::string_view token);

struct RotatedName {
  size_t index;  // >= 1
  Codec form;    // kNone while plain
};
// The rotation a name is, nullopt for any other name (temporaries included).
std::optional<RotatedName> parse_rotated_name(std::string_view name, std::string_view base);
// Whether `name` is a temporary of the log named `base`.
bool is_temp_name(std::string_view name, std::string_view base);

// One file of a container's log.
struct LogFileName {
  std::string name;   // the directory entry
  size_t index;       // 0: the current file; N: rotation N
  Codec form;         // kNone: plain
};
// The log files among a directory's entry names, oldest first (highest index),
// the current file last; where a rotation exists in both forms, the plain one.
std::vector<LogFileName> select_log_files(const std::vector<std::string>& entries,
                                          std::string_view base);
// The same, listing `dir` through fs; empty if dir is missing.
std::vector<LogFileName> list_log_files(FileSystem& fs, const std::string& dir,
                                        std::string_view base);

}  // namespace logguard
