// WaitGroup.
//
// State: state_ packs the counter (high 32 bits) and the number of waiters
// (low 32 bits); waiters block on a WaiterQueue under a RuntimeLock, and
// `tokens` counts releases not yet claimed.
// Invariants:
//  - add() learns the counter and the waiter count from one atomic op; when
//    the counter reaches zero with no waiters it touches nothing more, since
//    a waiter that saw zero may already have destroyed the group;
//  - with w > 0 waiters counted, none can return before it gets a token, so
//    the group stays alive while add() hands out w tokens under the lock;
//  - a waiter counted itself before it takes the lock: it takes a token if
//    one is there, else it queues and the token is taken for it on wake-up.
#include <new>

#include "goro/sync/wait_group.h"
#include "runtime/runtime_lock.h"
#include "runtime/waiter.h"

namespace goro {
namespace {

struct Waiters {
  detail::RuntimeLock lock;
  std::uint32_t tokens;  // releases not yet claimed, guarded by lock
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
  const std::uint64_t step = static_cast<std::uint64_t>(delta) << 32;
  std::uint64_t state = state_.fetch_add(step, std::memory_order_acq_rel) + step;
  auto counter = static_cast<std::int32_t>(state >> 32);
  auto waiters = static_cast<std::uint32_t>(state);
  if (counter < 0) {
    state_.fetch_sub(step, std::memory_order_acq_rel);
    throw Error("sync: negative WaitGroup counter");
  }
  if (counter > 0 || waiters == 0) return;
  // Zero with waiters: nobody else may change the state now (Add racing
  // with Wait is misuse in Go too), so reset it and release them.
  state_.store(0, std::memory_order_release);
  Waiters& w = waiters_of(waiters_);
  detail::WaiterQueue released;
  w.lock.lock();
  w.tokens += waiters;
  while (w.tokens > 0 && !w.queue.empty()) {
    released.push_back(w.queue.pop_front());
    --w.tokens;
  }
  w.lock.unlock();
  while (detail::Waiter* x = released.pop_front()) detail::wake(*x);
}

void WaitGroup::wait() {
  std::uint64_t state = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((state >> 32) == 0) return;
    if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
  }
  Waiters& w = waiters_of(waiters_);
  w.lock.lock();
  if (w.tokens > 0) {
    --w.tokens;
    w.lock.unlock();
    return;
  }
  detail::Waiter self = detail::Waiter::for_current();
  w.queue.push_back(&self);
  detail::block(self, detail::WaitReason::kSyncWaitGroupWait, w.lock);
}

}  // namespace goro
