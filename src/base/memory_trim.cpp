#include "logguard/base/memory_trim.h"

#include <malloc.h>

namespace logguard {

bool MemoryTrim::something_ended(size_t sessions, size_t containers, size_t directories_swept) {
  const bool fell = seen_ && (sessions < sessions_ || containers < containers_);
  seen_ = true;
  sessions_ = sessions;
  containers_ = containers;
  return fell || directories_swept > 0;
}

void trim_free_memory() {
#if !defined(__SANITIZE_ADDRESS__)
  malloc_trim(0);
#endif
}

}  // namespace logguard
