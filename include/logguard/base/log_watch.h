// LogWatch: how a container's writer wakes the readers that follow its log
// (`docker logs -f`) without anyone polling. One per container log.
//
// Each follower subscribes and gets an eventfd that becomes readable after the
// writer's next notify() or close(); a follower poll()s it together with its
// client socket, so an idle follower costs no CPU and notices a disconnect.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace logguard {

class LogWatch {
 public:
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // Readable (POLLIN) after a notify() or close() not yet consumed.
    int fd() const { return fd_; }
    // Clears the readable state; call before re-reading the files.
    void consume();

   private:
    friend class LogWatch;
    Subscription(std::shared_ptr<LogWatch> watch, int fd) : watch_(std::move(watch)), fd_(fd) {}
    std::shared_ptr<LogWatch> watch_;
    int fd_;
  };

  static std::shared_ptr<LogWatch> create();

  // Writer side: data was appended or files were rotated.
  void notify();
  // Writer side: the logging session ended; no more data will come.
  void close();
  bool closed() const;
  // Whether anyone follows the log now (writers pace their reads to it).
  bool has_followers() const;

  // Follower side. Throws std::system_error if no eventfd can be made.
  std::unique_ptr<Subscription> subscribe();

 private:
  LogWatch() = default;
  void unsubscribe(int fd);

  std::weak_ptr<LogWatch> self_;
  mutable std::mutex mu_;
  std::vector<int> fds_;
  bool closed_ = false;
};

}  // namespace logguard
