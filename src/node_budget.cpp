#include "logguard/node_budget.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace logguard {
namespace {

constexpr double kNodeBurstSeconds = 0.1;    // the node bucket's capacity, in seconds of rate
constexpr double kQuietDebtSeconds = 0.05;   // how far quiet writers may overdraw it
constexpr double kShareBurstSeconds = 0.2;   // a share's own bucket, in seconds of its level
constexpr double kMinBurstBytes = 64 * 1024;
constexpr uint64_t kLeaseBytes = 16 * 1024;
constexpr int64_t kMaxWaitNanos = 100'000'000;  // levels change every interval: look again

double burst(double rate, double seconds) { return std::max(rate * seconds, kMinBurstBytes); }

int64_t capped(int64_t nanos) { return std::clamp<int64_t>(nanos, 1, kMaxWaitNanos); }

}  // namespace

std::shared_ptr<NodeBudget> NodeBudget::create(double rate, int64_t mono_now) {
  return std::shared_ptr<NodeBudget>(new NodeBudget(rate, mono_now));
}

NodeBudget::NodeBudget(double rate, int64_t mono_now)
    : rate_(std::max(rate, 0.0)),
      node_(std::max(rate_, 1.0), burst(rate_, kNodeBurstSeconds)),
      last_rebalance_(mono_now),
      level_(rate_) {
  node_.has_tokens(mono_now);  // starts the bucket's clock
}

double NodeBudget::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void NodeBudget::set_rate(double rate, int64_t mono_now) {
  std::lock_guard lock(mu_);
  rate_ = std::max(rate, 0.0);
  node_.reconfigure(mono_now, std::max(rate_, 1.0), burst(rate_, kNodeBurstSeconds));
  level_ = std::min(level_.load(), rate_);
  if (shares_.empty()) level_ = rate_;
}

double NodeBudget::fair_level() const { return level_.load(std::memory_order_relaxed); }

double NodeBudget::fair_level_for(const std::vector<double>& demands, double rate) {
  std::vector<double> bounded;
  size_t unbounded = 0;
  for (double d : demands) {
    if (d < 0) {
      ++unbounded;
    } else {
      bounded.push_back(d);
    }
  }
  std::sort(bounded.begin(), bounded.end());
  double remaining = rate;
  size_t left = demands.size();
  for (double d : bounded) {
    // Everyone left could have this much: it is below the level, fully served.
    if (d * static_cast<double>(left) > remaining) break;
    remaining -= d;
    --left;
  }
  if (left == 0) return rate;  // all served, with room to spare: no one is held back
  // A floor keeps a level from reaching zero when the small demands add up to
  // nearly everything; the node bucket still bounds the sum.
  double floor = rate / (4.0 * static_cast<double>(demands.size()));
  return std::max(remaining / static_cast<double>(left), floor);
}

void NodeBudget::rebalance(int64_t mono_now) {
  std::lock_guard lock(mu_);
  const double seconds = std::max<int64_t>(mono_now - last_rebalance_, 1) / 1e9;
  last_rebalance_ = mono_now;
  std::vector<double> demands, asked;
  std::vector<bool> limited;
  for (Share* share : shares_) {
    asked.push_back(static_cast<double>(share->asked_.exchange(0)) / seconds);
    limited.push_back(share->limited_.exchange(false));
    // A newcomer's demand is not known yet: count it as a flood, so it
    // starts with an equal share rather than the whole budget.
    const bool unknown = std::exchange(share->new_, false);
    demands.push_back(limited.back() || unknown ? -1.0 : asked.back());
  }
  const double level = rate_ <= 0 ? 0.0 : fair_level_for(demands, rate_);
  level_ = level;
  for (size_t i = 0; i < shares_.size(); ++i) {
    shares_[i]->quiet_ = !limited[i] && asked[i] < 0.5 * level;
  }
}

bool NodeBudget::lease(int64_t mono_now, uint64_t bytes, bool quiet) {
  std::lock_guard lock(mu_);
  node_.has_tokens(mono_now);  // refill
  const double floor = quiet ? -burst(rate_, kQuietDebtSeconds) : 0.0;
  if (node_.tokens() <= floor) return false;
  node_.charge(bytes);
  return true;
}

