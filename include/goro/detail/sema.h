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
// straight to that waiter (it cannot be taken by a newcomer in between).
// Returns true when the caller should then call sema_yield(), to let the
// goroutine it handed the unit to run at once (Go's starvation-mode unlock);
// the caller yields only after its last access to the primitive.
bool sema_release(Sema& s, bool handoff);

// Puts the calling goroutine behind the one sema_release handed off to
// (Go's goyield). No-op on a plain thread.
void sema_yield();

// Unlockers in flight. "Destroy right after unlock" must be safe (POSIX's
// rule, and what reference counts inside critical sections rely on): once
// an unlock lets another party in, that party may destroy the primitive
// while the unlocking call is still finishing (waking waiters, unlocking an
// inner lock). A slow unlock therefore counts itself here *before* it lets
// anybody in, and uncounts as its very last access; the destructor waits for
// the count to drop to zero. The window holds no blocking operation.
class UnlockersInFlight {
 public:
  void enter() noexcept { n_.fetch_add(1, std::memory_order_relaxed); }
  void leave() noexcept { n_.fetch_sub(1, std::memory_order_release); }
  // Waits until no unlock is in flight. Called by destructors.
  void drain() const noexcept {
    if (n_.load(std::memory_order_acquire) != 0) drain_slow();
  }

 private:
  void drain_slow() const noexcept;
  std::atomic<std::uint32_t> n_{0};
};

// Whether a party that failed to take a lock should spin a little before
// blocking (Go's sync_runtime_canSpin): few iterations, more than one CPU and
// worker, another worker running, and nothing queued on this worker.
bool sema_can_spin(int iter) noexcept;
// Spins briefly (Go's procyield(30)).
void sema_spin() noexcept;

}  // namespace goro::detail
