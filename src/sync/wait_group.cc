// WaitGroup.
//
// State: counter_ (atomic), nwait_ (number of blocked waiters, atomic) and a
// WaiterQueue under a RuntimeLock.
// Invariants:
//  - a waiter is queued only while counter_ > 0 was observed under the lock
//    after it incremented nwait_;
//  - add() that brings counter_ to zero releases every queued waiter.
// No lost wake-up: wait() increments nwait_ then reads counter_; add()
// writes counter_ then reads nwait_ (both seq_cst). Either add() sees the
// waiter and takes the lock to release it, or wait() sees zero and returns.
#include <new>

#include "goro/sync.h"
#include "runtime/runtime_lock.h"
#include "runtime/waiter.h"

namespace goro {
namespace {

struct Waiters {
  detail::RuntimeLock lock;
  detail::WaiterQueue queue;
};

}  // namespace

static_assert(sizeof(Waiters) <= 32 && alignof(Waiters) <= 8, "WaitGroup::waiters_ is too small");

// waiters_ holds zero bytes until used; a zeroed RuntimeLock and WaiterQueue
// are valid empty objects, so it is usable without construction.
static Waiters& waiters_of(unsigned char* storage) {
  return *std::launder(reinterpret_cast<Waiters*>(storage));
}

WaitGroup::~WaitGroup() = default;

void WaitGroup::add(std::int64_t delta) {
  std::int64_t v = counter_.fetch_add(delta, std::memory_order_seq_cst) + delta;
  if (v < 0) {
    counter_.fetch_sub(delta, std::memory_order_seq_cst);
    throw Error("sync: negative WaitGroup counter");
  }
  if (v != 0 || delta == 0 || nwait_.load(std::memory_order_seq_cst) == 0) return;
  Waiters& w = waiters_of(waiters_);
  detail::WaiterQueue released;
  w.lock.lock();
  if (counter_.load(std::memory_order_seq_cst) == 0) {
    while (detail::Waiter* x = w.queue.pop_front()) {
      nwait_.fetch_sub(1, std::memory_order_relaxed);
      released.push_back(x);
    }
  }
  w.lock.unlock();
  while (detail::Waiter* x = released.pop_front()) detail::wake(*x);
}

void WaitGroup::wait() {
  if (counter_.load(std::memory_order_acquire) == 0) return;
  Waiters& w = waiters_of(waiters_);
  detail::Waiter self = detail::Waiter::for_current();
  w.lock.lock();
  nwait_.fetch_add(1, std::memory_order_seq_cst);
  if (counter_.load(std::memory_order_seq_cst) == 0) {
    nwait_.fetch_sub(1, std::memory_order_relaxed);
    w.lock.unlock();
    return;
  }
  w.queue.push_back(&self);
  detail::block(self, detail::WaitReason::kSyncWaitGroupWait, w.lock);
}

}  // namespace goro
