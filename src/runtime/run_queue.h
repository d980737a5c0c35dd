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

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "runtime/g.h"

namespace goro::detail {

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

  // Owner only, queue full: moves half of it plus g into out[0..kSize/2]
  // (Go's runqputslow). Returns false if a thief got there first (retry
  // push).
  bool spill_half(G* g, G* (&out)[kSize / 2 + 1]) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    std::uint32_t n = (t - h) / 2;
    if (n != kSize / 2) return false;
    for (std::uint32_t i = 0; i < n; ++i) out[i] = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed)) return false;
    out[n] = g;
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

// Go's global run queue (sched.runq): a mutex-protected FIFO with a
// lock-free size hint. Unlike Go's, it holds G pointers in chunked arrays,
// not a list linked through the Gs: every G sits on its own stack page, and
// linking or walking a batch of 128 of them would cost a TLB miss each.
class GlobalRunQueue {
 public:
  GlobalRunQueue() = default;
  GlobalRunQueue(const GlobalRunQueue&) = delete;
  GlobalRunQueue& operator=(const GlobalRunQueue&) = delete;
  ~GlobalRunQueue() {
    free_chunks(first_);
    free_chunks(spare_);
  }

  bool maybe_nonempty() const noexcept { return size_.load(std::memory_order_acquire) != 0; }
  std::int32_t size() const noexcept { return size_.load(std::memory_order_acquire); }

  void push(G* g) { push_n(&g, 1); }

  void push_n(G* const* gs, std::int32_t n) {
    if (n <= 0) return;
    std::lock_guard lock(mu_);
    while (n > 0) {
      if (last_ == nullptr || last_->tail == Chunk::kCap) append_chunk_locked();
      std::int32_t room = Chunk::kCap - last_->tail;
      std::int32_t k = n < room ? n : room;
      std::copy(gs, gs + k, last_->slots + last_->tail);
      last_->tail += k;
      gs += k;
      n -= k;
      count_ += k;
    }
    size_.store(count_, std::memory_order_release);
  }

  // Moves up to max entries, oldest first, into out. Returns how many.
  std::int32_t pop_n(G** out, std::int32_t max) {
    std::lock_guard lock(mu_);
    std::int32_t got = 0;
    while (got < max && first_ != nullptr) {
      std::int32_t avail = first_->tail - first_->head;
      std::int32_t k = max - got < avail ? max - got : avail;
      std::copy(first_->slots + first_->head, first_->slots + first_->head + k, out + got);
      first_->head += k;
      got += k;
      if (first_->head == first_->tail) drop_first_chunk_locked();
    }
    count_ -= got;
    size_.store(count_, std::memory_order_release);
    return got;
  }

 private:
  struct Chunk {
    static constexpr std::int32_t kCap = 252;  // the chunk is 2 KiB
    Chunk* next = nullptr;
    std::int32_t head = 0;  // [head, tail) hold queued Gs
    std::int32_t tail = 0;
    G* slots[kCap];
  };
  // Emptied chunks kept for reuse: enough for a few spills in flight
  // without a malloc each, without pinning the memory of a past burst.
  static constexpr std::int32_t kMaxSpare = 8;

  void append_chunk_locked() {
    Chunk* c = spare_;
    if (c != nullptr) {
      spare_ = c->next;
      --nspare_;
      *c = Chunk{};
    } else {
      c = new Chunk;
    }
    if (last_ != nullptr) last_->next = c; else first_ = c;
    last_ = c;
  }

  void drop_first_chunk_locked() noexcept {
    Chunk* c = first_;
    first_ = c->next;
    if (first_ == nullptr) last_ = nullptr;
    if (nspare_ < kMaxSpare) {
      c->next = spare_;
      spare_ = c;
      ++nspare_;
    } else {
      delete c;
    }
  }

  static void free_chunks(Chunk* c) noexcept {
    while (c != nullptr) delete std::exchange(c, c->next);
  }

  std::mutex mu_;
  Chunk* first_ = nullptr;  // pop side
  Chunk* last_ = nullptr;   // push side
  Chunk* spare_ = nullptr;
  std::int32_t nspare_ = 0;
  std::int32_t count_ = 0;
  std::atomic<std::int32_t> size_{0};
};

}  // namespace goro::detail
