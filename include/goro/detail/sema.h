// goro::detail::Sema: the runtime semaphore under Mutex and RWMutex (Go's
// runtime/sema.go: semacquire/semrelease), exposed only so that the public
// primitives can embed one and stay small and constant-initializable.
//
// A Sema is just its count of free units (4 bytes), as in Go: the waiters
// live in a process-wide table of queues ("roots") selected by the Sema's
// address, each root on its own cache line. That keeps the Mutex at 8 bytes
// and, above all, keeps the waiter bookkeeping (lock, waiter count, queue)
// off the cache line that contending lockers hammer. acquire takes one unit,
// blocking while the count is zero; release adds one and wakes the first
// waiter of that Sema. Waiters are goroutines (they park, freeing their
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
};

// Takes one unit of s, blocking while none is available. lifo: queue ahead
// of s's other waiters (a waiter that was woken and lost the race, as Go's
// Mutex does).
void sema_acquire(Sema& s, SemaWait why, bool lifo);

// Adds one unit to s and wakes the first waiter. handoff: give the unit
// straight to that waiter (it cannot be taken by a newcomer in between).
// Returns true when the caller should then call sema_yield(), to let the
// goroutine it handed the unit to run at once (Go's starvation-mode unlock);
// the caller yields only after its last access to the primitive. Once the
// unit is added, the party it lets in may destroy the primitive: callers
// must not touch it after sema_release unless a waiter still holding a
// reference keeps it alive.
bool sema_release(Sema& s, bool handoff);

// Puts the calling goroutine behind the one sema_release handed off to
// (Go's goyield). No-op on a plain thread.
void sema_yield();

// "Destroy right after unlock" must be safe (POSIX's rule, and what
// reference counts inside critical sections rely on): the party a release
// lets in may destroy the primitive while sema_release is still finishing.
// sema_release counts itself in flight on s's root before it adds the unit
// and uncounts after its last access to s; destructors of primitives that
// embed a Sema call sema_drain first, which waits until no release on s's
// root is in flight (a few non-blocking steps).
void sema_drain(const Sema& s) noexcept;

// Waits until `in_flight` is zero: the drain of a primitive's own count of
// unlocks in flight (RWMutex). Spins briefly, then yields the CPU.
void drain_in_flight(const std::atomic<std::uint32_t>& in_flight) noexcept;

// Whether a party that failed to take a lock should spin a little before
// blocking (Go's sync_runtime_canSpin): few iterations, more than one CPU and
// worker, another worker running, and nothing queued on this worker.
bool sema_can_spin(int iter) noexcept;
// Spins briefly (Go's procyield(30)).
void sema_spin() noexcept;

}  // namespace goro::detail
