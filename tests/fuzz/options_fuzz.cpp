// Log-opts as users write them. The input is text: "key=value" lines. Each
// value goes through the size, rate and count parsers; the lines as a map go
// through parse_container_options, which may only throw OptionError. A
// leading "defaults\n" line puts the lines after it into the plugin defaults.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logguard/config/options.h"
#include "logguard/base/size_parse.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void parse_value(std::string_view value) {
  if (const auto size = logguard::parse_size(value)) {
    // format_size shows four significant digits: it reads back within 0.05 %
    // (parse_size has no "E" unit for the largest counts).
    const std::string text = logguard::format_size(*size);
    if (text.find('E') == std::string::npos) {
      const auto back = logguard::parse_size(text);
      check(back.has_value());
      const double error = static_cast<double>(*back) - static_cast<double>(*size);
      check(std::abs(error) <= 5e-4 * static_cast<double>(*size));
    }
  }
  logguard::parse_rate(value);
  logguard::parse_count_rate(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  logguard::LogOpts opts, defaults;
  logguard::LogOpts* target = &opts;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line == "defaults") {
      target = &defaults;
      continue;
    }
    const size_t eq = line.find('=');
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : line.substr(eq + 1);
    parse_value(value);
    (*target)[std::string(key)] = std::string(value);
  }
  try {
    const auto options = logguard::parse_container_options(opts, defaults);
    options.limits.describe();
  } catch (const logguard::OptionError&) {
  }
  return 0;
}
