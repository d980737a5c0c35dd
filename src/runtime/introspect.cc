#include "goro/detail/introspect.h"

#include "runtime/g.h"
#include "runtime/scheduler.h"

namespace goro::detail {

const char* gstatus_string(GStatus s) noexcept {
  switch (s) {
    case GStatus::kFree: return "free";
    case GStatus::kIdle: return "idle";
    case GStatus::kRunnable: return "runnable";
    case GStatus::kRunning: return "running";
    case GStatus::kWaiting: return "waiting";
    case GStatus::kDead: return "dead";
  }
  return "unknown";
}

std::optional<GoroutineState> goroutine_state(std::uint64_t id) {
  Scheduler* s = Scheduler::get_if_started();
  if (s == nullptr || id == 0) return std::nullopt;
  std::optional<GoroutineState> found;
  s->stacks().for_each_slot([&](G* g) {
    if (found || g->live_id.load(std::memory_order_relaxed) != id) return;
    GStatus st = g->status.load(std::memory_order_acquire);
    if (st == GStatus::kFree || st == GStatus::kDead) return;
    GoroutineState out;
    out.status = gstatus_string(st);
    if (st == GStatus::kWaiting) {
      out.wait_reason = std::string(wait_reason_string(g->wait_reason.load(std::memory_order_relaxed)));
      out.wait_since_ns = g->wait_since.load(std::memory_order_relaxed);
    }
    found = std::move(out);
  });
  return found;
}

}  // namespace goro::detail
