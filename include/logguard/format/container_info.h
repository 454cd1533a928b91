// ContainerInfo: what the engine tells a logging plugin about a container
// (the "Info" object of StartLogging and ReadLogs), as sent. Field names
// follow the engine's JSON keys (moby daemon/logger/loginfo.go); see
// docs/PROTOCOL.md §3.2 for what each holds.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace logguard {

struct ContainerInfo {
  std::string id;                       // ContainerID: 64 hex digits (validated before use as a path)
  std::string name;                     // ContainerName: with the engine's leading '/'
  std::string entrypoint;               // ContainerEntrypoint: first word of the command
  std::vector<std::string> args;        // ContainerArgs: the rest of the command
  std::string image_id;                 // ContainerImageID: "sha256:<64 hex>"
  std::string image_name;               // ContainerImageName: as the user gave it
  std::string created;                  // ContainerCreated: RFC 3339 text
  std::vector<std::string> env;         // ContainerEnv: "KEY=VALUE", secrets included
  std::map<std::string, std::string> labels;  // ContainerLabels
  std::string daemon_name;              // DaemonName: "docker"
  std::map<std::string, std::string> log_opts;  // Config: every log-opt of the container
};

}  // namespace logguard
