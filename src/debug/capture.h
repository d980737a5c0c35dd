// Capturing every goroutine's state and stack without stopping the world.
//
// How each goroutine is read (see docs/design.md, "Snapshots"):
//  - parked or runnable: its stack is walked from the context goro_switch
//    saved (frame pointer and resume pc at fixed offsets from G::sp). The
//    walk races with the goroutine being resumed, so it is validated like a
//    seqlock read: G::resume_stamp is read before and after (note_resume
//    sets a new, never repeated stamp before the stack can change); a walk
//    that raced is retried, up to kWalkAttempts times, after which the
//    goroutine is re-classified (it is running by then, or parked again);
//  - running on another worker: sampled with a signal (sampler.h), so a
//    goroutine spinning in a loop shows where it spins;
//  - the calling goroutine: its own frame pointers, from the capture's frame.
// Reading a stack slot is always a read of mapped memory: arenas are never
// unmapped (stack_pool.h), so a racing walk reads stale values, never faults,
// and every frame-pointer step stays inside the goroutine's own slot.
//
// Captures yield the calling goroutine about every millisecond so that other
// goroutines keep running on its worker during a million-goroutine capture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/g.h"

namespace goro::detail {

struct LabelSet;

struct RawGoroutine {
  std::uint64_t id = 0;
  std::uint64_t creator_id = 0;
  std::uintptr_t create_pc = 0;
  std::int64_t wait_since = 0;   // monotonic ns; 0 unless waiting
  std::uint32_t pc_begin = 0;    // into RawSnapshot::pcs
  std::uint32_t pc_count = 0;
  GStatus status = GStatus::kRunnable;
  WaitReason reason = WaitReason::kZero;
  bool first_is_pc = false;        // pcs[pc_begin] is an exact pc (sampled while running)
  bool stack_unavailable = false;  // running elsewhere and its worker did not answer
  bool is_main = false;
  bool is_caller = false;          // the goroutine that took the snapshot
  LabelSet* labels = nullptr;      // one reference, released by ~RawSnapshot
};

class RawSnapshot {
 public:
  RawSnapshot() = default;
  RawSnapshot(RawSnapshot&& o) noexcept;
  RawSnapshot& operator=(RawSnapshot&& o) noexcept;
  RawSnapshot(const RawSnapshot&) = delete;
  RawSnapshot& operator=(const RawSnapshot&) = delete;
  ~RawSnapshot();

  std::vector<RawGoroutine> goroutines;  // in slot order (not sorted)
  std::vector<std::uintptr_t> pcs;       // all stacks, back to back
  std::int64_t taken_mono_ns = 0;        // nanotime() when the capture started
  std::int64_t taken_unix_ns = 0;        // wall clock, for profiles

  const std::uintptr_t* stack_of(const RawGoroutine& r) const { return pcs.data() + r.pc_begin; }

 private:
  void release() noexcept;
};

// Captures every live goroutine. When `only_caller` is set, captures just
// the calling goroutine (empty when called off a goroutine). Never blocks
// for long: a running goroutine whose worker does not answer within 50 ms
// is reported with stack_unavailable.
RawSnapshot capture_goroutines(bool only_caller = false);

// Yields the calling goroutine if it has run for about a millisecond since
// `*last` (monotonic ns), so that long dump loops keep others scheduled.
// A no-op off goroutines.
void yield_if_long(std::int64_t* last);

}  // namespace goro::detail
