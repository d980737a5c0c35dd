// Sampling the stack of a goroutine that is running on another worker,
// without stopping it: the snapshot posts a request on the worker's
// Processor and signals the worker thread (SIGURG, as Go's preemption
// does); the worker's handler walks the frame pointers of the interrupted
// goroutine from the signal's machine context and posts the result.
//
// Protocol (SampleRequest::state, a futex word):
//  - the requester publishes the request in Processor::sample_request and
//    sends the signal; the handler takes it with an exchange, so at most one
//    handler ever sees a request;
//  - the handler answers kSampled (pcs filled) or kMissed (the worker was not
//    running the target any more: it parked or another goroutine runs);
//  - on timeout the requester takes the request back with an exchange; if
//    the handler already took it, the requester waits for its answer, which
//    comes without blocking. Either way the request (on the requester's
//    stack) outlives every access to it.
// The handler is async-signal-safe: atomics, the frame-pointer walk and a
// futex wake. A SIGURG that carries no request goes to the handler that was
// installed before goro's (or is ignored, SIGURG's default).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace goro::detail {

struct G;
struct Processor;

inline constexpr std::size_t kMaxSampledFrames = 512;

struct SampleRequest {
  enum : std::uint32_t { kPending = 0, kSampled = 1, kMissed = 2 };
  G* target = nullptr;
  std::atomic<std::uint32_t> state{kPending};
  std::size_t n = 0;
  std::uintptr_t word_at_sp = 0;          // for add_leaf_caller (traceback.h)
  std::uintptr_t pcs[kMaxSampledFrames];  // pcs[0]: the interrupted pc
};

// Samples g if it is running on p. Returns the number of pcs written to
// out (out[0] is the exact pc where g was interrupted, the rest return
// addresses; a leaf function's caller is added as add_leaf_caller does),
// or 0 when g was not running on p when the signal landed or the worker did
// not answer within timeout_ns. Blocks the caller up to timeout_ns. Never
// call it for the calling goroutine itself.
std::size_t sample_running_goroutine(Processor* p, G* g, std::uintptr_t* out, std::size_t max,
                                     std::int64_t timeout_ns);

}  // namespace goro::detail
