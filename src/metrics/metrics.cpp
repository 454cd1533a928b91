#include "logguard/metrics/metrics.h"

#include <cmath>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace logguard {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// From 100 us (a write into the page cache) to 10 s (a stalled disk).
const prometheus::Histogram::BucketBoundaries kWriteBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
// An fdatasync: 1 ms on a healthy disk, seconds on a saturated one.
const prometheus::Histogram::BucketBoundaries kProbeBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
// A StartLogging: a millisecond or two on an idle node, 20 ms the goal with
// hundreds of containers logging (issue 23), 3 s the wait for files to open.
const prometheus::Histogram::BucketBoundaries kStartBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 3, 10};

std::string without_slash(const std::string& name) {
  return !name.empty() && name.front() == '/' ? name.substr(1) : name;
}

}  // namespace

ContainerMetrics::ContainerMetrics(Metrics& m, const prometheus::Labels& labels)
    : received_bytes(m.received_bytes_.Add(labels)),
      received_lines(m.received_lines_.Add(labels)),
      written_bytes(m.written_bytes_.Add(labels)),
      written_lines(m.written_lines_.Add(labels)),
      blocked_seconds(m.blocked_seconds_.Add(labels)),
      rotations(m.rotations_.Add(labels)),
      compressed_input_bytes(m.compressed_input_.Add(labels)),
      compressed_output_bytes(m.compressed_output_.Add(labels)),
      disk_bytes(m.disk_bytes_.Add(labels)),
      write_errors(*m.write_errors_),
      write_duration(*m.write_duration_),
      owner_(m),
      labels_(labels) {}

ContainerMetrics::~ContainerMetrics() { owner_.remove(*this); }

void ContainerMetrics::publish(const LimitTotals& now, LimitTotals& last) {
  if (now.bytes_received != last.bytes_received) {
    received_bytes.Increment(static_cast<double>(now.bytes_received - last.bytes_received));
    received_lines.Increment(static_cast<double>(now.lines_received - last.lines_received));
  }
  if (now.bytes_dropped != last.bytes_dropped || now.lines_dropped != last.lines_dropped) {
    for (size_t cause = 0; cause < kDropCauses; ++cause) {
      const uint64_t bytes = now.bytes_dropped_by[cause] - last.bytes_dropped_by[cause];
      const uint64_t lines = now.lines_dropped_by[cause] - last.lines_dropped_by[cause];
      if (bytes > 0) {
        dropped(owner_.dropped_bytes_, dropped_bytes_, cause).Increment(static_cast<double>(bytes));
      }
      if (lines > 0) {
        dropped(owner_.dropped_lines_, dropped_lines_, cause).Increment(static_cast<double>(lines));
      }
    }
  }
  last = now;
}

// Two sessions of one container may both make it: the family gives both the
// same series for the same labels.
prometheus::Counter& ContainerMetrics::dropped(prometheus::Family<prometheus::Counter>& family,
                                               DropSeries& slots, size_t cause) {
  prometheus::Counter* series = slots[cause].load(std::memory_order_acquire);
  if (series == nullptr) {
    prometheus::Labels with_limit = labels_;
    with_limit.emplace("limit", drop_cause_name(cause));
    series = &family.Add(with_limit);
    slots[cause].store(series, std::memory_order_release);
  }
  return *series;
}

