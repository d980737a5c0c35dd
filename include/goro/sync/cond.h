// goro::Cond, Go's sync.Cond: goroutines waiting for a condition that other
// goroutines change under a lock.
//
//   goro::Mutex mu;
//   goro::Cond ready(mu);
//   bool done = false;
//   // waiter:                             // signaller:
//   std::unique_lock lock(mu);             { std::lock_guard lock(mu); done = true; }
//   while (!done) ready.wait();            ready.broadcast();
//   // or: ready.wait([&] { return done; });
//
// As in Go, wait() atomically unlocks the lock and suspends the caller, and
// locks it again before returning; a wake-up does not mean the condition
// holds, so wait in a loop (or use the predicate overload). Waiters are
// woken in the order they started waiting. Often a channel is the better
// tool (Go's advice stands): Cond suits "many waiters, broadcast on change".
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace goro {

class Cond {
 public:
  // A Cond over `lock`: anything with lock() and unlock() (goro::Mutex,
  // goro::RWMutex, std::mutex on plain threads, ...). The lock must outlive
  // the Cond; the Cond keeps a reference, like Go's Cond.L.
  template <class Lockable>
  explicit Cond(Lockable& lock) noexcept
      : lock_(&lock),
        lock_fn_([](void* l) { static_cast<Lockable*>(l)->lock(); }),
        unlock_fn_([](void* l) { static_cast<Lockable*>(l)->unlock(); }) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;
  ~Cond();

  // Unlocks the lock, waits for signal() or broadcast(), locks it again.
  // The caller must hold the lock. Parks a goroutine with wait reason
  // "sync.Cond.Wait"; blocks a plain thread. Only a signal or broadcast
  // issued after wait() started can wake it.
  void wait();

  // while (!pred()) wait();  The caller must hold the lock.
  template <class Pred>
  void wait(Pred pred) {
    while (!pred()) wait();
  }

  // Wakes the longest-waiting waiter, if any. Never blocks; holding the lock
  // is allowed, not required.
  void signal() noexcept;

  // Wakes every waiter. Never blocks; holding the lock is allowed, not
  // required.
  void broadcast() noexcept;

 private:
  void* lock_;
  void (*lock_fn_)(void*);
  void (*unlock_fn_)(void*);
  // Go's notifyList: waiters take tickets (wait_ counts them); notify_ is
  // the first ticket not yet woken. A waiter whose ticket is below notify_
  // was signalled before it queued and does not sleep.
  std::atomic<std::uint32_t> wait_{0};
  std::atomic<std::uint32_t> notify_{0};
  alignas(8) unsigned char waiters_[24] = {};  // lock + queue (runtime types)
};

}  // namespace goro
