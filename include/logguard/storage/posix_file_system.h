// The real FileSystem, rooted at the log root: beneath the root every path
// is resolved one component at a time without following symbolic links, so
// a link planted there (by anything with write access to the log root, such
// as a log shipper's read-write mount) makes the operation fail with a clear
// error and its target stays untouched. What writers append is handed to the
// disk by `write_back` at the node's pace (write_back.h); without one, by the
// kernel.
#pragma once

#include <memory>
#include <string>

#include "logguard/base/file_system.h"

namespace logguard {

class WriteBack;

// root "": the host's file system, not rooted: links are not followed in a
// path's last component only. For main's own paths, tools and tests; what
// lies beneath the log root goes through a rooted one.
std::unique_ptr<FileSystem> make_posix_file_system(const std::string& root,
                                                   WriteBack* write_back = nullptr);

}  // namespace logguard