Metrics::Metrics(Clock& clock)
    : clock_(clock),
      registry_(std::make_shared<prometheus::Registry>()),
      received_bytes_(BuildCounter()
                          .Name("logguard_container_received_bytes_total")
                          .Help("Bytes of log lines the container wrote to stdout and stderr "
                                "(each line and its newline), as received by logguard.")
                          .Register(*registry_)),
      received_lines_(BuildCounter()
                          .Name("logguard_container_received_lines_total")
                          .Help("Log lines the container wrote to stdout and stderr.")
                          .Register(*registry_)),
      written_bytes_(BuildCounter()
                         .Name("logguard_container_written_bytes_total")
                         .Help("Bytes appended to the container's log files: json-file records, "
                               "drop notices included.")
                         .Register(*registry_)),
      written_lines_(BuildCounter()
                         .Name("logguard_container_written_lines_total")
                         .Help("Log lines of the container written to its log files.")
                         .Register(*registry_)),
      dropped_bytes_(BuildCounter()
                         .Name("logguard_container_dropped_bytes_total")
                         .Help("Bytes of log lines dropped (and counted in drop notices), by the "
                               "limit that dropped them: rate, line-rate, node-rate, node-disk, "
                               "node-free, restart, write-error.")
                         .Register(*registry_)),
      dropped_lines_(BuildCounter()
                         .Name("logguard_container_dropped_lines_total")
                         .Help("Log lines dropped (and counted in drop notices), by the limit "
                               "that dropped them.")
                         .Register(*registry_)),
      blocked_seconds_(BuildCounter()
                           .Name("logguard_container_blocked_seconds_total")
                           .Help("Seconds the container's log stream was not read because a "
                                 "limit was reached (on-limit=block): its writes waited.")
                           .Register(*registry_)),
      rotations_(BuildCounter()
                     .Name("logguard_container_rotations_total")
                     .Help("Rotations of the container's current log file (max-size reached).")
                     .Register(*registry_)),
      compressed_input_(BuildCounter()
                            .Name("logguard_container_compression_input_bytes_total")
                            .Help("Bytes of the container's rotated log files compressed.")
                            .Register(*registry_)),
      compressed_output_(BuildCounter()
                             .Name("logguard_container_compression_output_bytes_total")
                             .Help("Bytes the compression of the container's rotated log files "
                                   "wrote.")
                             .Register(*registry_)),
      disk_bytes_(BuildGauge()
                      .Name("logguard_container_disk_bytes")
                      .Help("Bytes of the container's log files on disk, rotated and compressed "
                            "ones included, as of the node guard's last disk check (every 1 to 5 s).")
                      .Register(*registry_)) {
  write_errors_ = &BuildCounter()
                       .Name("logguard_write_errors_total")
                       .Help("Writes to container log files that failed (a full or failing "
                             "disk); their records are dropped with limit=write-error.")
                       .Register(*registry_)
                       .Add({});
  write_duration_ = &BuildHistogram()
                         .Name("logguard_write_duration_seconds")
                         .Help("Time to append one batch of records to a container's log file "
                               "and hand it to the kernel.")
                         .Register(*registry_)
                         .Add({}, kWriteBuckets);
  probe_duration_ = &BuildHistogram()
                         .Name("logguard_disk_probe_duration_seconds")
                         .Help("Latency of the node guard's disk probe: append 4 KiB to a file "
                               "in the log root and fdatasync it (NODE_WRITE_RATE=auto only).")
                         .Register(*registry_)
                         .Add({}, kProbeBuckets);
  start_logging_duration_ = &BuildHistogram()
                                 .Name("logguard_start_logging_duration_seconds")
                                 .Help("Time to handle a StartLogging request (docker run and "
                                       "docker start wait for it), refused ones included.")
                                 .Register(*registry_)
                                 .Add({}, kStartBuckets);
  followers_ = &BuildGauge()
                    .Name("logguard_log_followers")
                    .Help("docker logs --follow streams being served.")
                    .Register(*registry_)
                    .Add({});
  sessions_ = &BuildGauge()
                   .Name("logguard_sessions")
                   .Help("Logging sessions running: container log streams the engine handed "
                         "to logguard.")
                   .Register(*registry_)
                   .Add({});
  compressor_queued_ = &BuildGauge()
                            .Name("logguard_compressor_queued_jobs")
                            .Help("Rotated log files waiting for the compressor.")
                            .Register(*registry_)
                            .Add({});
  compressor_lag_ = &BuildGauge()
                         .Name("logguard_compressor_lag_seconds")
                         .Help("How long the oldest rotated file waiting for the compressor has "
                               "waited (0 if none).")
                         .Register(*registry_)
                         .Add({});
  compressor_yielding_ = &BuildGauge()
                              .Name("logguard_compressor_yielding")
                              .Help("1 while the compressor leaves the CPUs to others (its last "
                                    "look found less than 0.9 of a CPU idle), 0 otherwise.")
                              .Register(*registry_)
                              .Add({});
  node_budget_ = &BuildGauge()
                      .Name("logguard_node_write_budget_bytes_per_second")
                      .Help("The node's write budget for all logs (NODE_WRITE_RATE; in auto "
                            "mode set from the disk's latency); +Inf when off.")
                      .Register(*registry_)
                      .Add({});
  node_backlog_ = &BuildGauge()
                       .Name("logguard_node_write_backlog_bytes")
                       .Help("Log bytes written to the page cache and not yet handed to the "
                             "disk; the write-back drains it at the node's write budget.")
                       .Register(*registry_)
                       .Add({});
  node_backlog_limit_ = &BuildGauge()
                             .Name("logguard_node_write_backlog_limit_bytes")
                             .Help("The backlog the node absorbs (NODE_WRITE_BURST, at most 15 s "
                                   "of the budget): above half, floods get fair shares of the "
                                   "budget; at it, records are dropped or held.")
                             .Register(*registry_)
                             .Add({});
}

