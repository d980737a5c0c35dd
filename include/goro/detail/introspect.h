// A goroutine's scheduling state by ID: what the runtime records on every
// goroutine (status, Go's wait reason, since when). Internal, for goro's own
// tests, which poll one goroutine cheaply; programs use goro::debug::snapshot
// (goro/debug.h). The strings are Go's, as Go's dumps print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace goro::detail {

struct GoroutineState {
  std::string status;       // "running", "runnable", "waiting", ...
  std::string wait_reason;  // "chan receive", "select", ... ("" unless waiting)
  std::int64_t wait_since_ns = 0;  // steady-clock ns when it parked (0 unless waiting)
};

// The state of live goroutine `id`, or nullopt when no live goroutine has
// that ID. Scans every goroutine record without stopping anybody, so the
// answer is a sample: a goroutine may change state right after. Never blocks.
std::optional<GoroutineState> goroutine_state(std::uint64_t id);

}  // namespace goro::detail
