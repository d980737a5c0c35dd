// Run queues: Go's per-P ring (runq) and the global queue (sched.runq).
//
// LocalRunQueue is a fixed ring of 256 G pointers with one producer (the
// owning worker) and many consumers (the owner and thieves):
//  - head is advanced only by CAS (any consumer); tail is stored only by the
//    owner. t - h is the length; slots in [h, t) hold live entries.
//  - the owner's load of head is acquire so that it never overwrites a slot a
//    thief is still copying: the thief's CAS-release of head commits the copy.
//  - thieves take half of the entries at once (runqgrab), so one steal
//    balances a burst instead of fighting over single entries.
// Slots are relaxed atomics: a thief may read a slot the owner is rewriting,
// but then its CAS on head fails and it retries, exactly as in Go.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/g.h"

namespace goro::detail {

// A linked batch of Gs (through sched_link), as moved to the global queue.
struct GList {
  G* head = nullptr;
  G* tail = nullptr;
  std::int32_t size = 0;

  void push_back(G* g) noexcept {
    g->sched_link = nullptr;
    if (tail != nullptr) tail->sched_link = g; else head = g;
    tail = g;
    ++size;
  }
  G* pop_front() noexcept {
    G* g = head;
    if (g == nullptr) return nullptr;
    head = g->sched_link;
    if (head == nullptr) tail = nullptr;
    g->sched_link = nullptr;
    --size;
    return g;
  }
};

class LocalRunQueue {
 public:
  static constexpr std::uint32_t kSize = 256;

  bool empty() const noexcept {
    // Consistent snapshot of head and tail, as in Go's runqempty: a tail that
    // moved under us means the queue was not empty at some point.
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      if (tail_.load(std::memory_order_acquire) == t) return h == t;
    }
  }
  std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

  // Owner only. Returns false when full (the caller spills half to the global
  // queue with spill_half).
  bool push(G* g) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= kSize) return false;
    slots_[t % kSize].store(g, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Owner only, queue full: moves half of it plus g into out (Go's
  // runqputslow). Returns false if a thief got there first (retry push).
  bool spill_half(G* g, GList& out) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    std::uint32_t n = (t - h) / 2;
    if (n != kSize / 2) return false;
    G* batch[kSize / 2];
    for (std::uint32_t i = 0; i < n; ++i) batch[i] = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed)) return false;
    for (std::uint32_t i = 0; i < n; ++i) out.push_back(batch[i]);
    out.push_back(g);
    return true;
  }

  // Any consumer; owner in practice (thieves use grab).
  G* pop() noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      G* g = slots_[h % kSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release, std::memory_order_relaxed)) return g;
    }
  }

  // Thief: moves half of this queue's entries into dst's ring starting at
  // dst's tail (dst is owned by the caller). Returns how many; 0 if empty.
  std::uint32_t grab_into(LocalRunQueue& dst) noexcept {
    std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      std::uint32_t n = t - h;
      n = n - n / 2;
      if (n == 0) return 0;
      if (n > kSize / 2) continue;  // inconsistent h and t
      for (std::uint32_t i = 0; i < n; ++i) {
        dst.slots_[(dst_tail + i) % kSize].store(slots_[(h + i) % kSize].load(std::memory_order_relaxed),
                                                 std::memory_order_relaxed);
      }
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed)) return n;
    }
  }

  // Owner only, after grab_into(*this...): publishes n-1 of the n grabbed
  // entries and returns the last one to run now.
  G* commit_grabbed(std::uint32_t n) noexcept {
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    G* g = slots_[(t + n - 1) % kSize].load(std::memory_order_relaxed);
    if (n > 1) tail_.store(t + n - 1, std::memory_order_release);
    return g;
  }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::atomic<G*> slots_[kSize] = {};
};

// Go's global run queue: a mutex-protected list with a lock-free size hint.
class GlobalRunQueue {
 public:
  bool maybe_nonempty() const noexcept { return size_.load(std::memory_order_acquire) != 0; }
  std::int32_t size() const noexcept { return size_.load(std::memory_order_acquire); }

  void push(G* g) {
    std::lock_guard lock(mu_);
    list_.push_back(g);
    size_.store(list_.size, std::memory_order_release);
  }
  void push_batch(GList& batch) {
    if (batch.head == nullptr) return;
    std::lock_guard lock(mu_);
    if (list_.tail != nullptr) list_.tail->sched_link = batch.head; else list_.head = batch.head;
    list_.tail = batch.tail;
    list_.size += batch.size;
    size_.store(list_.size, std::memory_order_release);
    batch = GList{};
  }
  // Takes up to max entries (Go's globrunqget sizing is the caller's):
  // the first is returned, the rest appended to out.
  G* pop_batch(std::int32_t max, GList& out) {
    std::lock_guard lock(mu_);
    G* first = list_.pop_front();
    if (first == nullptr) return nullptr;
    for (std::int32_t i = 1; i < max; ++i) {
      G* g = list_.pop_front();
      if (g == nullptr) break;
      out.push_back(g);
    }
    size_.store(list_.size, std::memory_order_release);
    return first;
  }

 private:
  std::mutex mu_;
  GList list_;
  std::atomic<std::int32_t> size_{0};
};

}  // namespace goro::detail