Metrics::~Metrics() {
  // Handles still held elsewhere must not outlive the families; the owner
  // stops every holder first (main's order), so this releases the last ones.
  std::lock_guard lock(mu_);
  containers_.clear();
}

std::shared_ptr<ContainerMetrics> Metrics::container(const std::string& id,
                                                     const std::string& name) {
  std::lock_guard lock(mu_);
  sweep_locked(clock_.monotonic_nanos());
  Held& held = containers_[id];
  if (!held.handle) {
    const prometheus::Labels labels{{"container_id", id},
                                    {"container_name", without_slash(name)}};
    held.handle = std::shared_ptr<ContainerMetrics>(new ContainerMetrics(*this, labels));
  }
  held.released_at = 0;
  return held.handle;
}

// A handle only this map holds was released by its last user: it lingers,
// then goes (its destructor removes the series).
void Metrics::sweep_locked(int64_t mono_now) {
  for (auto it = containers_.begin(); it != containers_.end();) {
    Held& held = it->second;
    if (held.handle.use_count() > 1) {
      held.released_at = 0;
    } else if (held.released_at == 0) {
      held.released_at = mono_now;
    } else if (mono_now - held.released_at >= kLingerNanos) {
      it = containers_.erase(it);
      continue;
    }
    ++it;
  }
}

size_t Metrics::sweep() {
  std::lock_guard lock(mu_);
  sweep_locked(clock_.monotonic_nanos());
  return containers_.size();
}

void Metrics::remove(ContainerMetrics& c) {
  received_bytes_.Remove(&c.received_bytes);
  received_lines_.Remove(&c.received_lines);
  written_bytes_.Remove(&c.written_bytes);
  written_lines_.Remove(&c.written_lines);
  blocked_seconds_.Remove(&c.blocked_seconds);
  rotations_.Remove(&c.rotations);
  compressed_input_.Remove(&c.compressed_input_bytes);
  compressed_output_.Remove(&c.compressed_output_bytes);
  disk_bytes_.Remove(&c.disk_bytes);
  for (size_t cause = 0; cause < kDropCauses; ++cause) {
    if (auto* series = c.dropped_bytes_[cause].load()) dropped_bytes_.Remove(series);
    if (auto* series = c.dropped_lines_[cause].load()) dropped_lines_.Remove(series);
  }
}

void Metrics::set_disk_bytes(const std::map<std::string, uint64_t>& bytes_by_container) {
  std::lock_guard lock(mu_);
  for (auto& [id, held] : containers_) {
    auto it = bytes_by_container.find(id);
    held.handle->disk_bytes.Set(it == bytes_by_container.end() ? 0.0
                                                                : static_cast<double>(it->second));
  }
}

void Metrics::on_scrape(std::function<void()> refresh) {
  refreshers_.push_back(std::move(refresh));
}

std::string Metrics::scrape() {
  for (const auto& refresh : refreshers_) refresh();
  {
    std::lock_guard lock(mu_);
    sweep_locked(clock_.monotonic_nanos());
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

size_t Metrics::containers() {
  std::lock_guard lock(mu_);
  return containers_.size();
}

}  // namespace logguard