int64_t NodeBudget::nanos_until_node_tokens(int64_t mono_now) {
  std::lock_guard lock(mu_);
  return node_.nanos_until_positive(mono_now);
}

std::shared_ptr<NodeBudget::Share> NodeBudget::join(std::string name, int64_t mono_now) {
  {
    // A newcomer starts with an equal share until the next rebalance says
    // what everyone wants; it must not take a whole budget's burst at once.
    std::lock_guard lock(mu_);
    if (rate_ > 0) {
      level_ = std::min(level_.load(), rate_ / static_cast<double>(shares_.size() + 1));
    }
  }
  std::shared_ptr<Share> share(new Share(shared_from_this(), std::move(name), mono_now));
  std::lock_guard lock(mu_);
  shares_.push_back(share.get());
  return share;
}

void NodeBudget::leave(Share* share) {
  std::lock_guard lock(mu_);
  std::erase(shares_, share);
}

NodeBudget::Share::Share(std::shared_ptr<NodeBudget> budget, std::string name, int64_t mono_now)
    : budget_(std::move(budget)),
      name_(std::move(name)),
      own_(std::max(budget_->fair_level(), 1.0),
           burst(budget_->fair_level(), kShareBurstSeconds)),
      own_rate_(budget_->fair_level()) {
  own_.has_tokens(mono_now);
}

NodeBudget::Share::~Share() { budget_->leave(this); }

void NodeBudget::Share::follow_level(int64_t mono_now) {
  const double level = budget_->fair_level();
  if (level == own_rate_) return;
  own_rate_ = level;
  own_.reconfigure(mono_now, std::max(level, 1.0), burst(level, kShareBurstSeconds));
}

bool NodeBudget::Share::take_credit(int64_t mono_now, uint64_t cost) {
  if (credit_ < cost) {
    const uint64_t want = std::max(cost - credit_, kLeaseBytes);
    if (!budget_->lease(mono_now, want, quiet_.load(std::memory_order_relaxed))) return false;
    credit_ += want;
  }
  credit_ -= cost;
  return true;
}

NodeBudget::Share::Verdict NodeBudget::Share::admit(int64_t mono_now, uint64_t cost) {
  asked_.fetch_add(cost, std::memory_order_relaxed);
  if (budget_->fair_level() <= 0) {  // no node budget
    budget_->used_.fetch_add(cost, std::memory_order_relaxed);
    return {true, 0};
  }
  follow_level(mono_now);
  if (!own_.has_tokens(mono_now)) {
    limited_.store(true, std::memory_order_relaxed);
    return {false, capped(own_.nanos_until_positive(mono_now))};
  }
  if (!take_credit(mono_now, cost)) {
    limited_.store(true, std::memory_order_relaxed);
    // Use it or lose it: tokens saved while the node bucket was dry would
    // let this writer crowd out the others once it refills.
    if (own_.tokens() > 0) own_.charge(static_cast<uint64_t>(own_.tokens()));
    return {false, capped(budget_->nanos_until_node_tokens(mono_now))};
  }
  own_.charge(cost);
  budget_->used_.fetch_add(cost, std::memory_order_relaxed);
  return {true, 0};
}

void NodeBudget::Share::charge(int64_t mono_now, uint64_t cost) {
  asked_.fetch_add(cost, std::memory_order_relaxed);
  budget_->used_.fetch_add(cost, std::memory_order_relaxed);
  if (budget_->fair_level() <= 0) return;
  follow_level(mono_now);
  own_.has_tokens(mono_now);  // refill before going into debt
  own_.charge(cost);
  if (credit_ >= cost) {
    credit_ -= cost;
    return;
  }
  const uint64_t owed = cost - credit_;
  credit_ = 0;
  std::lock_guard lock(budget_->mu_);
  budget_->node_.has_tokens(mono_now);
  budget_->node_.charge(owed);
}

int64_t NodeBudget::Share::nanos_until_clear(int64_t mono_now) {
  if (budget_->fair_level() <= 0) return 0;
  follow_level(mono_now);
  return std::max(own_.nanos_until_positive(mono_now), budget_->nanos_until_node_tokens(mono_now));
}

}  // namespace logguard
