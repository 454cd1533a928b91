// MemoryTrim: giving the memory of ended sessions back to the system.
//
// free() gives memory back only from the top of a malloc heap; what a
// session freed in the middle of one stays in the process (measured with
// bench/density.py: about 25 KiB of every container that had come and gone,
// 13 MB after 500, all of it free inside glibc's arenas). malloc_trim(0)
// hands the free pages back. It walks every arena under its lock, so it runs
// only when something ended: a session, the lingering series of a gone
// container (metrics.h), or the state of a log directory no one holds
// (log_directory.h), which often goes a tick after its session.
#pragma once

#include <cstddef>

namespace logguard {

class MemoryTrim {
 public:
  // Given the live sessions and the containers with series now, and how many
  // log directories' state was just swept: true if either count fell since
  // the last call (the first call only records them) or any state was swept.
  bool something_ended(size_t sessions, size_t containers, size_t directories_swept);

 private:
  bool seen_ = false;
  size_t sessions_ = 0;
  size_t containers_ = 0;
};

// malloc_trim(0); nothing under AddressSanitizer, whose allocator is not glibc's.
void trim_free_memory();

}  // namespace logguard
