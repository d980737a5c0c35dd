// The runtime semaphore (Go's runtime/sema.go).
//
// A Sema is only its count; blocked parties queue in one of kRoots roots
// chosen by the Sema's address (Go's semtable). Each root has a RuntimeLock,
// a waiter count `nwait` and one FIFO of Waiters whose `owner` names the
// Sema they wait for; a root serves every Sema hashed to it.
// Invariants:
//  - acquire increments the root's nwait *before* re-checking the count
//    (under the root lock), and release adds the unit *before* reading nwait
//    (both seq_cst): either the acquirer sees the unit or the releaser sees
//    the waiter and takes the lock to wake it. So a release with nobody
//    waiting on the root never takes the lock;
//  - the releaser decrements nwait when it dequeues a waiter; a woken waiter
//    that finds no unit (a newcomer took it) queues again, counted again;
//  - handoff: the releaser takes the unit itself on the waiter's behalf
//    (Waiter::success) before waking it, so no newcomer can get in between;
//    this is what makes a starving Mutex fair;
//  - `releasing` counts releases between adding their unit and their last
//    access to the root or the Sema; sema_drain waits for it to be zero.
// Release picks the first queued Waiter of its Sema: a scan of the root's
// queue, which holds the waiters of every Sema hashed there. With 251 roots
// queues are short; Go replaced its list with a treap (1.9) for programs
// with very many distinct contended semaphores at once.
// Lock order: a root's lock is a leaf; wake-ups happen after unlocking.
#include <sched.h>

#include <cstdint>

#include "goro/detail/sema.h"
#include "runtime/config.h"
#include "runtime/cpu_relax.h"
#include "runtime/runtime_lock.h"
#include "runtime/scheduler.h"
#include "runtime/wait_reason.h"
#include "runtime/waiter.h"

namespace goro::detail {
namespace {

constexpr std::size_t kRoots = 251;  // Go's semTabSize, a prime

struct alignas(64) SemaRoot {
  RuntimeLock lock;
  std::atomic<std::uint32_t> nwait{0};      // parties queued or about to queue
  std::atomic<std::uint32_t> releasing{0};  // releases still touching this root
  WaiterQueue queue;                        // guarded by lock
};

SemaRoot g_roots[kRoots];

SemaRoot& root_of(const Sema& s) {
  return g_roots[(reinterpret_cast<std::uintptr_t>(&s) >> 3) % kRoots];
}

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

// Queues w ahead of the other waiters of the same Sema (they may be
// anywhere in the root's queue, behind waiters of other Semas).
void push_front_of_owner(WaiterQueue& q, Waiter* w) {
  Waiter* first = q.front();
  while (first != nullptr && first->owner != w->owner) first = first->next;
  if (first == nullptr) {
    q.push_back(w);
  } else {
    q.insert_before(first, w);
  }
}

Waiter* pop_first_of_owner(WaiterQueue& q, const void* owner) {
  Waiter* w = q.front();
  while (w != nullptr && w->owner != owner) w = w->next;
  if (w != nullptr) q.remove(w);
  return w;
}

}  // namespace

void sema_acquire(Sema& s, SemaWait why, bool lifo) {
  if (try_take(s.count)) return;
  SemaRoot& root = root_of(s);
  for (;;) {
    root.lock.lock();
    root.nwait.fetch_add(1, std::memory_order_seq_cst);
    if (try_take(s.count)) {
      root.nwait.fetch_sub(1, std::memory_order_relaxed);
      root.lock.unlock();
      return;
    }
    Waiter self = Waiter::for_current();
    self.owner = &s;
    if (lifo) {
      push_front_of_owner(root.queue, &self);
    } else {
      root.queue.push_back(&self);
    }
    block(self, reason_of(why), root.lock);
    // Woken by sema_release, which dequeued us and uncounted us from nwait.
    if (self.success || try_take(s.count)) return;
    lifo = true;  // lost the unit to a newcomer: wait at the front this time
  }
}

bool sema_release(Sema& s, bool handoff) {
  SemaRoot& root = root_of(s);
  root.releasing.fetch_add(1, std::memory_order_relaxed);  // before the unit: its taker may destroy s
  s.count.fetch_add(1, std::memory_order_seq_cst);
  Waiter* w = nullptr;
  if (root.nwait.load(std::memory_order_seq_cst) != 0) {
    root.lock.lock();
    w = pop_first_of_owner(root.queue, &s);
    if (w != nullptr) root.nwait.fetch_sub(1, std::memory_order_relaxed);
    root.lock.unlock();
  }
  bool handed = w != nullptr && handoff && try_take(s.count);
  root.releasing.fetch_sub(1, std::memory_order_release);  // the last access to s
  if (w == nullptr) return false;
  // Only we can see w now (dequeued): set its outcome before waking it, and
  // never touch it after.
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

void sema_drain(const Sema& s) noexcept {
  // (Releases on other Semas of the same root are waited for too: harmless,
  // they are as short.)
  drain_in_flight(root_of(s).releasing);
}

void drain_in_flight(const std::atomic<std::uint32_t>& in_flight) noexcept {
  // What is in flight is finishing a few non-blocking steps; a plain spin
  // could starve one whose thread was preempted, so yield the CPU between
  // looks.
  for (int i = 0; in_flight.load(std::memory_order_acquire) != 0; ++i) {
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
  for (int i = 0; i < 30; ++i) cpu_relax();  // Go's procyield(active_spin_cnt)
}

}  // namespace goro::detail
