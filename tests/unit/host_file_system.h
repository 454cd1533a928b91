// The host's file system, not rooted, for tests that work in a temporary
// directory. The plugin makes its own in main and passes it down.
#pragma once

#include "logguard/storage/posix_file_system.h"

namespace logguard::testing {

inline FileSystem& host_file_system() {
  static const auto fs = make_posix_file_system("");
  return *fs;
}

}  // namespace logguard::testing
