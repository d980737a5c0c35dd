// goro::Mutex, Go's sync.Mutex.
//
//   goro::Mutex mu;
//   {
//     std::lock_guard lock(mu);   // or std::unique_lock / std::scoped_lock
//     ++shared_counter;
//   }
//
// A goroutine that has to wait parks (wait reason "sync.Mutex.Lock") and its
// worker runs other goroutines; a plain thread blocks. The mutex is not tied
// to the goroutine or thread that locked it: any party may unlock it, as in
// Go. Not recursive: locking it twice from one goroutine blocks forever.
//
// Fairness is Go's: normally a newcomer competes with the woken waiter (and
// usually wins, which keeps throughput high), but a waiter that waited more
// than 1 ms switches the mutex to starvation mode, where unlock hands it
// straight to the oldest waiter and newcomers queue at the tail. So no
// waiter starves.
#pragma once

#include <atomic>
#include <cstdint>

#include "goro/detail/sema.h"

namespace goro {

class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  // Must not be locked or waited for. May run while an unlock() that let
  // the destroying party in is still finishing (POSIX's "destroy right after
  // unlock"): it waits for that unlock to be done with the mutex.
  ~Mutex() { detail::sema_drain(sema_); }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Locks the mutex, waiting until it is unlocked. Parks a goroutine with
  // wait reason "sync.Mutex.Lock"; blocks a plain thread.
  void lock() {
    std::int32_t unlocked = 0;
    if (state_.compare_exchange_weak(unlocked, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_slow();
  }

  // Locks the mutex if that needs no waiting; never blocks. Rarely the right
  // tool, as Go's TryLock documentation warns. False also while the mutex is
  // in starvation mode (it belongs to the waiters then).
  bool try_lock() noexcept;

  // Unlocks the mutex. Never blocks. Unlocking a mutex that is not locked is
  // a fatal error, as in Go: "fatal error: sync: unlock of unlocked mutex"
  // with the goroutine's traceback, exit status 2 (it cannot be caught: the
  // program's locking is broken).
  void unlock() {
    if (release()) detail::sema_yield();
  }

 private:
  friend class RWMutex;
  // state_ bits, as Go's: locked, woken (a waiter is awake and competing,
  // so unlock need not wake another), starving; waiter count above them.
  static constexpr std::int32_t kLocked = 1;
  static constexpr std::int32_t kWoken = 2;
  static constexpr std::int32_t kStarving = 4;
  static constexpr int kWaiterShift = 3;

  void lock_slow();
  // unlock() without its final yield to a goroutine the mutex was handed
  // to; returns whether that yield is due (RWMutex yields only after its own
  // last access).
  bool release() {
    std::int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    return now != 0 && unlock_slow(now);
  }
  bool unlock_slow(std::int32_t now);

  std::atomic<std::int32_t> state_{0};
  detail::Sema sema_;
};

}  // namespace goro
