// Cond: Go's sync.Cond over the runtime's notifyList (runtime/sema.go).
//
// Tickets make wait() race-free without holding a lock across the unlock of
// the user's lock: wait() takes ticket t = wait_++ while still holding the
// user's lock, unlocks it, then sleeps unless notify_ has already passed t.
// signal() wakes ticket notify_ (and advances it); broadcast() wakes every
// ticket below wait_. A ticket woken before its owner queued is found
// "already notified" by the owner, which then does not sleep — so no wake-up
// is lost, and none is given to a waiter that started after the signal.
// Invariants (under the waiters lock): notify_ <= wait_ (mod 2^32, compared
// by difference as Go does); every queued waiter's ticket is >= notify_.
#include <new>

#include "goro/sync/cond.h"
#include "runtime/runtime_lock.h"
#include "runtime/waiter.h"

namespace goro {
namespace {

struct NotifyList {
  detail::RuntimeLock lock;
  detail::WaiterQueue queue;  // waiters with tickets >= notify_, nearly in ticket order
};

NotifyList& list_of(unsigned char* storage) { return *std::launder(reinterpret_cast<NotifyList*>(storage)); }

// a < b in ticket arithmetic (wraps around, as Go's less()).
bool ticket_less(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

std::uint32_t ticket_of(const detail::Waiter* w) {
  return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(w->elem));
}

}  // namespace

static_assert(sizeof(NotifyList) <= 24 && alignof(NotifyList) <= 8, "Cond::waiters_ is too small");

Cond::~Cond() = default;

void Cond::wait() {
  // Copied first: once woken we re-lock without touching *this, which the
  // party that woke us may already have destroyed (a broadcast followed by
  // the Cond's destruction is allowed, as with pthread_cond_destroy).
  void* const lock = lock_;
  void (*const relock)(void*) = lock_fn_;
  std::uint32_t t = wait_.fetch_add(1, std::memory_order_acq_rel);
  unlock_fn_(lock);
  NotifyList& l = list_of(waiters_);
  l.lock.lock();
  if (ticket_less(t, notify_.load(std::memory_order_relaxed))) {
    l.lock.unlock();  // signalled between the unlock and here
  } else {
    detail::Waiter self = detail::Waiter::for_current();
    self.elem = reinterpret_cast<void*>(static_cast<std::uintptr_t>(t));
    l.queue.push_back(&self);
    detail::block(self, detail::WaitReason::kSyncCondWait, l.lock);
  }
  relock(lock);
}

void Cond::signal() noexcept {
  // Fast path: nobody has waited since the last notification.
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  NotifyList& l = list_of(waiters_);
  l.lock.lock();
  std::uint32_t t = notify_.load(std::memory_order_relaxed);
  if (t == wait_.load(std::memory_order_acquire)) {
    l.lock.unlock();
    return;
  }
  notify_.store(t + 1, std::memory_order_release);
  // Tickets are taken before queueing, so the queue is almost always in
  // ticket order and t is at its head; search in case it is not (waiters
  // race between taking a ticket and taking this lock), or is not queued
  // yet (then it will see notify_ > t and not sleep).
  detail::Waiter* found = l.queue.front();
  while (found != nullptr && ticket_of(found) != t) found = found->next;
  if (found != nullptr) l.queue.remove(found);
  l.lock.unlock();
  if (found != nullptr) detail::wake(*found);
}

void Cond::broadcast() noexcept {
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  NotifyList& l = list_of(waiters_);
  l.lock.lock();
  detail::WaiterQueue all;
  while (detail::Waiter* w = l.queue.pop_front()) all.push_back(w);
  notify_.store(wait_.load(std::memory_order_acquire), std::memory_order_release);
  l.lock.unlock();
  while (detail::Waiter* w = all.pop_front()) detail::wake(*w);
}

}  // namespace goro
