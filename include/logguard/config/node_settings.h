// The node guard's plugin settings (environment variables of config.json,
// changed with `docker plugin set`), parsed and validated at start; a bad
// one stops the plugin with the setting named.
//
// | setting             | meaning                                             | default |
// |---------------------|-----------------------------------------------------|---------|
// | NODE_WRITE_RATE     | auto, auto:<ceiling> (e.g. auto:64m), a fixed rate   | auto    |
// |                     | (32m, parsed like rate), or off                      |         |
// | NODE_WRITE_BURST    | what the node absorbs beyond the budget: bytes      | 64m     |
// |                     | written and not yet handed to the disk (a size)     |         |
// | NODE_LATENCY_TARGET | write latency auto keeps the log disk under (50ms)   | 50ms    |
// | NODE_MAX_DISK       | all logs together: a size or a % of the log fs       | 10%     |
// | NODE_MIN_FREE       | free space always left on the log fs: size or %      | 15%     |
// | RETAIN              | without the engine's containers directory: delete    | 168h    |
// |                     | logs of containers without a session after this long |         |
// |                     | (a duration such as 72h, 30m, 7d; off: never)         |         |
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace logguard {

// A size in bytes, or a share of a filesystem's size.
struct DiskAmount {
  bool percent = false;
  double value = 0;  // bytes, or percent (0..100)
  uint64_t resolve(uint64_t filesystem_bytes) const;
  std::string describe() const;  // "10%" or "5GB"
};

inline constexpr uint64_t kMinWriteBurst = 1'000'000;

struct NodeSettings {
  enum class RateMode { kAuto, kFixed, kOff };
  RateMode rate_mode = RateMode::kAuto;
  double rate = 256e6;  // kFixed: the budget; kAuto: its ceiling (bytes/s)
  uint64_t write_burst = 64'000'000;  // the node's allowance of unflushed bytes
  int64_t latency_target_nanos = 50'000'000;
  DiskAmount max_disk{true, 10};
  DiskAmount min_free{true, 15};
  int64_t retain_nanos = int64_t{168} * 3600 * 1'000'000'000;  // 0: forever

  // One line for the plugin's log at start.
  std::string describe() const;
};

// Throws OptionError naming the setting, e.g.
// `logguard: invalid plugin setting NODE_MAX_DISK "lots": want a size such as 5g or a percentage such as 10%`.
NodeSettings node_settings_from_env(const std::function<const char*(const char*)>& getenv);

// "300ms", "1.5h", "2h45m", "7d" (Go's time.ParseDuration units plus d);
// nullopt if malformed or negative.
std::optional<int64_t> parse_duration(std::string_view text);

}  // namespace logguard
