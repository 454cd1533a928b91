#include "logguard/driver/driver.h"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "logguard/config/container_attrs.h"
#include "logguard/config/kube_log_link.h"
#include "logguard/format/log_names.h"
#include "logguard/ingest/fifo_stream.h"
#include "logguard/config/pod_log_link.h"
#include "logguard/ingest/session.h"
#include "logguard/driver/session_summary.h"
#include "logguard/base/size_parse.h"

namespace logguard {

void validate_container_id(const std::string& id) {
  if (!is_container_id(id)) throw DriverError("logguard: invalid container ID \"" + id + "\"");
}

Driver::Driver(DriverConfig config, FileSystem& fs, LogDirectories& directories,
               CompressionQueue* compressor, SessionStore* store, NodeGates* gates, Clock& clock,
               FifoPipes& pipes)
    : config_(std::move(config)),
      fs_(fs),
      directories_(directories),
      compressor_(compressor),
      store_(store),
      gates_(gates),
      clock_(clock),
      pipes_(pipes),
      kube_links_(fs, config_.root, config_.pod_links) {}

Driver::~Driver() { shutdown(); }

std::shared_ptr<ContainerLog> Driver::acquire_log(const std::string& container_id,
                                                  const std::string& container_name,
                                                  const RotationOptions& rotation) {
  std::lock_guard lock(mu_);
  if (auto live = logs_[container_id].lock()) return live;
  auto dir = directories_.acquire(container_log_dir(config_.root, container_id),
                                  log_base_name(container_id));
  std::shared_ptr<ContainerMetrics> metrics;
  if (config_.metrics) metrics = config_.metrics->container(container_id, container_name);
  auto log = std::make_shared<ContainerLog>(fs_, std::move(dir), rotation, compressor_,
                                            std::move(metrics));
  logs_[container_id] = log;
  return log;
}

// The engine creates every FIFO in its logging directory; anything else
// (/dev/zero, a regular file, a path elsewhere) is not a log stream.
void Driver::check_fifo_path(const std::string& fifo_path) const {
  const std::string& dir = config_.fifo_dir;
  const bool inside = fifo_path.size() > dir.size() + 1 && fifo_path.compare(0, dir.size(), dir) == 0 &&
                      fifo_path[dir.size()] == '/' &&
                      fifo_path.find('/', dir.size() + 1) == std::string::npos &&
                      fifo_path.substr(dir.size() + 1) != "..";
  if (!inside) {
    throw DriverError("logguard: File \"" + fifo_path + "\" is not in the engine's FIFO directory " +
                      dir);
  }
  if (!is_fifo(fifo_path)) throw DriverError("logguard: File \"" + fifo_path + "\" is not a FIFO");
}

// kubelet rotates the file at a container's CRI log path once it reaches its
// containerLogMaxSize, by renaming it and asking the runtime to reopen its
// log, which cri-dockerd cannot: it renames it back and logs an error, every
// 10 s. So a container that gets that link rotates below kubelet's size.
void Driver::cap_for_kubelet(const SessionRecord& record, RotationOptions& rotation) {
  if (!config_.pod_links) return;
  const KubeSettings& kube = config_.pod_links->settings();
  if (!pod_log_link(record.labels, record.container_id, kube)) return;
  const uint64_t capped = kube.linked_max_size(rotation.max_size);
  if (capped == rotation.max_size) return;
  if (!told_cap_.exchange(true)) {
    spdlog::info("containers linked at their CRI log path for kubelet rotate at {} at most, "
                 "whatever their max-size: kubelet rotates a file that reaches "
                 "KUBE_LOG_MAX_SIZE={} itself, which fails with cri-dockerd",
                 format_size(kube.linked_max_size(0)), format_size(kube.log_max_size));
  }
  rotation.max_size = capped;
}

Driver::Started Driver::make_session(const SessionRecord& record, bool reattached) {
  ContainerOptions options = parse_container_options(record.opts, {});
  cap_for_kubelet(record, options.rotation);
  auto log = acquire_log(record.container_id, record.container_name, options.rotation);
  std::unique_ptr<NodeGate> gate = gates_ ? gates_->gate_for(record.container_id) : nullptr;
  std::unique_ptr<ProgressLog> progress = store_ ? store_->progress(record.fifo) : nullptr;
  auto session = std::make_shared<Session>(
      Session::Config{record.fifo, options.limits, record.attrs, reattached}, log, std::move(gate),
      std::move(progress), clock_, pipes_);
  session->open_fifo();
  return {session, log};
}

void Driver::start_logging(const std::string& fifo_path, const ContainerInfo& info) {
  const int64_t began = clock_.monotonic_nanos();
  try {
    start_session(fifo_path, info);
  } catch (...) {
    time_start(began);
    throw;
  }
  time_start(began);
}

void Driver::time_start(int64_t began_nanos) {
  if (config_.metrics == nullptr) return;
  const int64_t took = clock_.monotonic_nanos() - began_nanos;
  config_.metrics->start_logging_duration().Observe(static_cast<double>(took) / 1e9);
}

void Driver::start_session(const std::string& fifo_path, const ContainerInfo& info) {
  validate_container_id(info.id);
  check_fifo_path(fifo_path);
  SessionRecord record{fifo_path, info.id, info.name, {}, {}, info.labels};
  try {
    record.opts = merge_log_opts(info.log_opts, config_.default_opts);
    parse_container_options(record.opts, {});
    record.attrs = container_attrs(info, system_hostname);
  } catch (const OptionError& e) {
    throw OptionsRefused(e.what());
  }
  {
    std::lock_guard lock(mu_);
    if (sessions_.count(fifo_path)) return;  // a repeated request for a live stream
  }
  Started started;
  try {
    started = make_session(record, false);
  } catch (const std::system_error& e) {
    throw DriverError(std::string("logguard: ") + e.what());
  }
  std::vector<std::shared_ptr<Session>> earlier;
  {
    std::lock_guard lock(mu_);
    if (!sessions_.emplace(fifo_path, LiveSession{started.session, info.id, info.labels}).second) {
      return;  // raced a twin
    }
    earlier = sessions_of(info.id, fifo_path);
  }
  // The files are opened on the session's thread: on a stalled disk that
  // blocks the session, not this request for longer than open_timeout.
  auto opened = std::make_shared<std::promise<std::string>>();
  auto open_result = opened->get_future();
  try {
    threads_.spawn([this, started, record, opened, earlier]() mutable {
      run_session(std::move(started.session), std::move(started.log), std::move(record),
                  [opened](const std::string& error) { opened->set_value(error); },
                  std::move(earlier));
    });
  } catch (const std::system_error& e) {
    // No thread (out of threads or memory): no session; the engine is told.
    forget(fifo_path, started.session.get());
    throw DriverError(std::string("logguard: cannot start a logging thread: ") + e.what());
  }
  if (open_result.wait_for(config_.open_timeout) == std::future_status::timeout) {
    spdlog::warn("{}: opening the log files of {} is slow; logging starts when they open",
                 fifo_path, info.id.substr(0, 12));
    return;
  }
  if (std::string error = open_result.get(); !error.empty()) {
    // The engine will not write to a stream it failed to start.
    {
      std::lock_guard lock(mu_);
      abandoned_.insert(fifo_path);
    }
    started.session->shutdown();
    throw DriverError("logguard: cannot write logs in " +
                      container_log_dir(config_.root, info.id) + ": " + error);
  }
  spdlog::info("logging container {} ({}) from {}", info.id.substr(0, 12), info.name, fifo_path);
}

// The live sessions of a container other than the one on `fifo_path`.
// Call with mu_ held.
std::vector<std::shared_ptr<Session>> Driver::sessions_of(const std::string& container_id,
                                                          const std::string& fifo_path) {
  std::vector<std::shared_ptr<Session>> found;
  for (const auto& [fifo, live] : sessions_) {
    if (fifo != fifo_path && live.container_id == container_id) found.push_back(live.session);
  }
  return found;
}

// A session's thread: persists it, opens its files, lets the container's
// earlier sessions write what their streams hold, runs it, and forgets it
// once its stream has ended (not when the plugin shuts down: the next
// process goes on with it).
void Driver::run_session(std::shared_ptr<Session> session, std::shared_ptr<ContainerLog> log,
                         SessionRecord record, std::function<void(const std::string&)> opened,
                         std::vector<std::shared_ptr<Session>> earlier) {
  if (store_) {
    try {
      store_->save(record);
    } catch (const std::exception& e) {
      spdlog::warn("{}: cannot persist the session (a plugin restart will not reattach it): {}",
                   record.fifo, e.what());
    }
  }
  try {
    log->open();
    opened("");
  } catch (const std::exception& e) {
    opened(e.what());
  }
  link(record);
  log.reset();  // the session holds the log; it closes when the last session ends
  wait_for_earlier(earlier, record);
  const bool ended = session->run();
  if (ended) {
    spdlog::info("stopped logging container {} ({}){}: {}", record.container_id.substr(0, 12),
                 record.container_name, session->reattached() ? " since the plugin restarted" : "",
                 describe_totals(session->totals()));
  }
  bool forget_record = ended;
  {
    std::lock_guard lock(mu_);
    forget_record |= abandoned_.erase(record.fifo) > 0;
  }
  if (forget_record && store_) {
    try {
      store_->remove(record.fifo);
    } catch (const std::exception& e) {
      spdlog::warn("{}: cannot forget the session: {}", record.fifo, e.what());
    }
  }
  forget(record.fifo, session.get());
  offer_link_name(record);
}

// A container has two streams when the engine restarted with live-restore:
// the old engine's FIFO, whose end the old session reads (lines it may hold
// for a gather of up to a second), and the new engine's. The lines of the
// old come first: the new session reads nothing until the old ones wrote
// all their streams held (bounded: a session that cannot write in time,
// e.g. on a stalled disk, is not waited for).
void Driver::wait_for_earlier(const std::vector<std::shared_ptr<Session>>& earlier,
                              const SessionRecord& record) {
  for (const auto& session : earlier) {
    if (!session->drain(config_.stop_drain_timeout)) {
      spdlog::warn("{}: an earlier stream of {} is still being written; this one goes on",
                   record.fifo, record.container_id.substr(0, 12));
    }
  }
}

bool Driver::has_session(const std::string& container_id) {
  std::lock_guard lock(mu_);
  return std::any_of(sessions_.begin(), sessions_.end(),
                     [&](const auto& entry) { return entry.second.container_id == container_id; });
}

void Driver::link(const SessionRecord& record) {
  try {
    kube_links_.ensure(record.container_id, record.labels,
                       [this](const std::string& id) { return has_session(id); });
  } catch (const std::exception& e) {
    spdlog::warn("{}: cannot link the log for Kubernetes: {}", record.container_id.substr(0, 12),
                 e.what());
  }
}

// A container whose session ended gives up its link's name (kube_links.h):
// another live container whose cut name is the same gets it.
void Driver::offer_link_name(const SessionRecord& ended) {
  const auto name = kube_log_link_name(ended.labels, ended.container_id);
  if (!name) return;
  std::vector<SessionRecord> sharers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [fifo, live] : sessions_) {
      if (live.container_id != ended.container_id &&
          kube_log_link_name(live.labels, live.container_id) == name) {
        sharers.push_back({fifo, live.container_id, "", {}, {}, live.labels});
      }
    }
  }
  for (const SessionRecord& sharer : sharers) link(sharer);
}

