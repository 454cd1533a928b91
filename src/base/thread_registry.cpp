#include "logguard/base/thread_registry.h"

#include <spdlog/spdlog.h>

namespace logguard {

void ThreadRegistry::spawn(std::function<void()> work) {
  std::lock_guard lock(mu_);
  reap_locked();
  auto& entry = threads_.emplace_back();
  auto body = [this, &entry, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::error("thread ended with an error: {}", e.what());
    }
    std::lock_guard lock(mu_);
    entry.done = true;
  };
  try {
    entry.thread = starter_ ? starter_(std::move(body)) : std::thread(std::move(body));
  } catch (...) {
    threads_.pop_back();
    throw;
  }
}

void ThreadRegistry::reap_locked() {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->done) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

void ThreadRegistry::join_all() {
  std::list<Entry> all;
  {
    std::lock_guard lock(mu_);
    all.splice(all.end(), threads_);
  }
  for (auto& entry : all) {
    if (entry.thread.joinable()) entry.thread.join();
  }
}

}  // namespace logguard
