// WriteCharge: the node's write budget as a writer that pays after writing
// sees it (the compressor: it learns its output's size only once written).
// NodeBudget::Share (node_budget.h) is one; storage knows only this.
#pragma once

#include <cstdint>

namespace logguard {

class WriteCharge {
 public:
  virtual ~WriteCharge() = default;
  // Counts bytes already written; they may put the writer in debt.
  virtual void charge(int64_t mono_now, uint64_t bytes) = 0;
  // Nanoseconds until the writer may write again; 0 if it may now.
  virtual int64_t nanos_until_clear(int64_t mono_now) = 0;
};

}  // namespace logguard
