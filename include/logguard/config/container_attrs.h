// The "attrs" Docker's json-file driver writes into every record of a
// container, computed from the container's Info exactly as json-file computes
// them once when it creates the container's logger (moby
// daemon/logger/jsonfilelog.New with Info.ExtraAttributes and
// loggerutils.ParseLogTag):
//
//   labels=a,b       container labels a and b (names as given, no trimming)
//   labels-regex=RE  every label whose name RE matches (Go regexp: RE2 syntax,
//                    unanchored search)
//   env=A,B          environment variables A and B ("A=" gives ""; an entry
//                    without '=' is not a variable)
//   env-regex=RE     every environment variable whose name RE matches
//   tag=TEMPLATE     "tag": the template (tag_template.h) rendered; only when
//                    the option is set and renders non-empty
//
// On a name clash the later source wins: labels, labels-regex, env,
// env-regex, then tag. Keys come sorted by bytes, as Go writes a map.
//
// Engine differences, resolved as Engine 20.10 (the engine we test against):
// env-regex is compiled (and a bad one fails) even for a container without
// environment (Engines after 28.0 skip it), and {{.ImageID}} is the first 12
// bytes of "sha256:..." (Engine 29.4.1 and later drop "sha256:").
#pragma once

#include <functional>
#include <map>
#include <string>

#include "logguard/format/container_info.h"
#include "logguard/format/json_record.h"

namespace logguard {

// Info.ExtraAttributes(nil): the labels and environment variables selected by
// labels, labels-regex, env and env-regex. Throws OptionError for a regex Go
// would not compile, e.g. `logguard: invalid labels-regex "(": missing ): (`.
std::map<std::string, std::string> extra_attributes(const ContainerInfo& info);

// What {{.Hostname}} asks for; may throw std::exception.
using HostnameFn = std::function<std::string()>;

// Everything json-file puts in "attrs": extra_attributes plus "tag". Throws
// OptionError for a bad regex or tag, e.g.
// `logguard: invalid tag "{{.Nope}}": at <.Nope>: can't evaluate field Nope in type *logger.Info`.
Attrs container_attrs(const ContainerInfo& info, const HostnameFn& hostname);

// The host's name as Go's os.Hostname gives it to dockerd (uname); throws
// std::system_error.
std::string system_hostname();

}  // namespace logguard
