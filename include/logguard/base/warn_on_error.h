// warn_on_error: runs a clean-up step whose failure must not hide the error
// being handled (or stop the work around it): a failure is logged as a
// warning naming the step, and swallowed.
#pragma once

#include <exception>
#include <string_view>

#include <spdlog/spdlog.h>

namespace logguard {

template <typename Fn>
void warn_on_error(std::string_view what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}", what, e.what());
  }
}

}  // namespace logguard
