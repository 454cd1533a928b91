#include "logguard/base/thread_registry.h"

#include <iterator>

#include <spdlog/spdlog.h>

namespace logguard {

void ThreadRegistry::spawn(std::function<void()> work) {
  std::lock_guard lock(mu_);
  for (auto& ended : take_ended_locked()) ended.thread.join();
  auto& entry = threads_.emplace_back();
  auto body = [this, &entry, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::error("thread ended with an error: {}", e.what());
    }
    finish(entry);
  };
  try {
    entry.thread = starter_ ? starter_(std::move(body)) : std::thread(std::move(body));
  } catch (...) {
    threads_.pop_back();
    throw;
  }
}

// Joins the threads that ended before this one. An ended thread is not
// freed until it is joined: its stack stays mapped (with the pages it
// touched) and its thread-local storage stays. A thread takes only threads
// already done, and marks itself done after that, so no two threads ever
// join each other; one that takes this thread joins it after these joins.
void ThreadRegistry::finish(Entry& self) {
  std::list<Entry> ended;
  {
    std::lock_guard lock(mu_);
    ended = take_ended_locked();
    self.done = true;  // from here on another thread may take and join this one
  }
  for (auto& entry : ended) entry.thread.join();
}

size_t ThreadRegistry::held() {
  std::lock_guard lock(mu_);
  return threads_.size();
}

std::list<ThreadRegistry::Entry> ThreadRegistry::take_ended_locked() {
  std::list<Entry> ended;
  for (auto it = threads_.begin(); it != threads_.end();) {
    auto next = std::next(it);
    if (it->done) ended.splice(ended.end(), threads_, it);
    it = next;
  }
  return ended;
}

void ThreadRegistry::join_all() {
  std::list<Entry> all;
  {
    std::lock_guard lock(mu_);
    all.splice(all.end(), threads_);
  }
  // A thread in finish() joins the threads it took before it ends, so they
  // are joined too by the time this returns.
  for (auto& entry : all) {
    if (entry.thread.joinable()) entry.thread.join();
  }
}

}  // namespace logguard
