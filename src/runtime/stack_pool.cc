#include "runtime/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <new>
#include <string>

#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

namespace goro::detail {
namespace {

constexpr std::size_t kArenaTargetBytes = std::size_t{64} << 20;

std::size_t read_max_map_count() {
  std::ifstream in("/proc/sys/vm/max_map_count");
  std::size_t n = 0;
  if (in >> n && n > 0) return n;
  return 65530;  // the kernel default
}

std::size_t count_current_maps() {
  std::ifstream in("/proc/self/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace

StackPool::StackPool(std::size_t slot_size)
    : slot_size_(slot_size), page_size_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
  slots_per_arena_ = kArenaTargetBytes / slot_size_;
  if (slots_per_arena_ < 8) slots_per_arena_ = 8;
  // Each guard page adds two map entries. Keep half of the kernel's budget
  // for the program (malloc arenas, thread stacks, libraries) and spend a
  // quarter of it on guards.
  std::size_t max_maps = read_max_map_count();
  std::size_t used = count_current_maps();
  std::size_t spare = max_maps / 2 > used ? max_maps / 2 - used : 0;
  guard_budget_ = spare / 2;
  void* table = mmap(nullptr, kMaxArenas * sizeof(Arena), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (table == MAP_FAILED) fatal_error("runtime: cannot reserve the stack arena table");
  arena_table_ = static_cast<Arena*>(table);
}

G* StackPool::g_of_slot(std::uintptr_t slot_lo) const noexcept {
  std::uintptr_t top = slot_lo + slot_size_ - sizeof(std::uint64_t);  // canary word
  return reinterpret_cast<G*>((top - sizeof(G)) & ~std::uintptr_t{alignof(G) - 1});
}

G* StackPool::init_slot(std::uintptr_t slot_lo, bool guarded, bool has_slot_below) {
  *reinterpret_cast<std::uint64_t*>(slot_lo + slot_size_ - sizeof(std::uint64_t)) = kStackCanary;
  G* g = ::new (g_of_slot(slot_lo)) G();
  g->stack_guarded = guarded;
  g->stack_lo = guarded ? slot_lo + page_size_ : slot_lo;
  g->stack_hi = reinterpret_cast<std::uintptr_t>(g);
  if (has_slot_below) {
    g->canary_below = reinterpret_cast<const std::uint64_t*>(slot_lo - sizeof(std::uint64_t));
  }
  return g;
}

G* StackPool::carve_locked() {
  std::size_t n = arena_count_.load(std::memory_order_relaxed);
  Arena* arena = n > 0 ? &arena_table_[n - 1] : nullptr;
  if (arena == nullptr || arena->used.load(std::memory_order_relaxed) == slots_per_arena_) {
    if (n == kMaxArenas) fatal_error("runtime: out of goroutine stack arenas");
    std::size_t bytes = page_size_ + slots_per_arena_ * slot_size_;
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fatal_error("runtime: cannot allocate goroutine stack memory (mmap failed)");
    // The leading guard page keeps the first slot's overflow from reaching
    // whatever mapping lies below.
    mprotect(mem, page_size_, PROT_NONE);
    arena = ::new (&arena_table_[n]) Arena();
    arena->base = reinterpret_cast<std::uintptr_t>(mem) + page_size_;
    arena_count_.store(n + 1, std::memory_order_release);
  }
  std::size_t i = arena->used.load(std::memory_order_relaxed);
  std::uintptr_t slot_lo = arena->base + i * slot_size_;
  bool guarded = false;
  if (guard_budget_ > 0) {
    if (mprotect(reinterpret_cast<void*>(slot_lo), page_size_, PROT_NONE) == 0) {
      --guard_budget_;
      guarded = true;
      guarded_.fetch_add(1, std::memory_order_relaxed);
    } else {
      guard_budget_ = 0;  // the kernel's map budget is spent: canaries from here on
    }
  }
  G* g = init_slot(slot_lo, guarded, !guarded && i > 0);
  arena->used.store(i + 1, std::memory_order_release);
  carved_.fetch_add(1, std::memory_order_relaxed);
  return g;
}

void StackPool::take(G** out, int n) {
  int got = 0;
  std::lock_guard lock(mu_);
  while (got < n && !hot_.empty()) {
    out[got++] = hot_.back();
    hot_.pop_back();
  }
  hot_count_ = hot_.size();
  if (hot_count_ < hot_low_water_) hot_low_water_ = hot_count_;
  while (got < n && !cold_.empty()) {
    ColdSlot c = cold_.back();
    cold_.pop_back();
    out[got++] = init_slot(c.slot_lo, c.guarded, c.has_slot_below);
  }
  while (got < n) out[got++] = carve_locked();
  hot_count_relaxed_.store(hot_count_, std::memory_order_relaxed);
}

void StackPool::give(G* const* slots, int n) {
  std::lock_guard lock(mu_);
  hot_.insert(hot_.end(), slots, slots + n);
  hot_count_ = hot_.size();
  hot_count_relaxed_.store(hot_count_, std::memory_order_relaxed);
}

std::size_t StackPool::scavenge() {
  std::vector<ColdSlot> batch;
  {
    std::lock_guard lock(mu_);
    // Slots below the low-water mark stayed in the stack through the whole
    // interval: nobody needed them. Release half of those beyond the floor
    // (a burst that recurs every few seconds keeps most of its memory; one
    // that does not is released within a few intervals). They are the
    // bottom of the stack, the longest unused.
    std::size_t idle = hot_low_water_ < hot_count_ ? hot_low_water_ : hot_count_;
    std::size_t excess = idle > kHotFloor ? (idle - kHotFloor + 1) / 2 : 0;
    batch.reserve(excess);
    for (std::size_t i = 0; i < excess; ++i) batch.push_back(cold_slot_of(hot_[i]));
    hot_.erase(hot_.begin(), hot_.begin() + static_cast<std::ptrdiff_t>(excess));
    hot_count_ = hot_.size();
    hot_low_water_ = hot_count_;
    hot_count_relaxed_.store(hot_count_, std::memory_order_relaxed);
  }
  if (batch.empty()) return 0;
  // madvise outside the lock: other threads keep taking and giving slots.
  release(batch);
  std::lock_guard lock(mu_);
  cold_.insert(cold_.end(), batch.begin(), batch.end());
  return batch.size();
}

StackPool::ColdSlot StackPool::cold_slot_of(const G* g) const noexcept {
  return {g->stack_guarded ? g->stack_lo - page_size_ : g->stack_lo, g->stack_guarded,
          g->canary_below != nullptr};
}

void StackPool::release(std::vector<ColdSlot>& batch) noexcept {
  std::sort(batch.begin(), batch.end(),
            [](const ColdSlot& a, const ColdSlot& b) { return a.slot_lo < b.slot_lo; });
  // Drop each run of adjacent slots with one call. Guard pages inside a run
  // are PROT_NONE mappings of the same arena: madvise skips them harmlessly.
  // After this the G records and canaries read as zeros (status kFree).
  std::size_t i = 0;
  while (i < batch.size()) {
    std::uintptr_t lo = batch[i].slot_lo;
    std::uintptr_t hi = lo + slot_size_;
    std::size_t j = i + 1;
    while (j < batch.size() && batch[j].slot_lo == hi) {
      hi += slot_size_;
      ++j;
    }
    asan_unpoison(reinterpret_cast<void*>(lo), hi - lo);
    madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    i = j;
  }
}

}  // namespace goro::detail
