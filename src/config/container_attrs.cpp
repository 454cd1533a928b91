#include "logguard/config/container_attrs.h"

#include <sys/utsname.h>

#include <cerrno>
#include <string_view>
#include <system_error>

#include <re2/re2.h>

#include "logguard/config/options.h"
#include "logguard/tag_template/tag_template.h"

namespace logguard {
namespace {

using StringMap = std::map<std::string, std::string>;

[[noreturn]] void invalid(std::string_view option, std::string_view value,
                          std::string_view why) {
  throw OptionError("logguard: invalid " + std::string(option) + " \"" + std::string(value) +
                    "\": " + std::string(why));
}

// Go's regexp is RE2's syntax but for \C (any byte), which Go refuses. Text
// between \Q and \E is literal in both.
bool has_any_byte_escape(std::string_view pattern) {
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    const char escaped = pattern[i + 1];
    if (escaped == 'C') return true;
    if (escaped == 'Q') {
      const size_t end = pattern.find("\\E", i + 2);
      if (end == std::string_view::npos) return false;
      i = end;
    }
    ++i;  // skip the escaped character
  }
  return false;
}

// A regex of a log option, compiled as Go's regexp.Compile would accept it.
class OptionRegex {
 public:
  OptionRegex(std::string_view option, const std::string& pattern)
      : re_(pattern, options()) {
    if (has_any_byte_escape(pattern)) invalid(option, pattern, "invalid escape sequence: \\C");
    if (!re_.ok()) invalid(option, pattern, re_.error());
  }

  // Go's MatchString: a match anywhere in the text.
  bool matches(const std::string& text) const { return RE2::PartialMatch(text, re_); }

 private:
  static RE2::Options options() {
    RE2::Options o;
    o.set_log_errors(false);
    return o;
  }
  RE2 re_;
};

const std::string* option(const ContainerInfo& info, const char* key) {
  auto it = info.log_opts.find(key);
  if (it == info.log_opts.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// strings.Split(list, ","): every piece, empty ones included.
std::vector<std::string_view> comma_list(std::string_view list) {
  std::vector<std::string_view> names;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    names.push_back(list.substr(start, comma - start));
    if (comma == std::string_view::npos) return names;
    start = comma + 1;
  }
}

// Selects from `from` into `extra`: the names listed in `list_key`, then the
// names matching `regex_key`.
void select(const ContainerInfo& info, const StringMap& from, const char* list_key,
            const char* regex_key, StringMap& extra) {
  if (const std::string* list = option(info, list_key)) {
    for (std::string_view name : comma_list(*list)) {
      auto it = from.find(std::string(name));
      if (it != from.end()) extra[it->first] = it->second;
    }
  }
  if (const std::string* pattern = option(info, regex_key)) {
    const OptionRegex re(regex_key, *pattern);
    for (const auto& [name, value] : from) {
      if (re.matches(name)) extra[name] = value;
    }
  }
}

// The environment as a map: KEY=VALUE split at the first '='; entries
// without '=' are left out; a later duplicate wins.
StringMap environment(const std::vector<std::string>& env) {
  StringMap vars;
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return vars;
}

}  // namespace

std::map<std::string, std::string> extra_attributes(const ContainerInfo& info) {
  StringMap extra;
  select(info, info.labels, "labels", "labels-regex", extra);
  select(info, environment(info.env), "env", "env-regex", extra);
  return extra;
}

Attrs container_attrs(const ContainerInfo& info, const HostnameFn& hostname) {
  StringMap attrs = extra_attributes(info);
  if (const std::string* tag_text = option(info, "tag")) {
    std::string rendered;
    try {
      const tag::Template tag_template(*tag_text);
      tag::TemplateData data;
      data.info = &info;
      data.hostname = hostname;
      data.extra_attributes = [&info] { return extra_attributes(info); };
      rendered = tag_template.execute(data);
    } catch (const tag::TemplateError& e) {
      invalid("tag", *tag_text, e.what());
    }
    if (!rendered.empty()) attrs["tag"] = std::move(rendered);
  }
  return Attrs(attrs.begin(), attrs.end());
}

std::string system_hostname() {
  struct utsname names;
  if (uname(&names) != 0) throw std::system_error(errno, std::generic_category(), "uname");
  return names.nodename;
}

}  // namespace logguard
