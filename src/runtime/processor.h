// A Processor is Go's P fused with its M: one worker thread, its run queues,
// its timers and its caches. goro never hands a P to another thread (there
// are no syscall hand-offs), so "P" and "worker" are the same thing here.
//
// Ownership:
//  - runq push/pop, runnext set, gfree, goid cache, sched_tick: the owning
//    worker thread only (a goroutine running on it counts as that thread);
//  - runq grab and runnext steal: any worker (lock-free, see run_queue.h);
//  - timers: under timers_mu, by the owner or by idle workers running
//    another P's expired timers;
//  - park_word / idle_link: under Scheduler::idle_mu_ (see scheduler.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "runtime/exception_state.h"
#include "runtime/g.h"
#include "runtime/run_queue.h"
#include "runtime/timer.h"

namespace goro::detail {

// What a goroutine asks its worker to do once it has switched away: the
// worker runs it on its own stack, after the goroutine's context is saved
// (Go's mcall(park_m) / mcall(gosched_m) / mcall(goexit0)).
// kYield: to the global queue (Gosched); kYieldLocal: to the tail of this
// worker's queue (Go's goyield, after handing a lock to the goroutine on
// runnext).
enum class SwitchAction : std::uint8_t { kNone, kPark, kYield, kYieldLocal, kExit };

// Runs on the worker after the goroutine is saved. Returns false to resume
// the goroutine at once instead of parking it (Go's unlockf contract).
using UnlockFunc = bool (*)(G* g, void* arg);

struct alignas(64) Processor {
  explicit Processor(std::int32_t index) : id(index) {}

  const std::int32_t id;

  // --- run queues ----------------------------------------------------------
  LocalRunQueue runq;
  // Go's runnext: the G readied by the running G, run next so that a
  // ping-pong pair stays on one core. Owner sets; thieves may CAS it away.
  std::atomic<G*> runnext{nullptr};
  std::uint32_t sched_tick = 0;     // schedule() calls; every 61st looks at the global queue
  std::uint64_t resumes = 0;        // goroutines resumed here (note_resume's stamps)
  std::uint32_t inherit_chain = 0;  // consecutive runnext picks (fairness cap)

  // --- the running goroutine and its hand-off request ----------------------
  std::atomic<G*> current{nullptr};
  void* g0_sp = nullptr;            // the worker's own (scheduler) context
  const void* g0_stack_bottom = nullptr;  // for ASan's fiber switches
  std::size_t g0_stack_size = 0;
  void* g0_tsan_fiber = nullptr;
  EhGlobals* eh_globals = nullptr;  // this worker thread's C++ exception state
  void* g0_asan_fake_stack = nullptr;
  SwitchAction action = SwitchAction::kNone;
  UnlockFunc unlockf = nullptr;
  void* unlock_arg = nullptr;
  // A goroutine that parked by switching straight to its successor (see
  // park()); the successor finishes that park as soon as it runs.
  G* handoff_from = nullptr;

  // --- caches --------------------------------------------------------------
  // Free goroutine slots, a LIFO of pointers (gfree[ngfree-1] was freed
  // last). Refilled from / drained to the StackPool kGfreeBatch at a time.
  static constexpr std::int32_t kGfreeCap = 128;
  static constexpr std::int32_t kGfreeBatch = 64;
  G* gfree[kGfreeCap];
  std::int32_t ngfree = 0;
  std::uint64_t goid_next = 0;      // [goid_next, goid_end) reserved IDs
  std::uint64_t goid_end = 0;
  // Goroutine counts, summed over all Ps by num_goroutine(). Written by the
  // owner only; relaxed atomics so other threads may read them.
  std::atomic<std::int64_t> created{0};
  std::atomic<std::int64_t> exited{0};

  // --- timers --------------------------------------------------------------
  std::mutex timers_mu;
  TimerHeap timers;                          // guarded by timers_mu
  std::atomic<std::int64_t> timer0_when{0};  // heap top's when, 0 if empty

  // --- idleness --------------------------------------------------------------
  bool spinning = false;                    // owner: counted in nmspinning
  std::atomic<std::uint32_t> park_word{0};  // futex; 1 = wake up
  Processor* idle_link = nullptr;           // Scheduler::idle_ list
  bool on_idle_list = false;                // guarded by Scheduler::idle_mu_
  std::atomic<bool> idle{false};            // mirrors on_idle_list for thieves
  bool handed_spinning = false;             // set by the waker with park_word
  std::thread thread;

  // --- introspection (debug/sampler.h) ----------------------------------------
  std::atomic<unsigned long> os_thread{0};  // pthread_t, set by the worker itself
  // A snapshot's request to sample the goroutine running here; taken
  // (exchanged to null) by the worker's signal handler.
  std::atomic<struct SampleRequest*> sample_request{nullptr};
};

}  // namespace goro::detail
