// Waiter: one blocked party, a goroutine or a plain OS thread (Go's sudog).
//
// Every blocking primitive (WaitGroup, and later channels, select, mutexes)
// keeps lists of Waiters under its RuntimeLock and uses block()/wake(), so
// the same code serves goroutines (which park and free their worker) and
// plain threads (which sleep on a futex).
//
// Protocol:
//  - the blocking side fills a Waiter on its own stack, links it into the
//    primitive's list while holding the primitive's lock, then calls
//    block(w, reason, lock), which releases the lock only once the caller
//    can no longer miss a wake-up;
//  - the waking side unlinks w under the same lock and calls wake(w) (after
//    unlocking, preferably). After wake(w) it must not touch w: the blocked
//    side may already have returned and its stack frame may be gone.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/g.h"
#include "runtime/runtime_lock.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

// Sleep/wake-up for a plain thread. One per thread; a thread waits for at
// most one thing at a time.
class ThreadParker {
 public:
  void prepare() noexcept { state_.store(0, std::memory_order_relaxed); }
  void wait() noexcept;
  void unpark() noexcept;

 private:
  std::atomic<std::uint32_t> state_{0};
};

// Shared by the Waiters of one blocked select (Go's gp.selectDone plus the
// winning sudog): the first party to set `done` owns the wake-up, and
// records which Waiter it took in `winner`. Lives on the selecting
// goroutine's (or thread's) stack.
struct SelectWait {
  std::atomic<std::uint32_t> done{0};
  struct Waiter* winner = nullptr;  // written by the party that set done
};

struct Waiter {
  G* g = nullptr;                   // the blocked goroutine, or null
  ThreadParker* thread = nullptr;   // the blocked plain thread, or null
  Waiter* next = nullptr;           // links of the primitive's list
  Waiter* prev = nullptr;
  void* elem = nullptr;             // payload slot for the primitive's use
  bool success = false;             // primitive-defined outcome
  SelectWait* select = nullptr;     // non-null: one case of a select
  void* owner = nullptr;            // the primitive this Waiter is queued on

  // For a select's Waiter: claims the wake-up (false: another case of the
  // same select already won, leave this Waiter alone). Always true for a
  // plain Waiter. Called by the waking side under the primitive's lock.
  bool claim() noexcept {
    if (select == nullptr) return true;
    std::uint32_t expected = 0;
    if (!select->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return false;
    select->winner = this;
    return true;
  }

  // A Waiter for the calling goroutine or thread.
  static Waiter for_current() noexcept;
};

// Blocks the caller until wake(w). `lock` is held on entry and released on
// the way to sleep. On a goroutine records `reason` and `wait-since`.
void block(Waiter& w, WaitReason reason, RuntimeLock& lock);

// Wakes the party blocked (or about to block) in block(w, ...).
void wake(Waiter& w);

// An intrusive FIFO of Waiters (Go's waitq).
class WaiterQueue {
 public:
  bool empty() const noexcept { return first_ == nullptr; }
  // The first Waiter (iterate with ->next while holding the lock).
  Waiter* front() const noexcept { return first_; }
  void push_back(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = last_;
    if (last_ != nullptr) last_->next = w; else first_ = w;
    last_ = w;
  }
  // Links w just before `at`, which is queued here.
  void insert_before(Waiter* at, Waiter* w) noexcept {
    w->next = at;
    w->prev = at->prev;
    if (at->prev != nullptr) at->prev->next = w; else first_ = w;
    at->prev = w;
  }
  Waiter* pop_front() noexcept {
    Waiter* w = first_;
    if (w != nullptr) remove(w);
    return w;
  }
  // Removes w if it is still queued here; a waking party may already have
  // dequeued it (a select's Waiter whose select was won elsewhere).
  void remove_if_queued(Waiter* w) noexcept {
    if (w->prev != nullptr || first_ == w) remove(w);
  }
  void remove(Waiter* w) noexcept {
    if (w->prev != nullptr) w->prev->next = w->next; else first_ = w->next;
    if (w->next != nullptr) w->next->prev = w->prev; else last_ = w->prev;
    w->next = w->prev = nullptr;
  }

 private:
  Waiter* first_ = nullptr;
  Waiter* last_ = nullptr;
};

}  // namespace goro::detail
