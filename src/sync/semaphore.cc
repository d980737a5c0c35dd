// Semaphore: golang.org/x/sync/semaphore.Weighted, with goro's parking.
//
// State (under Impl::lock): `cur` units held, and a FIFO of waiters, each
// wanting `n` units. Release grants units to waiters from the front while
// the front one fits, and stops at the first that does not (head-of-line
// blocking keeps a large request from starving behind a stream of small
// ones, x/sync's rule).
//
// Cancellation. A waiter with a cancellable context registers an after_func
// on it. Exactly one of two parties wakes the waiter, decided by one CAS on
// its `phase`: the releaser (kWaiting -> kGranted, units already counted for
// it) or the context callback (kWaiting -> kCancelled). The state lives on
// the heap, shared with the callback, because the callback may run after the
// waiter returned; the callback touches the semaphore only after winning the
// CAS, i.e. while the waiter is still blocked inside acquire, so the
// semaphore is alive then. Plain acquire() needs no callback and keeps its
// state on the stack.
// Invariants:
//  - a queued waiter's phase is kWaiting, or kCancelled with its callback
//    about to remove it; granting skips (and removes) cancelled ones;
//  - 0 <= cur <= size; units granted are counted in cur before the wake-up.
// Lock order: Impl::lock -> a context's lock (registering the callback); wake-ups
// happen after unlocking.
#include "goro/sync/semaphore.h"

#include <memory>
#include <optional>
#include <string>

#include "runtime/runtime_lock.h"
#include "runtime/wait_reason.h"
#include "runtime/waiter.h"

namespace goro {
namespace {

enum Phase : std::uint32_t { kWaiting, kGranted, kCancelled };

// A blocked acquire of n units by the calling goroutine or thread.
struct SemWaiter {
  explicit SemWaiter(std::int64_t units) : w(detail::Waiter::for_current()), n(units) { w.elem = this; }
  SemWaiter(const SemWaiter&) = delete;
  SemWaiter& operator=(const SemWaiter&) = delete;

  detail::Waiter w;
  const std::int64_t n;
  std::atomic<std::uint32_t> phase{kWaiting};
};

SemWaiter* of(detail::Waiter* w) { return static_cast<SemWaiter*>(w->elem); }

void check_weight(std::int64_t n) {
  if (n < 0) throw Error("semaphore: negative weight " + std::to_string(n));
}

}  // namespace

struct Semaphore::Impl {
  detail::RuntimeLock lock;
  std::int64_t cur = 0;
  detail::WaiterQueue queue;

  // Takes n units if they are free and nobody waits (x/sync's rule: a
  // newcomer never overtakes a waiter). Called with lock held.
  bool take_now(std::int64_t size, std::int64_t n) {
    if (size - cur < n || !queue.empty()) return false;
    cur += n;
    return true;
  }

  // Grants units to the waiters at the front that fit; returns them, to be
  // woken after unlocking. Called with lock held.
  detail::WaiterQueue grant(std::int64_t size) {
    detail::WaiterQueue woken;
    while (detail::Waiter* w = queue.front()) {
      SemWaiter* sw = of(w);
      if (sw->phase.load(std::memory_order_acquire) == kCancelled) {
        queue.remove(w);  // its callback wakes it
        continue;
      }
      if (size - cur < sw->n) break;
      std::uint32_t expected = kWaiting;
      queue.remove(w);
      if (!sw->phase.compare_exchange_strong(expected, kGranted, std::memory_order_acq_rel)) continue;
      cur += sw->n;
      woken.push_back(w);
    }
    return woken;
  }
};

namespace {
void wake_all(detail::WaiterQueue& q) {
  while (detail::Waiter* w = q.pop_front()) detail::wake(*w);
}
}  // namespace

Semaphore::Semaphore(std::int64_t size) : size_(size), impl_(nullptr) {
  if (size < 0) throw Error("semaphore: negative size " + std::to_string(size));
  impl_ = new Impl;
}

Semaphore::~Semaphore() { delete impl_; }

std::int64_t Semaphore::held() const noexcept {
  impl_->lock.lock();
  std::int64_t cur = impl_->cur;
  impl_->lock.unlock();
  return cur;
}

bool Semaphore::try_acquire(std::int64_t n) {
  check_weight(n);
  impl_->lock.lock();
  bool ok = impl_->take_now(size_, n);
  impl_->lock.unlock();
  return ok;
}

void Semaphore::acquire(std::int64_t n) {
  check_weight(n);
  Impl& im = *impl_;
  im.lock.lock();
  if (im.take_now(size_, n)) {
    im.lock.unlock();
    return;
  }
  SemWaiter sw(n);
  // More than the semaphore can ever hold: wait forever without queueing
  // (queued, it would block everyone behind it), as x/sync's Acquire with a
  // context that never ends.
  if (n <= size_) im.queue.push_back(&sw.w);
  detail::block(sw.w, detail::WaitReason::kSemacquire, im.lock);
}

std::exception_ptr Semaphore::acquire(const Context& ctx, std::int64_t n) {
  check_weight(n);
  // Cancellation that happened first wins, even if units are free.
  if (std::exception_ptr err = ctx.err()) return err;
  if (!ctx.done()) {  // never cancelled: the plain wait
    acquire(n);
    return nullptr;
  }
  Impl& im = *impl_;
  im.lock.lock();
  if (im.take_now(size_, n)) {
    im.lock.unlock();
    return nullptr;
  }
  auto sw = std::make_shared<SemWaiter>(n);
  if (n <= size_) im.queue.push_back(&sw->w);  // else: wait for ctx only
  // Registered under the lock, which block() releases only once a wake-up
  // cannot be missed: the callback runs on its own goroutine (after_func's
  // contract, also when ctx is done already) and takes the lock first.
  // Lock order: Impl::lock -> the context's lock (inside after_func).
  AfterFuncStop stop = after_func(ctx, [sw, &im, size = size_] {
    std::uint32_t expected = kWaiting;
    if (!sw->phase.compare_exchange_strong(expected, kCancelled, std::memory_order_acq_rel)) return;
    // We won: the waiter is still blocked in acquire, so `im` is alive.
    im.lock.lock();
    bool was_front = im.queue.front() == &sw->w;
    im.queue.remove_if_queued(&sw->w);
    // Leaving the front may let the next waiters fit (x/sync does the same).
    detail::WaiterQueue woken;
    if (was_front && size > im.cur) woken = im.grant(size);
    im.lock.unlock();
    wake_all(woken);
    detail::wake(sw->w);
  });
  // Woken by whoever wins the phase CAS.
  detail::block(sw->w, detail::WaitReason::kSemacquire, im.lock);
  if (sw->phase.load(std::memory_order_acquire) == kCancelled) return ctx.err();
  stop();
  // Granted, but the context may have ended meanwhile: x/sync then gives the
  // units back and fails, so that a done context never looks successful.
  if (std::exception_ptr err = ctx.err()) {
    release(n);
    return err;
  }
  return nullptr;
}

void Semaphore::release(std::int64_t n) {
  check_weight(n);
  Impl& im = *impl_;
  im.lock.lock();
  if (im.cur - n < 0) {
    im.lock.unlock();
    throw Error("semaphore: released more than held");
  }
  im.cur -= n;
  detail::WaiterQueue woken = im.grant(size_);
  im.lock.unlock();
  wake_all(woken);
}

}  // namespace goro
