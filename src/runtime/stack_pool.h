// Goroutine stack slots: carved from large arenas, pooled, lazily committed.
//
// Design:
//  - An arena is one MAP_NORESERVE mapping of many fixed-size slots (default
//    256 KiB each, GORO_STACK_SIZE), preceded by one PROT_NONE page. Pages are
//    committed by the kernel on first touch, so a goroutine that parks after
//    a shallow call chain costs one page of RSS.
//  - Each slot holds, from the top: an 8-byte canary, the G record, the
//    closure, then the stack growing down. The G *is* the slot: taking a free
//    slot allocates a goroutine, and iterating arenas enumerates every G ever
//    created without any registry on the spawn path.
//  - Guard pages cost two kernel map entries each (the PROT_NONE page splits
//    the mapping), and vm.max_map_count is 65530 by default. Slots get a guard
//    page while a budget (a quarter of the map count left at start-up) lasts;
//    later slots rely on the canary of the slot below them, checked on every
//    switch away from a goroutine. That is how 1M goroutines fit a default
//    kernel.
//  - Freed slots go to a hot stack (memory kept, reused at once, last freed
//    first). A scavenger
//    (scavenge(), called about once a second by the timer thread) returns
//    the pages of half the slots that sat unused through a whole interval
//    (the hot stack's low-water mark; the bottom of the stack is the
//    longest unused) with MADV_DONTNEED, keeping kHotFloor
//    hot, so a
//    burst of a million goroutines does not pin its memory after it ends but
//    steady churn never pays for madvise and page faults. Each madvise costs
//    a TLB shoot-down (~50 us with two threads), so released slots are
//    sorted and adjacent ones dropped with one call: goroutines that started
//    together sit side by side and usually end together.
//
// Invariants (mu_):
//  - every carved slot is in exactly one place: a Processor's free cache,
//    hot_, cold_, or in use by a live G;
//  - arenas_ only grows; arena memory is never unmapped, so a racy read of a
//    G record (snapshots) is always a read of mapped memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "runtime/g.h"

namespace goro::detail {

class StackPool {
 public:
  explicit StackPool(std::size_t slot_size);
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // Takes n free slots into out[0..n), each with a G (status kFree): the
  // most recently freed first, whose pages and TLB entries are likeliest to
  // be warm. Out of memory is fatal. Touches no G that is already free:
  // free lists are arrays of pointers, never links through the slots, since
  // every slot sits on its own page and walking a list of them costs a TLB
  // miss per slot.
  void take(G** out, int n);
  // Returns n slots (of dead goroutines) to the pool.
  void give(G* const* slots, int n);

  // Returns to the OS the pages of hot slots unused since the previous call.
  // Returns how many slots were released. Called periodically.
  std::size_t scavenge();
  // True when scavenge() may have work (the hot list is above its floor).
  bool scavenge_pending() const noexcept {
    return hot_count_relaxed_.load(std::memory_order_relaxed) > kHotFloor;
  }

  std::size_t slot_size() const noexcept { return slot_size_; }
  std::size_t guarded_slots() const noexcept { return guarded_.load(std::memory_order_relaxed); }
  std::size_t carved_slots() const noexcept { return carved_.load(std::memory_order_relaxed); }

  // Calls fn(G*) for every slot ever carved (live or not). Lock-free; safe
  // to call while goroutines start and exit (readers see a sample).
  template <class Fn>
  void for_each_slot(Fn&& fn) const {
    std::size_t n = arena_count_.load(std::memory_order_acquire);
    for (std::size_t a = 0; a < n; ++a) {
      const Arena& arena = arena_table_[a];
      std::size_t used = arena.used.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < used; ++i) fn(g_of_slot(arena.base + i * slot_size_));
    }
  }

  // The G record at the top of the slot starting at slot_lo.
  G* g_of_slot(std::uintptr_t slot_lo) const noexcept;

 private:
  struct Arena {
    std::uintptr_t base = 0;             // first slot (after the leading guard)
    std::atomic<std::size_t> used{0};    // slots carved so far
  };
  static constexpr std::size_t kMaxArenas = 1 << 16;
  static constexpr std::size_t kHotFloor = 256;

  // What survives of a slot whose pages went back to the OS.
  struct ColdSlot {
    std::uintptr_t slot_lo;
    bool guarded;
    bool has_slot_below;  // an unguarded slot whose canary can be checked
  };

  G* carve_locked();
  G* init_slot(std::uintptr_t slot_lo, bool guarded, bool has_slot_below);
  ColdSlot cold_slot_of(const G* g) const noexcept;
  void release(std::vector<ColdSlot>& batch) noexcept;

  const std::size_t slot_size_;
  const std::size_t page_size_;
  std::size_t slots_per_arena_;
  std::mutex mu_;
  std::vector<G*> hot_;       // freed slots with their memory; LIFO, the
                              // back is the most recently freed
  std::size_t hot_count_ = 0;  // == hot_.size()
  std::size_t hot_low_water_ = 0;  // min hot_count_ since the last scavenge
  std::atomic<std::size_t> hot_count_relaxed_{0};  // mirror for scavenge_pending
  std::vector<ColdSlot> cold_;  // freed slots whose pages went back to the OS
  Arena* arena_table_;        // kMaxArenas entries, append-only
  std::atomic<std::size_t> arena_count_{0};
  std::size_t guard_budget_;  // slots that may still get a guard page
  std::atomic<std::size_t> guarded_{0};
  std::atomic<std::size_t> carved_{0};
};

}  // namespace goro::detail
