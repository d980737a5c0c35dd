// Runtime switches of goro/debug.h.
#include <stdexcept>

#include "goro/debug.h"
#include "runtime/config.h"

namespace goro::debug {

bool set_deadlock_detection(bool enabled) noexcept {
  return detail::runtime_config().deadlock_detection.exchange(enabled, std::memory_order_relaxed);
}

void set_traceback(const std::string& level) {
  detail::TracebackLevel parsed;
  if (!detail::parse_traceback(level.c_str(), &parsed)) {
    throw std::invalid_argument("goro::debug::set_traceback: unknown level \"" + level +
                                "\" (want none, single, all, system or crash)");
  }
  detail::runtime_config().traceback.store(parsed, std::memory_order_relaxed);
}

}  // namespace goro::debug
