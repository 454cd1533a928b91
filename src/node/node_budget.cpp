#include "logguard/node/node_budget.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

namespace logguard {
namespace {

constexpr double kQuietMarginSeconds = 0.05;  // how far quiet writers may go beyond the allowance
constexpr double kShareBurstSeconds = 0.2;    // a share's own bucket, in seconds of its level
constexpr double kMinBurstBytes = 64 * 1024;
constexpr uint64_t kMinAllowance = 1 << 20;
constexpr int64_t kMinWaitNanos = 1'000'000;
constexpr int64_t kMaxWaitNanos = 100'000'000;  // levels change every interval: look again

double burst(double rate, double seconds) { return std::max(rate * seconds, kMinBurstBytes); }

int64_t capped(int64_t nanos) { return std::clamp<int64_t>(nanos, kMinWaitNanos, kMaxWaitNanos); }

}  // namespace

std::shared_ptr<NodeBudget> NodeBudget::create(double rate, uint64_t allowance,
                                               const std::atomic<uint64_t>& backlog,
                                               int64_t mono_now) {
  auto budget = std::shared_ptr<NodeBudget>(new NodeBudget(rate, allowance, backlog));
  budget->last_rebalance_ = mono_now;
  return budget;
}

NodeBudget::NodeBudget(double rate, uint64_t allowance, const std::atomic<uint64_t>& backlog)
    : setting_(allowance), backlog_(backlog), rate_(std::max(rate, 0.0)), level_(rate_) {
  set_allowance_locked();
}

double NodeBudget::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void NodeBudget::set_rate(double rate, int64_t mono_now) {
  std::lock_guard lock(mu_);
  rate_ = std::max(rate, 0.0);
  level_ = std::min(level_.load(), rate_);
  if (shares_.empty()) level_ = rate_;
  set_allowance_locked();
}

void NodeBudget::set_allowance_locked() {
  const double bound = std::max(rate_ * kMaxBacklogSeconds, static_cast<double>(kMinAllowance));
  allowance_ = rate_ <= 0 ? setting_ : std::min(setting_, static_cast<uint64_t>(bound));
  calm_below_ = sustained_ ? low_water_locked() : allowance_ / 2;
}

uint64_t NodeBudget::low_water_locked() const {
  const double low = std::max(rate_ * kLowWaterSeconds, static_cast<double>(kMinAllowance));
  return std::min(static_cast<uint64_t>(low), allowance_.load() / 2);
}

double NodeBudget::follow_pressure_locked(int64_t mono_now, double asked, bool refused) {
  const uint64_t backlog = backlog_.load(std::memory_order_relaxed);
  const uint64_t low = low_water_locked();
  if (backlog <= low) {
    above_low_since_ = 0;
  } else if (above_low_since_ == 0) {
    above_low_since_ = mono_now;
  }
  if (refused || asked >= rate_) last_pressed_ = mono_now;
  if (!sustained_ && above_low_since_ != 0 && mono_now - above_low_since_ >= kSustainNanos) {
    sustained_ = true;
    last_pressed_ = mono_now;
  } else if (sustained_ && mono_now - last_pressed_ >= kSustainNanos) {
    sustained_ = false;
  }
  set_allowance_locked();
  return sustained_ && backlog > 2 * low ? rate_ / 2 : rate_;
}

uint64_t NodeBudget::quiet_margin() const {
  return static_cast<uint64_t>(burst(fair_level(), kQuietMarginSeconds));
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
  // nearly everything; the allowance still bounds the sum.
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
  if (rate_ <= 0) {
    level_ = 0.0;
    return;
  }
  const double shared = follow_pressure_locked(
      mono_now, std::accumulate(asked.begin(), asked.end(), 0.0),
      std::find(limited.begin(), limited.end(), true) != limited.end());
  const double level = fair_level_for(demands, shared);
  level_ = level;
  for (size_t i = 0; i < shares_.size(); ++i) {
    shares_[i]->quiet_ = !limited[i] && asked[i] < 0.5 * level;
  }
}

std::shared_ptr<NodeBudget::Share> NodeBudget::join(std::string name, int64_t mono_now) {
  {
    // A newcomer starts with an equal share until the next rebalance says
    // what everyone wants.
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

int64_t NodeBudget::Share::nanos_to_drain(uint64_t excess) const {
  const double rate = budget_->rate();
  if (rate <= 0) return kMinWaitNanos;
  return capped(static_cast<int64_t>(static_cast<double>(excess) / rate * 1e9));
}

NodeBudget::Share::Verdict NodeBudget::Share::admit(int64_t mono_now, uint64_t cost) {
  asked_.fetch_add(cost, std::memory_order_relaxed);
  if (budget_->fair_level() <= 0) {  // no node budget
    budget_->used_.fetch_add(cost, std::memory_order_relaxed);
    return {true, 0};
  }
  follow_level(mono_now);
  const uint64_t backlog = budget_->backlog() + cost;
  const uint64_t allowance = budget_->allowance();
  bool admitted;
  if (backlog <= budget_->calm_below()) {  // calm
    own_.has_tokens(mono_now);  // keeps the bucket's time; it is full when pressure starts
    admitted = true;
  } else if (backlog <= allowance) {  // pressed: each its share
    admitted = own_.try_take(mono_now, cost);
    if (!admitted) {
      limited_.store(true, std::memory_order_relaxed);
      return {false, capped(own_.nanos_until_positive(mono_now))};
    }
  } else {  // full: only the quiet
    admitted = quiet_.load(std::memory_order_relaxed) &&
               backlog <= allowance + budget_->quiet_margin();
    if (!admitted) {
      limited_.store(true, std::memory_order_relaxed);
      // Use it or lose it: tokens saved while the backlog was full would
      // let this writer crowd out the others once it drains.
      if (own_.tokens() > 0) own_.charge(static_cast<uint64_t>(own_.tokens()));
      return {false, nanos_to_drain(backlog - allowance)};
    }
    own_.charge(cost);
  }
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
}

int64_t NodeBudget::Share::nanos_until_clear(int64_t mono_now) {
  if (budget_->fair_level() <= 0) return 0;
  const uint64_t backlog = budget_->backlog();
  const uint64_t allowance = budget_->allowance();
  if (backlog <= budget_->calm_below()) return 0;
  follow_level(mono_now);
  int64_t wait = own_.nanos_until_positive(mono_now);
  if (backlog > allowance) wait = std::max(wait, nanos_to_drain(backlog - allowance));
  return wait;
}

}  // namespace logguard
