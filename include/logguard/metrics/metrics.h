// Metrics: what an operator alerts on — which containers are cut, by how
// much, and how the log disk does — as Prometheus series (prometheus-cpp's
// registry; served by PluginApi on the plugin's socket and by MetricsServer
// on TCP, both as scrape()'s text).
//
// Per container (labels container_id, container_name) the series live in a
// ContainerMetrics handle. The Driver takes one when it opens a container's
// log and its ContainerLog holds it (compression jobs of its files too), so
// every writer increments through references it already has: prometheus-cpp
// counters are atomics, and the write path adds to them once per batch, never
// takes a lock per record. Once nobody holds a handle it lingers for
// kLingerNanos (a scrape or two sees the last numbers of a container that
// logged for a moment and exited) and then its series are removed, so the
// series are bounded by the containers logging now or lately.
//
// Plugin-wide values that others own (sessions, the compressor's queue, the
// node budget) are read when scraped, by the functions given to on_scrape().
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "logguard/base/clock.h"
#include "logguard/config/limit_counts.h"

namespace logguard {

class Metrics;

// One container's series, and the plugin-wide ones its writers feed.
class ContainerMetrics {
 public:
  ~ContainerMetrics();
  ContainerMetrics(const ContainerMetrics&) = delete;
  ContainerMetrics& operator=(const ContainerMetrics&) = delete;

  // Adds what a limiter counted since the last call (stream_pump.h calls it
  // once per turn); `last` is the caller's copy of the totals last published.
  void publish(const LimitTotals& now, LimitTotals& last);

  prometheus::Counter& received_bytes;   // line bytes the container wrote (+1 per newline)
  prometheus::Counter& received_lines;
  prometheus::Counter& written_bytes;    // bytes appended to its files (json-file records, notices)
  prometheus::Counter& written_lines;
  prometheus::Counter& blocked_seconds;  // on-limit=block: time its stream was not read
  prometheus::Counter& rotations;
  prometheus::Counter& compressed_input_bytes;
  prometheus::Counter& compressed_output_bytes;
  prometheus::Gauge& disk_bytes;         // its files, as of the node guard's last check
  // Plugin-wide, fed by this container's writers.
  prometheus::Counter& write_errors;
  prometheus::Histogram& write_duration;

 private:
  friend class Metrics;
  ContainerMetrics(Metrics& owner, const prometheus::Labels& labels);

  using DropSeries = std::array<std::atomic<prometheus::Counter*>, kDropCauses>;
  // The cause's series in `family`, made at the container's first drop of
  // that cause: most containers never drop, and 14 series they would not use
  // were most of the memory of an idle session (bench/density.py).
  prometheus::Counter& dropped(prometheus::Family<prometheus::Counter>& family, DropSeries& slots,
                               size_t cause);

  Metrics& owner_;
  const prometheus::Labels labels_;
  DropSeries dropped_bytes_{};
  DropSeries dropped_lines_{};
};

class Metrics {
 public:
  // How long a container's series outlive its last holder.
  static constexpr int64_t kLingerNanos = 120'000'000'000;

  explicit Metrics(Clock& clock);
  ~Metrics();

  // The container's handle, made if it has none (name: without Docker's
  // leading '/'). Also forgets containers released more than kLingerNanos ago.
  std::shared_ptr<ContainerMetrics> container(const std::string& id, const std::string& name);
  // Forgets containers released more than kLingerNanos ago (as a scrape does,
  // for nodes nobody scrapes); returns how many have series now.
  size_t sweep();
  // Sets the bytes on disk of containers that have series; others are ignored
  // (no series for logs nobody writes).
  void set_disk_bytes(const std::map<std::string, uint64_t>& bytes_by_container);

  // Plugin-wide series.
  prometheus::Gauge& followers() { return *followers_; }
  prometheus::Histogram& probe_duration() { return *probe_duration_; }
  prometheus::Histogram& start_logging_duration() { return *start_logging_duration_; }
  prometheus::Gauge& sessions() { return *sessions_; }
  prometheus::Gauge& compressor_queued() { return *compressor_queued_; }
  prometheus::Gauge& compressor_lag() { return *compressor_lag_; }
  prometheus::Gauge& compressor_yielding() { return *compressor_yielding_; }
  prometheus::Gauge& node_budget() { return *node_budget_; }
  prometheus::Gauge& node_backlog() { return *node_backlog_; }
  prometheus::Gauge& node_backlog_limit() { return *node_backlog_limit_; }

  // Runs before every scrape (to read values others own). Register before serving.
  void on_scrape(std::function<void()> refresh);
  // Everything, in Prometheus's text exposition format (version 0.0.4).
  std::string scrape();
  // Containers that have series now.
  size_t containers();

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  friend class ContainerMetrics;
  struct Held {
    std::shared_ptr<ContainerMetrics> handle;
    int64_t released_at = 0;  // monotonic; 0 while held
  };
  void sweep_locked(int64_t mono_now);
  void remove(ContainerMetrics& c);

  Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& received_bytes_;
  prometheus::Family<prometheus::Counter>& received_lines_;
  prometheus::Family<prometheus::Counter>& written_bytes_;
  prometheus::Family<prometheus::Counter>& written_lines_;
  prometheus::Family<prometheus::Counter>& dropped_bytes_;
  prometheus::Family<prometheus::Counter>& dropped_lines_;
  prometheus::Family<prometheus::Counter>& blocked_seconds_;
  prometheus::Family<prometheus::Counter>& rotations_;
  prometheus::Family<prometheus::Counter>& compressed_input_;
  prometheus::Family<prometheus::Counter>& compressed_output_;
  prometheus::Family<prometheus::Gauge>& disk_bytes_;
  prometheus::Counter* write_errors_;
  prometheus::Histogram* write_duration_;
  prometheus::Histogram* probe_duration_;
  prometheus::Histogram* start_logging_duration_;
  prometheus::Gauge* followers_;
  prometheus::Gauge* sessions_;
  prometheus::Gauge* compressor_queued_;
  prometheus::Gauge* compressor_lag_;
  prometheus::Gauge* compressor_yielding_;
  prometheus::Gauge* node_budget_;
  prometheus::Gauge* node_backlog_;
  prometheus::Gauge* node_backlog_limit_;

  std::mutex mu_;
  std::map<std::string, Held> containers_;  // by container ID; guarded by mu_
  std::vector<std::function<void()>> refreshers_;
};

}  // namespace logguard
