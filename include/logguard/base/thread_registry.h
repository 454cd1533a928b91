// ThreadRegistry: threads that run until their work ends (one per logging
// session, one per `docker logs` stream), joined at shutdown. A thread that
// ends joins those that ended before it, and a new one joins any left, so at
// most one ended thread is unjoined at a time: the registry does not grow,
// and ended threads' stacks are given back without waiting for a new thread.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace logguard {

class ThreadRegistry {
 public:
  // How a thread is started (tests inject failures); empty: std::thread.
  using Starter = std::function<std::thread(std::function<void()>)>;

  explicit ThreadRegistry(Starter starter = {}) : starter_(std::move(starter)) {}
  ~ThreadRegistry() { join_all(); }

  // Runs work on a new thread. Throws std::system_error when no thread can
  // be started (out of threads or memory): then work has not run and the
  // registry is as it was.
  void spawn(std::function<void()> work);
  // Joins every thread; the caller must first make their work end.
  void join_all();
  // Threads running, or ended and not yet joined.
  size_t held();

 private:
  struct Entry {
    std::thread thread;
    bool done = false;
  };
  void finish(Entry& self);
  // Moves the ended threads out of threads_ (mu_ held); the caller joins them.
  std::list<Entry> take_ended_locked();

  Starter starter_;
  std::mutex mu_;
  std::list<Entry> threads_;
};

}  // namespace logguard