void Driver::reattach() {
  if (!store_) return;
  size_t reattached = 0, finished = 0;
  for (SessionRecord& record : store_->load_all()) {
    {
      std::lock_guard lock(mu_);
      if (sessions_.count(record.fifo)) continue;
    }
    if (!is_fifo(record.fifo)) {
      finished += spawn_finish_orphan(record);
      continue;
    }
    Started started;
    try {
      started = make_session(record, true);
    } catch (const std::exception& e) {
      spdlog::error("{}: cannot reattach: {}", record.fifo, e.what());
      finished += spawn_finish_orphan(record);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      sessions_.emplace(record.fifo,
                        LiveSession{started.session, record.container_id, record.labels});
    }
    try {
      threads_.spawn([this, started, record]() mutable {
        run_session(std::move(started.session), std::move(started.log), std::move(record),
                    [fifo = record.fifo](const std::string& error) {
                      if (!error.empty()) spdlog::error("{}: reopening the log: {}", fifo, error);
                    },
                    {});
      });
      ++reattached;
    } catch (const std::system_error& e) {
      // Kept in the store: the next start tries again.
      spdlog::error("{}: cannot start a thread to reattach: {}", record.fifo, e.what());
      forget(record.fifo, started.session.get());
    }
  }
  if (reattached + finished > 0) {
    spdlog::info("reattached {} logging sessions; finished {} whose container ended meanwhile",
                 reattached, finished);
  }
}

