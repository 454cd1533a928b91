#include "logguard/base/memory_trim.h"

#include <malloc.h>

namespace logguard {

bool MemoryTrim::something_ended(size_t sessions, size_t containers, size_t directories) {
  const bool fell =
      seen_ && (sessions < sessions_ || containers < containers_ || directories < directories_);
  seen_ = true;
  sessions_ = sessions;
  containers_ = containers;
  directories_ = directories;
  return fell;
}

void trim_free_memory() {
#if !defined(__SANITIZE_ADDRESS__)
  malloc_trim(0);
#endif
}

}  // namespace logguard
