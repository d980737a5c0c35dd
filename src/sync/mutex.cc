// Mutex: Go's sync.Mutex (sync/mutex.go), line for line where it matters.
//
// state_ = waiters << 3 | starving | woken | locked.
//
// Two modes (Go's design note, paraphrased):
//  - normal: waiters queue FIFO, but a woken waiter competes with newcomers
//    (which are already running, and there may be many), so it often loses;
//    it then queues at the *front*. Newcomers may spin a little first.
//  - starvation: entered when a waiter has waited more than 1 ms. unlock
//    hands the mutex directly to the front waiter; newcomers neither take it
//    nor spin, they queue at the tail. Left when the waiter that got the
//    mutex is the last one or waited less than 1 ms.
// Normal mode is much faster (a goroutine can take the mutex many times in
// a row); starvation mode bounds the tail latency.
//
// Invariants:
//  - the woken bit is set while a waiter woken by unlock is competing: unlock
//    then wakes nobody else (one competitor at a time is enough);
//  - in starvation mode the locked bit is never set by unlock: ownership
//    travels with the handoff, and the new owner sets it (together with
//    dropping its waiter count) in one atomic add.
#include "goro/sync/mutex.h"

#include "runtime/clock.h"
#include "runtime/fatal.h"

namespace goro {
namespace {
constexpr std::int64_t kStarvationThresholdNs = 1'000'000;  // Go's 1 ms
}  // namespace

bool Mutex::try_lock() noexcept {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  if ((old & (kLocked | kStarving)) != 0) return false;
  // Competes with a woken waiter, like lock() does outside starvation mode.
  return state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed);
}

void Mutex::lock_slow() {
  std::int64_t wait_start = 0;
  bool starving = false;
  bool awoke = false;
  int iter = 0;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin while the mutex is held in normal mode and spinning can pay: the
    // holder may be about to unlock. Setting `woken` tells unlock not to wake
    // a sleeper we would only compete with.
    if ((old & (kLocked | kStarving)) == kLocked && detail::sema_can_spin(iter)) {
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_weak(old, old | kWoken, std::memory_order_relaxed)) {
        awoke = true;
      }
      detail::sema_spin();
      ++iter;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t next = old;
    if ((old & kStarving) == 0) next |= kLocked;  // never take a starving mutex: it belongs to the waiters
    if ((old & (kLocked | kStarving)) != 0) next += 1 << kWaiterShift;
    // Switch to starvation only while it is locked: unlock expects waiters
    // in starvation mode, and an unlocked mutex may have none.
    if (starving && (old & kLocked) != 0) next |= kStarving;
    if (awoke) {
      if ((next & kWoken) == 0) detail::fatal_error("sync: inconsistent mutex state");
      next &= ~kWoken;  // we are no longer a woken competitor, whatever happens
    }
    if (!state_.compare_exchange_weak(old, next, std::memory_order_acquire, std::memory_order_relaxed)) continue;
    if ((old & (kLocked | kStarving)) == 0) return;  // took it with the CAS
    // Queued (counted as a waiter). Waited before: go to the front.
    bool lifo = wait_start != 0;
    if (wait_start == 0) wait_start = detail::nanotime();
    detail::sema_acquire(sema_, detail::SemaWait::kMutexLock, lifo);
    starving = starving || detail::nanotime() - wait_start > kStarvationThresholdNs;
    old = state_.load(std::memory_order_relaxed);
    if ((old & kStarving) != 0) {
      // Handed to us: the mutex is ours, unlock left `locked` clear and us
      // counted as a waiter. Fix both, and leave starvation mode if we are
      // the last waiter or did not wait long (Go: staying would make the
      // waiters proceed in lock-step, one handoff at a time).
      if ((old & (kLocked | kWoken)) != 0 || (old >> kWaiterShift) == 0) {
        detail::fatal_error("sync: inconsistent mutex state");
      }
      std::int32_t delta = kLocked - (1 << kWaiterShift);
      if (!starving || (old >> kWaiterShift) == 1) delta -= kStarving;
      state_.fetch_add(delta, std::memory_order_acquire);
      return;
    }
    awoke = true;
    iter = 0;
  }
}

// The mutex is already released here, so another party may take it and
// destroy it (POSIX allows destroying right after unlock). What keeps *this
// alive: every access below happens while the state we read shows a counted
// waiter or an awake competitor -- a party that has not got the mutex yet,
// so nobody can have destroyed it -- and ends with sema_release, which
// guards its own tail (detail::UnlockersInFlight). After it: no access.
// Returns whether the caller should yield to the goroutine the mutex was
// handed to (starvation mode), after its own last access.
bool Mutex::unlock_slow(std::int32_t now) {
  if (((now + kLocked) & kLocked) == 0) detail::fatal_error("sync: unlock of unlocked mutex");
  // Hand it to the front waiter, which should run at once.
  if ((now & kStarving) != 0) return detail::sema_release(sema_, /*handoff=*/true);
  std::int32_t old = now;
  for (;;) {
    // Nobody to wake, or somebody already took it, is awake and competing,
    // or it went into starvation mode (the handoff is then the new owner's).
    if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving)) != 0) return false;
    // Wake one waiter to compete, counting it out of the waiters.
    std::int32_t next = (old - (1 << kWaiterShift)) | kWoken;
    if (state_.compare_exchange_weak(old, next, std::memory_order_release, std::memory_order_relaxed)) {
      return detail::sema_release(sema_, /*handoff=*/false);
    }
  }
}

}  // namespace goro
