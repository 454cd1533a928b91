// PluginApi: Docker's logging-plugin protocol on top of the Driver. Decodes
// the engine's JSON requests, encodes replies ({"Err": ...} on failure, never
// an empty 200 body) and streams ReadLogs as length-prefixed LogEntry frames.
// See shared/docs/docker-plugin-protocol.md for the shapes the engine really
// sends (they differ from Docker's own docs in places).
#pragma once

#include "logguard/driver.h"
#include "logguard/http_server.h"

namespace logguard {

class PluginApi : public RequestHandler {
 public:
  explicit PluginApi(Driver& driver) : driver_(driver) {}

  bool is_streaming(std::string_view path) const override;
  Reply handle(std::string_view path, const std::string& body) override;
  void stream(std::string_view path, const std::string& body, ResponseStream& out) override;

 private:
  Reply start_logging(const std::string& body);
  Reply stop_logging(const std::string& body);

  Driver& driver_;
};

}  // namespace logguard
