#include "logguard/node/budget_guard.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "logguard/base/size_parse.h"

namespace logguard {
namespace {

constexpr const char* kProbeName = ".logguard-probe";
// In auto mode the budget stays within these shares of the rate the disk
// takes the write-back's chunks at: at most this much of the disk's time for
// logs, the rest left idle for others' writes ...
constexpr double kHighShare = 0.5;
// ... and at least this much, however slow the probe: with one chunk of ours
// queued at most, cutting below it cannot make anyone's fsync faster.
constexpr double kLowShare = 0.3;

}  // namespace

BudgetGuard::BudgetGuard(const NodeSettings& settings, const std::string& root, FileSystem& fs,
                         WriteBack& write_back, Clock& clock, Metrics* metrics)
    : settings_(settings), write_back_(write_back), clock_(clock), metrics_(metrics) {
  if (settings_.rate_mode == NodeSettings::RateMode::kAuto) {
    WriteControllerConfig c;
    c.ceiling = settings_.rate;
    c.floor = std::min(c.floor, c.ceiling);
    c.target_nanos = settings_.latency_target_nanos;
    controller_.emplace(c);
    probe_ = std::make_unique<LatencyProbe>(root + "/" + kProbeName, clock_, fs);
  }
  const int64_t now = clock_.monotonic_nanos();
  budget_ = NodeBudget::create(pace(), settings_.write_burst, write_back_.backlog_counter(), now);
  paced_ = pace();
  write_back_.set_rate(paced_);
}

BudgetGuard::~BudgetGuard() { stop(); }

void BudgetGuard::start() {
  if (probe_) probe_->start();
}

void BudgetGuard::stop() {
  if (probe_) probe_->stop();
}

double BudgetGuard::pace() const {
  switch (settings_.rate_mode) {
    case NodeSettings::RateMode::kAuto:
      return controller_->rate();
    case NodeSettings::RateMode::kFixed:
      return settings_.rate;
    case NodeSettings::RateMode::kOff:
      break;
  }
  return 0;
}

void BudgetGuard::tick(int64_t mono_now) {
  const double service = write_back_.service_rate();
  if (controller_) {
    // Between 30 and 50 % of what the disk takes: the write-back keeps at
    // most a chunk of ours queued, so its share of a neighbour's latency is
    // bounded whatever the budget, and a probe slowed by something else (a
    // CPU-starved journal thread, another writer) must not starve the logs.
    if (service > 0) {
      controller_->set_bounds(kLowShare * service, kHighShare * service);
    } else {
      controller_->set_bounds(0, std::numeric_limits<double>::infinity());  // the setting's own
    }
    LatencyProbe::Reading reading = probe_->take();
    for (int64_t latency : reading.latencies) {
      controller_->on_probe(mono_now, latency);
      if (metrics_) metrics_->probe_duration().Observe(static_cast<double>(latency) / 1e9);
    }
    controller_->on_tick(mono_now, reading.in_flight_nanos);
    if (auto report = controller_->take_report()) spdlog::info("{}", *report);
  }
  const double pace = this->pace();
  if (pace != paced_) write_back_.set_rate(pace);
  paced_ = pace;
  if (pace > 0) {
    // Shares of what the node sustains: a disk slower than the budget
    // drains the backlog at its own rate.
    budget_->set_rate(service > 0 ? std::min(pace, service) : pace, mono_now);
  }
  budget_->rebalance(mono_now);
}

std::shared_ptr<NodeBudget::Share> BudgetGuard::join(const std::string& name) {
  return budget_->join(name, clock_.monotonic_nanos());
}

std::string BudgetGuard::describe() const {
  return "node-rate=" + format_size(static_cast<uint64_t>(budget_->rate())) +
         "/s (the log disk is " + format_size(budget_->allowance()) +
         " behind; this container's share " +
         format_size(static_cast<uint64_t>(budget_->fair_level())) + "/s)";
}

}  // namespace logguard
