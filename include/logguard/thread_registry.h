// ThreadRegistry: threads that run until their work ends (one per logging
// session, one per `docker logs` stream), joined at shutdown. Finished
// threads are reaped as new ones start, so the registry does not grow.
#pragma once

#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace logguard {

class ThreadRegistry {
 public:
  ~ThreadRegistry() { join_all(); }
  void spawn(std::function<void()> work);
  // Joins every thread; the caller must first make their work end.
  void join_all();

 private:
  struct Entry {
    std::thread thread;
    bool done = false;
  };
  void reap_locked();

  std::mutex mu_;
  std::list<Entry> threads_;
};

}  // namespace logguard
