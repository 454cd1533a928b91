// The engine's request bodies, decoded into typed requests, and the plugin's
// error reply. Pure: no I/O and no driver, so it can be fuzzed on its own.
// Shapes as the engine really sends them (docs/PROTOCOL.md §3.2, §5,
// §7.1), which differ from Docker's docs in places: ReadLogs' options are under
// "Config"; arrays and maps of Info may be null.
//
// Each decoder returns a request or throws RequestError, whose message is
// what the engine shows its user ("logguard: ..."); nothing else escapes
// but std::bad_alloc.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "logguard/format/container_info.h"
#include "logguard/read/log_reader.h"

namespace logguard {

struct StartLoggingRequest {
  std::string file;  // the FIFO; never empty
  ContainerInfo info;
};

struct StopLoggingRequest {
  std::string file;  // may be empty (then it names no session)
};

struct ReadLogsRequest {
  ContainerInfo info;
  ReadRequest read;  // tail: any negative Tail reads as -1 (all)
};

// A body the plugin cannot use. The message is meant for the engine's user.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

StartLoggingRequest decode_start_logging(std::string_view body);
StopLoggingRequest decode_stop_logging(std::string_view body);
ReadLogsRequest decode_read_logs(std::string_view body);

// {"Err":"<message>"}, the protocol's error reply: valid JSON whatever bytes
// message holds (invalid UTF-8 becomes U+FFFD, as Go's encoder does).
std::string encode_error(std::string_view message);

}  // namespace logguard
