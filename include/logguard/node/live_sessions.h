// LiveSessions: which containers have a logging session in this process, as
// the Driver knows them — a reattached session from the moment it is
// reattached, before its files are open. The node guard never treats such a
// container as removed (removal_guard.h).
#pragma once

#include <set>
#include <string>

namespace logguard {

class LiveSessions {
 public:
  virtual ~LiveSessions() = default;
  virtual std::set<std::string> live_containers() = 0;
};

}  // namespace logguard
