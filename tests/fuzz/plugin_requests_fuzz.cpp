// The engine's request bodies: every decoder on every input may only return
// a request or throw RequestError; the error reply is valid JSON for any
// bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "logguard/server/plugin_requests.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

template <typename Decode>
void decode(Decode decode_body, std::string_view body) {
  try {
    decode_body(body);
  } catch (const logguard::RequestError& e) {
    check(std::string_view(e.what()).substr(0, 10) == "logguard: ");
    const auto reply = nlohmann::json::parse(logguard::encode_error(e.what()));
    check(reply.at("Err").is_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  decode(logguard::decode_start_logging, body);
  decode(logguard::decode_stop_logging, body);
  decode(logguard::decode_read_logs, body);
  const auto reply = nlohmann::json::parse(logguard::encode_error(body));
  check(reply.size() == 1 && reply.at("Err").is_string());
  return 0;
}
