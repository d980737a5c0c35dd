// goro::detail::Sema: the runtime semaphore under Mutex, RWMutex and Cond
// (Go's runtime/sema.go: semacquire/semrelease), exposed only so that the
// public primitives can embed one and stay constant-initializable.
//
// A Sema is a count plus a queue of blocked parties. acquire takes one unit,
// blocking while the count is zero; release adds one and wakes the first
// waiter. Unlike a futex, waiters are goroutines (they park, freeing their
// worker) or plain threads (they sleep), through runtime/waiter.h.
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::detail {

// The wait reason a blocked acquire shows, Go's string in the comment.
enum class SemaWait : std::uint8_t {
  kSemacquire,     // "semacquire"
  kMutexLock,      // "sync.Mutex.Lock"
  kRWMutexRLock,   // "sync.RWMutex.RLock"
  kRWMutexLock,    // "sync.RWMutex.Lock"
};

struct Sema {
  std::atomic<std::uint32_t> count{0};  // units available
  std::atomic<std::uint32_t> nwait{0};  // parties queued or about to queue
  // The queue and its lock (runtime types, kept out of public headers). All
  // zero bytes are a valid empty queue, so a Sema needs no constructor.
  alignas(8) unsigned char queue[24] = {};
};

// Takes one unit of s, blocking while none is available. lifo: queue at the
// front (a waiter that was woken and lost the race, as Go's Mutex does).
void sema_acquire(Sema& s, SemaWait why, bool lifo);

// Adds one unit to s and wakes the first waiter. handoff: give the unit
// straight to that waiter (it cannot be taken by a newcomer in between) and,
// on a goroutine, let the waiter run at once (Go's starvation-mode unlock).
void sema_release(Sema& s, bool handoff);

// Whether a party that failed to take a lock should spin a little before
// blocking (Go's sync_runtime_canSpin): few iterations, more than one CPU and
// worker, another worker running, and nothing queued on this worker.
bool sema_can_spin(int iter) noexcept;
// Spins briefly (Go's procyield(30)).
void sema_spin() noexcept;

}  // namespace goro::detail
