#include "logguard/config/limit_counts.h"

namespace logguard {

const char* drop_cause_name(size_t cause) {
  static constexpr const char* kNames[kDropCauses] = {
      "rate", "line-rate", "node-rate", "node-disk", "node-free", "restart", "write-error"};
  return cause < kDropCauses ? kNames[cause] : "unknown";
}

}  // namespace logguard
