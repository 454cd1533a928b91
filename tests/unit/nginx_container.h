// A container of the nginx:1.27 image as Engine 20.10 describes it to a
// logging driver: what the container attributes and the tag template tests
// both start from, each adding its own environment, labels and options.
#pragma once

#include <string>
#include <utility>

#include "logguard/format/container_info.h"

namespace logguard::testing {

inline ContainerInfo nginx_container(std::string id, std::string name, std::string created) {
  ContainerInfo info;
  info.id = std::move(id);
  info.name = std::move(name);
  info.entrypoint = "/docker-entrypoint.sh";
  info.args = {"nginx", "-g", "daemon off;"};
  info.image_id = "sha256:a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0a830a7b2c2d8e1f0";
  info.image_name = "nginx:1.27";
  info.created = std::move(created);
  info.daemon_name = "docker";
  return info;
}

}  // namespace logguard::testing
