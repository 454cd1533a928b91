// NodeGate: what a container's limiter asks after its own buckets said yes —
// may this record be written, given the node as a whole? The node guard
// (node_guard.h) implements it with the container's share of the node write
// budget and the disk's state; tests use fakes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace logguard {

class NodeGate {
 public:
  enum class Limit { kNone, kRate, kDisk, kFree };
  struct Verdict {
    Limit limit = Limit::kNone;  // kNone: admitted (and charged)
    int64_t wait_nanos = 0;      // otherwise: when it may be worth asking again
  };
  virtual ~NodeGate() = default;
  // Whether `cost` bytes may be written now; charges them if so.
  virtual Verdict admit(int64_t mono_now, uint64_t cost) = 0;
  // Charges bytes written without asking (the rest of an admitted line, notices).
  virtual void charge(int64_t mono_now, uint64_t cost) = 0;
  // What was admitted and charged since the last call is now in the files
  // (or lost): the disk's free space shows it, no need to count it as on
  // its way any more.
  virtual void landed() {}
  // The limit as a notice names it: "node-rate=8MB/s (this container's share
  // 400kB/s)", "node-disk=...". For notices only.
  virtual std::string describe(Limit limit) const = 0;
};

// Gives each session its gate to the node-wide limits.
class NodeGates {
 public:
  virtual ~NodeGates() = default;
  virtual std::unique_ptr<NodeGate> gate_for(const std::string& container_id) = 0;
};

}  // namespace logguard
