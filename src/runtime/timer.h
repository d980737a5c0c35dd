// Runtime timers: per-Processor 4-ary min-heaps of Timer records, like Go's
// per-P timers since 1.14.
//
// Invariants (all under the owning Processor's timers_mu):
//  - a Timer is in at most one heap; t->owner names it, t->heap_index is its
//    slot there, and both are cleared when it leaves;
//  - heap[0] has the smallest `when`; Processor::timer0_when mirrors it
//    (0 when the heap is empty) so that schedulers can skip the lock when no
//    timer is due.
// Timer callbacks run on a worker's scheduler stack, never under a timer lock:
// they may ready goroutines and touch other locks, but must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace goro::detail {

struct Processor;
struct Timer;

// Called when the timer fires, with the deadline that fired (for a ticker,
// the one before its re-armed `when`). Contract: run_timers never touches t
// after calling fn, and fn's last action on t is to decrement t->inflight
// (unless fn frees t, which it may do when nothing else refers to t).
using TimerFunc = void (*)(Timer* t, void* arg, std::int64_t fired_when);

struct Timer {
  std::int64_t when = 0;    // monotonic ns at which it fires
  std::int64_t period = 0;  // > 0: re-armed period ns after each firing
  TimerFunc fn = nullptr;
  void* arg = nullptr;
  // Callbacks popped and not finished yet: incremented under the heap lock
  // when run_timers takes t to fire it, decremented by fn. An owner that
  // frees t first removes it from its heap, then waits for this to be 0
  // (callbacks never block, so the wait is short).
  std::atomic<std::uint32_t> inflight{0};
  // Guarded by owner->timers_mu; owner itself is read racily to find the lock
  // and re-checked under it.
  std::atomic<Processor*> owner{nullptr};
  std::int32_t heap_index = -1;
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  Timer* top() const noexcept { return heap_.front(); }
  void push(Timer* t);
  void remove(Timer* t) noexcept;  // t must be in this heap
  Timer* pop() noexcept { Timer* t = heap_.front(); remove(t); return t; }

 private:
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void place(std::size_t i, Timer* t) noexcept {
    heap_[i] = t;
    t->heap_index = static_cast<std::int32_t>(i);
  }
  std::vector<Timer*> heap_;
};

// Adds t (not in any heap) to the current worker's Processor, or to the
// first Processor when called off the workers. Wakes a worker when t becomes
// the earliest timer somebody has to wait for.
void add_timer(Timer* t);
// Removes t from its heap. Returns false if it was not in one (already fired
// or never added).
bool delete_timer(Timer* t) noexcept;
// delete_timer, then waits until no callback of t is running: afterwards t
// may be freed or re-armed without racing with an old firing.
bool delete_timer_sync(Timer* t) noexcept;

}  // namespace goro::detail
