#include "runtime/waiter.h"

#include "runtime/futex.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

thread_local ThreadParker tl_parker;

bool unlock_runtime_lock(G*, void* lock) {
  static_cast<RuntimeLock*>(lock)->unlock();
  return true;
}

}  // namespace

void ThreadParker::wait() noexcept {
  while (state_.load(std::memory_order_acquire) == 0) futex_wait(&state_, 0);
}

void ThreadParker::unpark() noexcept {
  state_.store(1, std::memory_order_release);
  futex_wake(&state_);
}

Waiter Waiter::for_current() noexcept {
  Waiter w;
  w.g = current_g();
  if (w.g == nullptr) w.thread = &tl_parker;
  return w;
}

void block(Waiter& w, WaitReason reason, RuntimeLock& lock) {
  if (w.g != nullptr) {
    park(reason, unlock_runtime_lock, &lock);
    return;
  }
  ThreadParker* parker = w.thread;
  parker->prepare();
  lock.unlock();
  parker->wait();
}

void wake(Waiter& w) {
  if (G* g = w.g) {
    Scheduler::get().ready(g);
    return;
  }
  w.thread->unpark();
}

}  // namespace goro::detail
