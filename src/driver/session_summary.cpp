#include "logguard/driver/session_summary.h"

#include "logguard/base/size_parse.h"

namespace logguard {

std::string describe_totals(const Limiter::Totals& totals) {
  std::string out = "received " + std::to_string(totals.lines_received) + " lines (" +
                    format_size(totals.bytes_received) + "), wrote " +
                    std::to_string(totals.lines_admitted) + ", dropped ";
  if (totals.lines_dropped == 0) return out + "none";
  out += std::to_string(totals.lines_dropped) + " (";
  const char* separator = "";
  for (size_t cause = 0; cause < Limiter::kDropCauses; ++cause) {
    if (totals.lines_dropped_by[cause] == 0) continue;
    out += separator;
    out += Limiter::drop_cause_name(cause);
    out += " " + std::to_string(totals.lines_dropped_by[cause]);
    separator = ", ";
  }
  return out + ")";
}

}  // namespace logguard
