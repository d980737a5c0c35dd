// RuntimeLock: the lock of runtime structures that goroutines park on
// (waiter lists of WaitGroups, channels, semaphores).
//
// Why not std::mutex: a goroutine that parks takes the lock on its own
// stack, and the worker releases it on the scheduler stack after the
// goroutine's context is saved (Go's unlockf). Under TSan those are two
// fibers, and TSan would report std::mutex unlocked by "another thread". This
// lock is plain atomics (acquire on lock, release on unlock), which TSan
// understands without ownership rules.
//
// A futex mutex (Drepper's "mutex3"): 0 free, 1 locked, 2 locked with
// sleepers. It spins briefly first: critical sections are a few dozen ns.
// Never hold it across a context switch except through park's unlockf.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/cpu_relax.h"
#include "runtime/futex.h"

namespace goro::detail {

class RuntimeLock {
 public:
  void lock() noexcept {
    std::uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    std::uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(&state_, 1);
  }

 private:
  void lock_slow() noexcept {
    for (int i = 0; i < 100; ++i) {
      std::uint32_t c = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
      cpu_relax();
    }
    while (state_.exchange(2, std::memory_order_acquire) != 0) futex_wait(&state_, 2);
  }

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace goro::detail
