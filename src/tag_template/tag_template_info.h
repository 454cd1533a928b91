// logger.Info as a tag template sees it: the fields of moby's logger.Info
// filled from a ContainerInfo, and the methods of *logger.Info (ID, Name,
// Hostname, ExtraAttributes, ...) bound to one execution's TemplateData, with
// the results and failures Engine 20.10's methods give. Private to the tag
// template.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "logguard/format/container_info.h"
#include "logguard/tag_template/tag_template.h"
#include "tag_template_funcs.h"
#include "tag_template_value.h"

namespace logguard::tag {

struct InfoMethod {
  std::string_view name;
  std::vector<Param> params;
  // Throws CallError where Go's method fails or panics.
  Value (*call)(const TemplateData&, std::vector<Value>&);
};

// The method of *logger.Info called `name`; nullptr if there is none.
const InfoMethod* find_info_method(std::string_view name);

// The field of logger.Info called `name`; nullopt if there is no such field
// (LogPath included: the evaluator refuses it by name).
std::optional<Value> info_field(const ContainerInfo& info, std::string_view name);

}  // namespace logguard::tag
