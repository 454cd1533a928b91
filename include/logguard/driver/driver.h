// Driver: the live logging sessions and the container logs they write; what
// StartLogging, StopLogging and ReadLogs do, independent of HTTP and JSON;
// and, at start, reattaching the sessions a previous process left behind.
//
// Ownership: the driver owns sessions (keyed by FIFO path, as the engine may
// run two sessions for one container: after a live-restore restart, the old
// engine's FIFO until its end, whose lines come first, and the new one's)
// and each session owns a reference to its ContainerLog; a ContainerLog
// lives while any session writes to it, and the driver keeps only weak
// references to find it again. Sessions are persisted in the SessionStore
// from StartLogging until their stream ends.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "logguard/base/clock.h"
#include "logguard/format/container_info.h"
#include "logguard/storage/container_log.h"
#include "logguard/storage/kube_links.h"
#include "logguard/node/live_sessions.h"
#include "logguard/storage/log_directory.h"
#include "logguard/read/log_reader.h"
#include "logguard/metrics/metrics.h"
#include "logguard/ingest/node_gate.h"
#include "logguard/config/options.h"
#include "logguard/storage/pod_links.h"
#include "logguard/storage/session_store.h"
#include "logguard/base/thread_registry.h"

namespace logguard {

class FifoPipes;
class Session;

// A request the driver refuses; the message is shown to the user by `docker run`.
class DriverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Refused for the container's log-opts: the user's mistake, which the engine
// reports to the user and in its own log; not a fault of the plugin's.
class OptionsRefused : public DriverError {
 public:
  using DriverError::DriverError;
};

struct DriverConfig {
  std::string root;      // container logs live in <root>/<id>/<id>-json.log
  LogOpts default_opts;  // plugin settings, overridden by each container's log-opts
  // Where the engine creates FIFOs; StartLogging refuses any other File.
  std::string fifo_dir = "/run/docker/logging";
  // How long StopLogging waits for the FIFO's remaining data to be written.
  std::chrono::milliseconds stop_drain_timeout{5000};
  // How long StartLogging waits for the container's files to open before it
  // answers anyway (a stalled disk must not hold the engine's request).
  std::chrono::milliseconds open_timeout{3000};
  // Where containers' logging and followers are counted; null: nowhere.
  Metrics* metrics = nullptr;
  // The links at CRI log paths for kubelet; null: none are made. Containers
  // that get one rotate below kubelet's containerLogMaxSize.
  PodLinks* pod_links = nullptr;
};

class Driver : public LiveSessions {
 public:
  // compressor, store and gates may be null (no compression, no
  // persistence, no node limits). pipes: what the sessions' FIFO streams
  // share (fifo_stream.h).
  Driver(DriverConfig config, FileSystem& fs, LogDirectories& directories,
         CompressionQueue* compressor, SessionStore* store, NodeGates* gates, Clock& clock,
         FifoPipes& pipes);
  ~Driver() override;

  // Goes on with every session a previous process persisted: a FIFO that
  // still exists is read again (nothing lost, nothing repeated); one that is
  // gone means the container ended meanwhile: its files are finished
  // (rotated ones compressed) and the session forgotten. Call before serving.
  // Never throws: a session it cannot go on with is logged and left.
  void reattach();
  // Validates the options, opens the FIFO and the container's log, and starts
  // reading (once the container's earlier live sessions wrote what their
  // streams held). Throws DriverError (bad options, a File that is not the
  // engine's FIFO, unusable files). Repeated for a live FIFO: nothing happens.
  // How long it took, however it ended, goes to the metrics: `docker run`
  // waits for it.
  void start_logging(const std::string& fifo_path, const ContainerInfo& info);
  // Waits (bounded) until what the FIFO holds is written; the session ends
  // by itself when the engine closes the FIFO. Unknown FIFOs are fine.
  void stop_logging(const std::string& fifo_path);
  // Streams the container's records to sink; blocks until done (follow:
  // until the container's logging ends or the client leaves).
  void read_logs(const ContainerInfo& info, const ReadRequest& request, RecordSink& sink);
  // Ends every session after writing what was decided; what was not stays in
  // the FIFOs for the next process. Joins them.
  void shutdown();
  // Live sessions, for metrics and tests.
  size_t session_count();
  // The containers of the live sessions, reattached ones included.
  std::set<std::string> live_containers() override;

 private:
  struct Started {
    std::shared_ptr<Session> session;
    std::shared_ptr<ContainerLog> log;
  };
  void start_session(const std::string& fifo_path, const ContainerInfo& info);
  void time_start(int64_t began_nanos);
  Started make_session(const SessionRecord& record, bool reattached);
  void run_session(std::shared_ptr<Session> session, std::shared_ptr<ContainerLog> log,
                   SessionRecord record, std::function<void(const std::string&)> opened,
                   std::vector<std::shared_ptr<Session>> earlier);
  std::vector<std::shared_ptr<Session>> sessions_of(const std::string& container_id,
                                                    const std::string& fifo_path);
  void wait_for_earlier(const std::vector<std::shared_ptr<Session>>& earlier,
                        const SessionRecord& record);
  std::shared_ptr<ContainerLog> acquire_log(const std::string& container_id,
                                            const std::string& container_name,
                                            const RotationOptions& rotation);
  bool spawn_finish_orphan(const SessionRecord& record);
  void finish_orphan(const SessionRecord& record);
  void cap_for_kubelet(const SessionRecord& record, RotationOptions& rotation);
  void link(const SessionRecord& record);
  void offer_link_name(const SessionRecord& ended);
  bool has_session(const std::string& container_id);
  void forget(const std::string& fifo_path, const Session* session);
  void check_fifo_path(const std::string& fifo_path) const;

  DriverConfig config_;
  FileSystem& fs_;
  LogDirectories& directories_;
  CompressionQueue* compressor_;
  SessionStore* store_;
  NodeGates* gates_;
  Clock& clock_;
  FifoPipes& pipes_;
  KubeLinks kube_links_;
  std::mutex mu_;
  struct LiveSession {
    std::shared_ptr<Session> session;
    std::string container_id;
    std::map<std::string, std::string> labels;
  };
  std::map<std::string, LiveSession> sessions_;               // by FIFO path
  std::map<std::string, std::weak_ptr<ContainerLog>> logs_;   // by container ID
  std::set<std::string> abandoned_;  // FIFOs whose sessions end for good, whatever happens
  std::atomic<bool> told_cap_{false};  // the kubelet max-size cap was logged
  ThreadRegistry threads_;
};

// Throws DriverError unless id is safe to use as a file name (log_names.h).
void validate_container_id(const std::string& id);

}  // namespace logguard
