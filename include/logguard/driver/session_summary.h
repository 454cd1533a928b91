// What a logging session did, in one line for the plugin's log when its
// container stops: an operator reading the engine's log sees each
// container's totals without a metrics query (metrics.h counts the same,
// live).
#pragma once

#include <string>

#include "logguard/ingest/limiter.h"

namespace logguard {

// "received 1200 lines (130kB), wrote 1000, dropped 200 (rate 150, node-rate 50)";
// "dropped none" when nothing was.
std::string describe_totals(const Limiter::Totals& totals);

}  // namespace logguard
