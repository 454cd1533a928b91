// logger.Info's fields and methods for the tag template (tag_template_info.h).
#include "tag_template_info.h"

#include <exception>
#include <string>

namespace logguard::tag {
namespace {

std::string truncated_id(const std::string& id) {
  // Engine 20.10 to 29.4.0 slice the first 12 bytes ("sha256:" included for
  // images); a shorter id makes Go panic, which the template reports.
  if (id.size() < 12) {
    throw CallError{"runtime error: slice bounds out of range [:12] with length " +
                    std::to_string(id.size())};
  }
  return id.substr(0, 12);
}

// A method that returns one of Info's strings, or its first 12 bytes.
constexpr bool kShortId = true;
template <std::string ContainerInfo::*field, bool short_id = false>
Value string_method(const TemplateData& d, std::vector<Value>&) {
  const std::string& value = d.info->*field;
  return Value::of_string(short_id ? truncated_id(value) : value);
}

const std::vector<InfoMethod>& info_methods() {
  static const std::vector<InfoMethod> kMethods = {
      {"Command", {},
       [](const TemplateData& d, std::vector<Value>&) {
         std::string command = d.info->entrypoint;
         for (const auto& arg : d.info->args) command += " " + arg;
         return Value::of_string(command);
       }},
      {"ExtraAttributes", {Param::kKeyMod},
       [](const TemplateData& d, std::vector<Value>&) {
         if (!d.extra_attributes) return Value::of_map({});
         try {
           return Value::of_map(d.extra_attributes());
         } catch (const std::exception& e) {
           throw CallError{e.what()};
         }
       }},
      {"FullID", {}, string_method<&ContainerInfo::id>},
      {"Hostname", {},
       [](const TemplateData& d, std::vector<Value>&) {
         try {
           return Value::of_string(d.hostname ? d.hostname() : std::string());
         } catch (const std::exception& e) {
           throw CallError{std::string("logger: can not resolve hostname: ") + e.what()};
         }
       }},
      {"ID", {}, string_method<&ContainerInfo::id, kShortId>},
      {"ImageFullID", {}, string_method<&ContainerInfo::image_id>},
      {"ImageID", {}, string_method<&ContainerInfo::image_id, kShortId>},
      {"ImageName", {}, string_method<&ContainerInfo::image_name>},
      {"Name", {},
       [](const TemplateData& d, std::vector<Value>&) {
         std::string_view name = d.info->name;
         if (name.starts_with('/')) name.remove_prefix(1);
         return Value::of_string(std::string(name));
       }},
  };
  return kMethods;
}

}  // namespace

const InfoMethod* find_info_method(std::string_view name) {
  for (const auto& m : info_methods()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::optional<Value> info_field(const ContainerInfo& info, std::string_view name) {
  if (name == "Config") return Value::of_map(info.log_opts);
  if (name == "ContainerID") return Value::of_string(info.id);
  if (name == "ContainerName") return Value::of_string(info.name);
  if (name == "ContainerEntrypoint") return Value::of_string(info.entrypoint);
  if (name == "ContainerArgs") return Value::of_strings(info.args);
  if (name == "ContainerImageID") return Value::of_string(info.image_id);
  if (name == "ContainerImageName") return Value::of_string(info.image_name);
  if (name == "ContainerCreated") {
    Value v = Value::of_kind(Kind::kTime);
    v.str = info.created;
    return v;
  }
  if (name == "ContainerEnv") {
    // The engine's Env is nil (JSON null) rather than empty when a container
    // has none; an empty args list is [] (both seen from Engine 20.10).
    Value v = Value::of_strings(info.env);
    v.is_nil = info.env.empty();
    return v;
  }
  if (name == "ContainerLabels") return Value::of_map(info.labels);
  if (name == "DaemonName") return Value::of_string(info.daemon_name);
  return std::nullopt;
}

}  // namespace logguard::tag
