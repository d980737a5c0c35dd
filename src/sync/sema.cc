// The runtime semaphore (Go's runtime/sema.go, one queue per semaphore
// instead of Go's address-hashed table: our primitives embed their Sema).
//
// State: `count` is the number of free units; `nwait` counts parties that
// are queued or about to queue; the queue holds blocked Waiters under `lock`.
// Invariants:
//  - acquire increments nwait *before* re-checking count (under the lock),
//    and release increments count *before* reading nwait (both seq_cst): so
//    either the acquirer sees the unit, or the releaser sees the waiter and
//    takes the lock to wake it. This is what lets release skip the lock when
//    nobody waits — the uncontended unlock of a Mutex costs one atomic.
//  - the releaser decrements nwait when it dequeues a waiter; a woken waiter
//    that finds no unit (a newcomer took it) queues again, counted again.
//  - handoff: the releaser takes the unit itself on the waiter's behalf
//    (Waiter::success) before waking it, so no newcomer can get in between;
//    this is what makes a starving Mutex fair.
// Lock order: a Sema's lock is a leaf; wake() happens after unlocking.
#include <sched.h>

#include <new>

#include "goro/detail/sema.h"
#include "runtime/config.h"
#include "runtime/runtime_lock.h"
#include "runtime/scheduler.h"
#include "runtime/wait_reason.h"
#include "runtime/waiter.h"

namespace goro::detail {
namespace {

struct SemaQueue {
  RuntimeLock lock;
  WaiterQueue queue;
};
static_assert(sizeof(SemaQueue) <= sizeof(Sema::queue) && alignof(SemaQueue) <= 8, "Sema::queue is too small");

// All-zero bytes are an unlocked lock and an empty queue: no construction.
SemaQueue& queue_of(Sema& s) { return *std::launder(reinterpret_cast<SemaQueue*>(s.queue)); }

bool try_take(std::atomic<std::uint32_t>& count) {
  std::uint32_t v = count.load(std::memory_order_relaxed);
  while (v != 0) {
    if (count.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  }
  return false;
}

WaitReason reason_of(SemaWait why) {
  switch (why) {
    case SemaWait::kMutexLock: return WaitReason::kSyncMutexLock;
    case SemaWait::kRWMutexRLock: return WaitReason::kSyncRWMutexRLock;
    case SemaWait::kRWMutexLock: return WaitReason::kSyncRWMutexLock;
    case SemaWait::kSemacquire: break;
  }
  return WaitReason::kSemacquire;
}

}  // namespace

void sema_acquire(Sema& s, SemaWait why, bool lifo) {
  if (try_take(s.count)) return;
  SemaQueue& sq = queue_of(s);
  for (;;) {
    sq.lock.lock();
    s.nwait.fetch_add(1, std::memory_order_seq_cst);
    if (try_take(s.count)) {
      s.nwait.fetch_sub(1, std::memory_order_relaxed);
      sq.lock.unlock();
      return;
    }
    Waiter self = Waiter::for_current();
    self.owner = &s;
    if (lifo) {
      sq.queue.push_front(&self);
    } else {
      sq.queue.push_back(&self);
    }
    block(self, reason_of(why), sq.lock);
    // Woken by sema_release, which dequeued us and uncounted us from nwait.
    if (self.success || try_take(s.count)) return;
    lifo = true;  // lost the unit to a newcomer: wait at the front this time
  }
}

bool sema_release(Sema& s, bool handoff) {
  s.count.fetch_add(1, std::memory_order_seq_cst);
  if (s.nwait.load(std::memory_order_seq_cst) == 0) return false;
  SemaQueue& sq = queue_of(s);
  sq.lock.lock();
  Waiter* w = nullptr;
  if (s.nwait.load(std::memory_order_relaxed) != 0) {
    w = sq.queue.pop_front();
    if (w != nullptr) s.nwait.fetch_sub(1, std::memory_order_relaxed);
  }
  sq.lock.unlock();
  if (w == nullptr) return false;
  // Only we can see w now (dequeued): set its outcome before waking it, and
  // never touch it after.
  bool handed = handoff && try_take(s.count);
  w->success = handed;
  bool waiter_is_goroutine = w->g != nullptr;
  wake(*w);
  // Go's goyield: the waiter is on our runnext; running it now makes the
  // lock change hands at once instead of when we next block.
  return handed && waiter_is_goroutine && current_g() != nullptr;
}

void sema_yield() {
  if (current_g() != nullptr) yield_current_local();
}

void UnlockersInFlight::drain_slow() const noexcept {
  // The unlockers are finishing a few non-blocking steps; a plain spin
  // could starve one that was preempted, so yield the CPU between looks.
  for (int i = 0; n_.load(std::memory_order_acquire) != 0; ++i) {
    if (i < 64) {
      sema_spin();
    } else {
      sched_yield();
    }
  }
}

bool sema_can_spin(int iter) noexcept {
  constexpr int kActiveSpin = 4;  // Go's active_spin
  if (iter >= kActiveSpin) return false;
  Scheduler* s = Scheduler::get_if_started();
  if (s == nullptr) return runtime_config().ncpu > 1;
  return s->worth_spinning(current_processor());
}

void sema_spin() noexcept {
  for (int i = 0; i < 30; ++i) {  // Go's active_spin_cnt
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
}

}  // namespace goro::detail
