#include "logguard/format/log_names.h"

#include <algorithm>
#include <charconv>

#include "logguard/base/file_system.h"

namespace logguard {
namespace {

constexpr std::string_view kBaseSuffix = "-json.log";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxIndexDigits = 9;

bool has_stem(std::string_view name, std::string_view base) {
  return name.size() > base.size() + 1 && name.substr(0, base.size()) == base &&
         name[base.size()] == '.';
}

}  // namespace

bool is_container_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength &&
         id.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

std::string log_base_name(std::string_view container_id) {
  return std::string(container_id) + std::string(kBaseSuffix);
}

std::string container_log_dir(std::string_view root, std::string_view container_id) {
  return std::string(root) + "/" + std::string(container_id);
}

std::string rotated_name(std::string_view base, size_t index, Codec form) {
  return std::string(base) + "." + std::to_string(index) + std::string(codec_extension(form));
}

std::string temp_name(std::string_view base, std::string_view token) {
  return std::string(base) + "." + std::string(token) + std::string(kTempSuffix);
}

std::optional<RotatedName> parse_rotated_name(std::string_view name, std::string_view base) {
  if (!has_stem(name, base)) return std::nullopt;
  std::string_view rest = name.substr(base.size() + 1);
  Codec form = Codec::kNone;
  for (Codec c : {Codec::kGzip, Codec::kZstd}) {
    std::string_view ext = codec_extension(c);
    if (rest.size() > ext.size() && rest.substr(rest.size() - ext.size()) == ext) {
      form = c;
      rest.remove_suffix(ext.size());
    }
  }
  if (rest.empty() || rest.size() > kMaxIndexDigits || rest[0] == '0') return std::nullopt;
  size_t index = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
  if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
  return RotatedName{index, form};
}

bool is_temp_name(std::string_view name, std::string_view base) {
  return has_stem(name, base) && name.size() > base.size() + 1 + kTempSuffix.size() &&
         name.substr(name.size() - kTempSuffix.size()) == kTempSuffix;
}

std::vector<LogFileName> select_log_files(const std::vector<std::string>& entries,
                                          std::string_view base) {
  std::vector<LogFileName> files;
  bool has_current = false;
  for (const std::string& name : entries) {
    if (name == base) {
      has_current = true;
    } else if (auto r = parse_rotated_name(name, base)) {
      files.push_back({name, r->index, r->form});
    }
  }
  // Oldest (highest index) first; of two forms of one index, plain first.
  std::sort(files.begin(), files.end(), [](const LogFileName& a, const LogFileName& b) {
    if (a.index != b.index) return a.index > b.index;
    return (a.form == Codec::kNone) > (b.form == Codec::kNone);
  });
  files.erase(std::unique(files.begin(), files.end(),
                          [](const LogFileName& a, const LogFileName& b) {
                            return a.index == b.index;
                          }),
              files.end());
  if (has_current) files.push_back({std::string(base), 0, Codec::kNone});
  return files;
}

std::vector<LogFileName> list_log_files(FileSystem& fs, const std::string& dir,
                                        std::string_view base) {
  return select_log_files(fs.list_dir(dir), base);
}

}  // namespace logguard