// Whether a thread could be started to finish the orphan; if not (out of
// threads), its record stays for the next start: reattach must not fail.
bool Driver::spawn_finish_orphan(const SessionRecord& record) {
  try {
    threads_.spawn([this, record] { finish_orphan(record); });
    return true;
  } catch (const std::system_error& e) {
    spdlog::error("{}: cannot start a thread to finish the session: {}", record.fifo, e.what());
    return false;
  }
}

// The container ended while no plugin ran: its files are recovered, rotated
// ones queued for compression, and the session forgotten.
void Driver::finish_orphan(const SessionRecord& record) {
  try {
    auto log = acquire_log(record.container_id, record.container_name,
                           parse_container_options(record.opts, {}).rotation);
    log->open();
  } catch (const std::exception& e) {
    spdlog::warn("{}: finishing the log of {}: {}", record.fifo, record.container_id.substr(0, 12),
                 e.what());
  }
  {
    std::lock_guard lock(mu_);
    std::erase_if(logs_, [](const auto& entry) { return entry.second.expired(); });
  }
  if (store_) store_->remove(record.fifo);
}

void Driver::forget(const std::string& fifo_path, const Session* session) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(fifo_path);
  if (it != sessions_.end() && it->second.session.get() == session) sessions_.erase(it);
  std::erase_if(logs_, [](const auto& entry) { return entry.second.expired(); });
}

