#include "logguard/server/plugin_api.h"

#include <spdlog/spdlog.h>

#include "logguard/format/frame.h"
#include "logguard/server/plugin_requests.h"

namespace logguard {
namespace {

constexpr std::string_view kActivate = "/Plugin.Activate";
constexpr std::string_view kCapabilities = "/LogDriver.Capabilities";
constexpr std::string_view kStartLogging = "/LogDriver.StartLogging";
constexpr std::string_view kStopLogging = "/LogDriver.StopLogging";
constexpr std::string_view kReadLogs = "/LogDriver.ReadLogs";
constexpr std::string_view kMetrics = "/metrics";

// What a reply says when even making the error reply failed (out of memory).
constexpr const char* kInternalError = R"({"Err":"logguard: internal error"})";

RequestHandler::Reply ok() { return {200, "{}"}; }

// The reply for the exception being handled. A refused request is the
// engine's to fix (400); a refusal of the driver is a normal answer whose
// Err the engine shows (200), as Docker's own plugins do; anything else is
// our failure (500). Bad log-opts are the user's to fix, and the engine
// logs them itself: info, not a warning in the engine's log.
RequestHandler::Reply error_reply(std::string_view path) noexcept {
  try {
    try {
      throw;
    } catch (const RequestError& e) {
      spdlog::warn("{}: {}", path, e.what());
      return {400, encode_error(e.what())};
    } catch (const OptionsRefused& e) {
      spdlog::info("{}: {}", path, e.what());
      return {200, encode_error(e.what())};
    } catch (const DriverError& e) {
      spdlog::warn("{}: {}", path, e.what());
      return {200, encode_error(e.what())};
    } catch (const std::exception& e) {
      spdlog::error("{} failed: {}", path, e.what());
      return {500, encode_error(std::string("logguard: ") + e.what())};
    }
  } catch (...) {
  }
  return {500, kInternalError};
}

// Writes records as the frames the engine decodes: its adapter writes
// `line` verbatim, so the stored "log" (newline included for complete lines)
// is exactly what goes out.
class FrameSink : public RecordSink {
 public:
  explicit FrameSink(ResponseStream& out) : out_(out) {}
  ~FrameSink() override { flush(); }

  bool write(const Record& record) override {
    LogEntryView entry;
    entry.source = record.stream;
    entry.time_nano = record.time_nanos;
    entry.line = record.log;
    append_frame(buffer_, entry);
    return buffer_.size() < kFlushSize || flush();
  }
  bool flush() override {
    if (buffer_.empty()) return alive_;
    alive_ = alive_ && out_.write(buffer_);
    buffer_.clear();
    return alive_;
  }
  int hangup_fd() const override { return out_.fd(); }

 private:
  static constexpr size_t kFlushSize = 64 * 1024;
  ResponseStream& out_;
  std::string buffer_;
  bool alive_ = true;
};

}  // namespace

RequestHandler::Mode PluginApi::mode(std::string_view path) const noexcept {
  if (path == kStartLogging) return Mode::kWorker;
  if (path == kStopLogging) return Mode::kWaiting;
  if (path == kReadLogs) return Mode::kStream;
  return Mode::kInstant;
}

RequestHandler::Reply PluginApi::handle(std::string_view path, const std::string& body) noexcept {
  try {
    return serve(path, body);
  } catch (...) {
    return error_reply(path);
  }
}

RequestHandler::Reply PluginApi::serve(std::string_view path, const std::string& body) {
  if (path == kActivate) return {200, R"({"Implements":["LogDriver"]})"};
  if (path == kCapabilities) return {200, R"({"Cap":{"ReadLogs":true}})"};
  if (path == kMetrics && metrics_ != nullptr) {
    return {200, metrics_->scrape(), Metrics::kContentType};
  }
  if (path == kStartLogging) {
    const StartLoggingRequest request = decode_start_logging(body);
    driver_.start_logging(request.file, request.info);
    return ok();
  }
  if (path == kStopLogging) {
    // The engine retries a call whose reply it lost with the body the first
    // attempt used up (docs/PROTOCOL.md §2.5): an empty StopLogging is such a
    // retry. Refusing it would make the engine give up its end of the FIFO to
    // the garbage collector; the session ends at the FIFO's EOF anyway.
    if (body.empty()) return ok();
    driver_.stop_logging(decode_stop_logging(body).file);
    return ok();
  }
  return {404, encode_error("logguard: unknown endpoint " + std::string(path))};
}

void PluginApi::stream(std::string_view path, const std::string& body,
                       ResponseStream& out) noexcept {
  ReadLogsRequest request;
  try {
    request = decode_read_logs(body);
    validate_container_id(request.info.id);
  } catch (...) {
    // Before the body starts, only a non-200 reply reads as an error: a 200
    // body is taken for frames.
    const Reply reply = error_reply(path);
    out.reply(reply.status == 200 ? 400 : reply.status, reply.json_body);
    return;
  }
  if (!out.begin("application/x-json-stream")) return;
  FrameSink sink(out);
  try {
    driver_.read_logs(request.info, request.read, sink);
  } catch (...) {
    // The protocol has no in-band errors: a stream cut inside a frame makes
    // `docker logs` report "unexpected EOF" instead of a silently short log.
    try {
      throw;
    } catch (const std::exception& e) {
      spdlog::error("reading logs of {} failed: {}", request.info.id.substr(0, 12), e.what());
    } catch (...) {
    }
    if (sink.flush()) out.write(std::string_view("\0\0", 2));
  }
}

std::string PluginApi::refusal(Refusal why, uint64_t limit) const noexcept {
  try {
    switch (why) {
      case Refusal::kBodyTooLarge:
        return encode_error("logguard: request body over " + std::to_string(limit) + " bytes");
      case Refusal::kTooManyStreams:
        return encode_error("logguard: too many docker logs streams (" + std::to_string(limit) +
                            ")");
      case Refusal::kNoThread:
        return encode_error("logguard: cannot start a thread for docker logs now; try again");
    }
  } catch (...) {
  }
  return kInternalError;
}

}  // namespace logguard
