#include "logguard/driver.h"

#include <future>

#include <spdlog/spdlog.h>

#include "logguard/log_names.h"
#include "logguard/session.h"

namespace logguard {

void validate_container_id(const std::string& id) {
  if (!is_container_id(id)) throw DriverError("logguard: invalid container ID \"" + id + "\"");
}

Driver::Driver(DriverConfig config, FileSystem& fs, CompressionQueue* compressor, Clock& clock)
    : config_(std::move(config)), fs_(fs), compressor_(compressor), clock_(clock),
      directories_(fs) {}

Driver::~Driver() { shutdown(); }

std::shared_ptr<ContainerLog> Driver::acquire_log(const std::string& container_id,
                                                  const RotationOptions& rotation) {
  std::lock_guard lock(mu_);
  if (auto live = logs_[container_id].lock()) return live;
  auto dir = directories_.acquire(container_log_dir(config_.root, container_id),
                                  log_base_name(container_id));
  auto log = std::make_shared<ContainerLog>(fs_, std::move(dir), rotation, compressor_);
  logs_[container_id] = log;
  return log;
}

void Driver::start_logging(const std::string& fifo_path, const ContainerInfo& info) {
  validate_container_id(info.id);
  ContainerOptions options;
  try {
    options = parse_container_options(info.log_opts, config_.default_opts);
  } catch (const OptionError& e) {
    throw DriverError(e.what());
  }
  {
    std::lock_guard lock(mu_);
    if (sessions_.count(fifo_path)) return;  // a repeated request for a live stream
  }
  auto log = acquire_log(info.id, options.rotation);
  auto session = std::make_shared<Session>(fifo_path, options.limits, log, clock_);
  try {
    session->open_fifo();
  } catch (const std::exception& e) {
    throw DriverError(std::string("logguard: ") + e.what());
  }
  {
    std::lock_guard lock(mu_);
    sessions_[fifo_path] = session;
  }
  // The files are opened on the session's thread: on a stalled disk that
  // blocks the session, not this request for longer than open_timeout.
  auto opened = std::make_shared<std::promise<std::string>>();
  auto open_result = opened->get_future();
  threads_.spawn([this, session, log, opened]() mutable {
    try {
      log->open();
      opened->set_value("");
    } catch (const std::exception& e) {
      opened->set_value(e.what());
    }
    log.reset();  // the session holds the log; it closes when the last session ends
    session->run();
    forget(session->fifo_path(), session.get());
  });
  if (open_result.wait_for(config_.open_timeout) == std::future_status::timeout) {
    spdlog::warn("{}: opening the log files of {} is slow; logging starts when they open", fifo_path,
                 info.id.substr(0, 12));
    return;
  }
  if (std::string error = open_result.get(); !error.empty()) {
    session->shutdown();  // the engine will not write to a stream it failed to start
    throw DriverError("logguard: cannot write logs in " + log->dir() + ": " + error);
  }
  spdlog::info("logging container {} ({}) from {}", info.id.substr(0, 12), info.name, fifo_path);
}

void Driver::forget(const std::string& fifo_path, const Session* session) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(fifo_path);
  if (it != sessions_.end() && it->second.get() == session) sessions_.erase(it);
  std::erase_if(logs_, [](const auto& entry) { return entry.second.expired(); });
}

void Driver::stop_logging(const std::string& fifo_path) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(fifo_path);
    if (it == sessions_.end()) return;
    session = it->second;
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
  logguard::read_logs(container_log_dir(config_.root, info.id), log_base_name(info.id), request,
                      sink, std::move(watch));
}

void Driver::shutdown() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    for (auto& [path, session] : sessions_) sessions.push_back(session);
  }
  for (auto& session : sessions) session->shutdown();
  threads_.join_all();
}

}  // namespace logguard