void Driver::stop_logging(const std::string& fifo_path) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(fifo_path);
    if (it == sessions_.end()) return;
    session = it->second.session;
  }
  if (!session->drain(config_.stop_drain_timeout)) {
    spdlog::warn("{}: still writing held-back data after StopLogging", fifo_path);
  }
}

void Driver::read_logs(const ContainerInfo& info, const ReadRequest& request, RecordSink& sink) {
  validate_container_id(info.id);
  std::shared_ptr<LogWatch> watch;
  if (request.follow) {
    std::lock_guard lock(mu_);
    auto it = logs_.find(info.id);
    if (it != logs_.end()) {
      if (auto live = it->second.lock()) watch = live->watch();
    }
  }
  // Counted while it runs, however it ends.
  struct Following {
    prometheus::Gauge* gauge;
    explicit Following(prometheus::Gauge* g) : gauge(g) {
      if (gauge) gauge->Increment();
    }
    ~Following() {
      if (gauge) gauge->Decrement();
    }
  } following(request.follow && config_.metrics ? &config_.metrics->followers() : nullptr);
  // fs_ is rooted: nothing planted in the log directory is read through.
  logguard::read_logs(fs_, container_log_dir(config_.root, info.id), log_base_name(info.id),
                      request, sink, std::move(watch));
}

size_t Driver::session_count() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::set<std::string> Driver::live_containers() {
  std::lock_guard lock(mu_);
  std::set<std::string> live;
  for (const auto& [fifo, session] : sessions_) live.insert(session.container_id);
  return live;
}

void Driver::shutdown() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    for (auto& [path, live] : sessions_) sessions.push_back(live.session);
  }
  for (auto& session : sessions) session->shutdown();
  threads_.join_all();
}

}  // namespace logguard
