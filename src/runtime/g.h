// The goroutine record (Go's `g`).
//
// A G lives at the top of its own stack slot (see stack_pool.h): allocating a
// goroutine is taking one slot, and the record, the closure and the first
// frames share the slot's top page, so a parked goroutine costs one page.
//
// Ownership and invariants:
//  - Exactly one party owns a live G at a time: a run queue (status
//    runnable), the worker running it (running), or the structure it waits
//    on (waiting: a timer, a semaphore's waiter list, ...). Only the owner
//    changes sp or status.
//  - `sp` is valid only while the G is not running: goro_switch wrote it.
//  - Identity fields (id, creator, create_pc, stack) are written before the
//    G is first published to a run queue and never change while it lives.
//  - status, wait_reason and wait_since are atomics so that snapshots can
//    read them from any thread without stopping anybody (they may observe a
//    G mid-transition; a dump is a sample, not a barrier).
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/exception_state.h"
#include "runtime/timer.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

struct LabelSet;  // debug/labels.h

// Go's goroutine states (runtime2.go), as shown in dumps.
enum class GStatus : std::uint8_t {
  kFree = 0,   // slot not in use (fresh memory reads as this)
  kIdle,       // allocated, being initialised
  kRunnable,   // on a run queue
  kRunning,    // on a worker
  kWaiting,    // parked; wait_reason says why
  kDead,       // finished; slot back in a pool
};

const char* gstatus_string(GStatus s) noexcept;

using ClosureFunc = void (*)(void* closure);

struct alignas(64) G {
  // --- scheduling: owned by whoever holds the G -------------------------
  void* sp = nullptr;         // saved stack pointer while not running

  // --- identity: immutable while live -----------------------------------
  std::uint64_t id = 0;
  std::uint64_t creator_id = 0;     // 0: created by a plain thread
  std::uintptr_t create_pc = 0;     // return address in the creating function
  std::uintptr_t stack_lo = 0;      // lowest usable stack address
  std::uintptr_t stack_hi = 0;      // slot top (the G sits just below)
  bool stack_guarded = false;       // a PROT_NONE page sits below stack_lo
  // Unguarded stacks: the canary of the slot below, which an overflow of this
  // stack clobbers first (null where there is no such slot).
  const std::uint64_t* canary_below = nullptr;
  bool is_main = false;

  // --- observability: atomics, readable from any thread -----------------
  std::atomic<GStatus> status{GStatus::kFree};
  // `id` for readers on other threads: set when the goroutine starts, 0 once
  // it is dead (id itself is plain: only the owner reads it).
  std::atomic<std::uint64_t> live_id{0};
  std::atomic<WaitReason> wait_reason{WaitReason::kZero};
  std::atomic<std::int64_t> wait_since{0};  // coarse monotonic ns

  // --- entry -------------------------------------------------------------
  ClosureFunc invoke = nullptr;
  ClosureFunc destroy = nullptr;
  void* closure = nullptr;
  bool closure_on_heap = false;
  std::uint32_t closure_align = 0;  // heap closures: the alignment to free with

  // --- parking -----------------------------------------------------------
  Timer sleep_timer;           // goro::sleep's timer (like Go's gp.timer)

  // --- sanitizers --------------------------------------------------------
  void* tsan_fiber = nullptr;
  void* asan_fake_stack = nullptr;

  // --- C++ exception state (see exception_state.h) -------------------------
  ExceptionState exceptions;

  // --- introspection (debug/capture.h, debug/labels.h) ----------------------
  // Last, in the padding of the record's last cache line: placed among the
  // fields above they moved the closure fields onto a line of their own and
  // cost a cache miss per spawn.
  // A stamp that changes every time the G is resumed, written (then a
  // release fence) by the thread that resumes it, before the G's stack
  // changes: a snapshot walking a parked or runnable G's stack re-reads it
  // afterwards and drops the walk if it moved (a seqlock whose only writer
  // is the G's owner). Stamps are unique (see note_resume), so slot reuse
  // shows too.
  std::atomic<std::uint64_t> resume_stamp{0};
  // Labels (debug/labels.h): one reference; replaced only by the goroutine
  // itself, read by snapshots under LabelReadScope.
  std::atomic<LabelSet*> labels{nullptr};
};

// Called by the worker about to resume g, before g's stack may change: the
// writer half of the snapshot seqlock (see G::resume_stamp). The stamp is
// the worker's own resume count and index, unique across workers and never
// repeated; it is a plain store, not an increment of the G's value: that
// load would be the first touch of the G's line on the resume path and
// stall on a cache miss (a store waits in the store buffer instead).
inline void note_resume(std::uint64_t* worker_resumes, int worker_index, G* g) noexcept {
  g->resume_stamp.store((++*worker_resumes << 8) | static_cast<std::uint64_t>(worker_index), std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

// Sentinel written in the last word of every stack slot (just above its G).
// A goroutine overflowing the slot above an unguarded slot clobbers it first;
// the switch-out path checks the word below the running goroutine's stack.
inline constexpr std::uint64_t kStackCanary = 0x60726f5f737461ccULL;

}  // namespace goro::detail
