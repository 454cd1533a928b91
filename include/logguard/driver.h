// Driver: the live logging sessions and the container logs they write; what
// StartLogging, StopLogging and ReadLogs do, independent of HTTP and JSON.
//
// Ownership: the driver owns sessions (keyed by FIFO path, as the engine may
// run two sessions for one container) and each session owns a reference to
// its ContainerLog; a ContainerLog lives while any session writes to it, and
// the driver keeps only weak references to find it again.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "logguard/clock.h"
#include "logguard/container_info.h"
#include "logguard/container_log.h"
#include "logguard/log_directory.h"
#include "logguard/log_reader.h"
#include "logguard/options.h"
#include "logguard/thread_registry.h"

namespace logguard {

class Session;

// A request the driver refuses; the message is shown to the user by `docker run`.
class DriverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DriverConfig {
  std::string root;      // container logs live in <root>/<id>/<id>-json.log
  LogOpts default_opts;  // plugin settings, overridden by each container's log-opts
  // How long StopLogging waits for the FIFO's remaining data to be written.
  std::chrono::milliseconds stop_drain_timeout{5000};
  // How long StartLogging waits for the container's files to open before it
  // answers anyway (a stalled disk must not hold the engine's request).
  std::chrono::milliseconds open_timeout{3000};
};

class Driver {
 public:
  Driver(DriverConfig config, FileSystem& fs, CompressionQueue* compressor,
         Clock& clock = system_clock());
  ~Driver();

  // Validates the options, opens the FIFO and the container's log, and starts
  // reading. Throws DriverError (bad options, unusable files).
  void start_logging(const std::string& fifo_path, const ContainerInfo& info);
  // Waits (bounded) until what the FIFO holds is written; the session ends
  // by itself when the engine closes the FIFO. Unknown FIFOs are fine.
  void stop_logging(const std::string& fifo_path);
  // Streams the container's records to sink; blocks until done (follow:
  // until the container's logging ends or the client leaves).
  void read_logs(const ContainerInfo& info, const ReadRequest& request, RecordSink& sink);
  // Ends every session after writing what is readable now, and joins them.
  void shutdown();


 private:
  std::shared_ptr<ContainerLog> acquire_log(const std::string& container_id,
                                            const RotationOptions& rotation);
  void forget(const std::string& fifo_path, const Session* session);

  DriverConfig config_;
  FileSystem& fs_;
  CompressionQueue* compressor_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;       // by FIFO path
  std::map<std::string, std::weak_ptr<ContainerLog>> logs_;        // by container ID
  LogDirectories directories_;
  ThreadRegistry threads_;
};

// Throws DriverError unless id is safe to use as a file name (log_names.h).
void validate_container_id(const std::string& id);

}  // namespace logguard
