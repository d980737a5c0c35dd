// The M:N scheduler: Processors (worker threads), global state, and the
// park/ready/yield/exit transitions of goroutines. See docs/design.md.
//
// Idle/spinning protocol (Go's, proc.go "Worker thread parking/unparking"):
//  - a worker with nothing to run first *spins*: it looks at every queue and
//    steals. At most about half of the active workers spin at once
//    (2*nmspinning < active - npidle).
//  - whoever makes a G runnable calls wakep(): if some worker is idle and none
//    is spinning, one idle worker is woken as a spinner. So while any worker
//    spins, new work is noticed without a wake-up syscall.
//  - a spinner that finds work stops spinning and, if it was the last one,
//    calls wakep() to pass the baton (there may be more work).
//  - a spinner about to sleep first publishes itself as idle, stops
//    spinning, and then re-checks every queue (the StoreLoad fence pairs with
//    the one in wakep): otherwise work submitted while the submitter still saw
//    it spinning would be stranded.
// Lock order: Scheduler::idle_mu_ → (nothing). Processor::timers_mu and the
// global queue mutex are leaves too; none is held across a context switch.
//
// Timers: each worker runs its own Processor's due timers at every schedule
// point; a timer thread (Go's sysmon, timers only) sleeps until the earliest
// timer of all Processors and runs due timers itself, so timers fire even
// when every worker is busy or asleep.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "runtime/g.h"
#include "runtime/processor.h"
#include "runtime/stack_pool.h"

namespace goro::detail {

inline constexpr int kMaxProcs = 256;

class Scheduler {
 public:
  // The scheduler, started on first use (workers, timer thread). It is never
  // destroyed: goroutines still running at process exit keep valid state.
  static Scheduler& get();
  // Null until something started the scheduler.
  static Scheduler* get_if_started() noexcept;

  StackPool& stacks() noexcept { return stacks_; }

  // Processors created so far, active or retired (for snapshots, which
  // look for the worker running a goroutine). Entries never go away.
  int nprocs() const noexcept { return nprocs_.load(std::memory_order_acquire); }
  Processor* processor(int i) const noexcept { return procs_[i]; }

  // --- goroutine lifecycle (goroutine.cc) ---------------------------------------
  G* alloc_g(Processor* p);              // p may be null (plain thread)
  std::uint64_t alloc_goid(Processor* p);
  void publish_new(Processor* p, G* g);  // first ready of a new goroutine
  void free_dead(Processor* p, G* g);    // on the worker, after the exit switch
  void put_free(Processor* p, G* g);     // a slot back to p's free cache

  // Makes a waiting G runnable: on the current worker's runnext, or on the
  // global queue from other threads. Wakes an idle worker if needed.
  void ready(G* g);

  // --- configuration ----------------------------------------------------------
  int maxprocs() const noexcept { return gomaxprocs_.load(std::memory_order_relaxed); }
  int set_maxprocs(int n);
  std::int64_t num_goroutine() const noexcept;

  // Whether spinning for a lock pays on worker p (null: a plain thread):
  // several CPUs, another worker running, nothing queued on p. Go's canSpin.
  bool worth_spinning(Processor* p) const noexcept;

  // --- timers -----------------------------------------------------------------
  void add_timer(Timer* t);
  bool delete_timer(Timer* t) noexcept;

  // Run by the main goroutine when it exits (goroutine.cc).
  void on_main_exit(G* g);

  // --- deadlock detection (deadlock.cc) -----------------------------------------
  // Asks the timer thread to check for a deadlock; called by the last
  // worker to go idle.
  void request_deadlock_check() noexcept;

  // --- direct handoff (park without a trip through the scheduler loop) -----------
  // The goroutine the schedule loop would run next on p if the running one
  // parked now, taken off runnext; null when the loop must decide (timers
  // due, global queue turn, exit, retirement, fairness cap, empty runnext).
  G* take_direct_successor(Processor* p, std::int64_t now_coarse) noexcept;
  // Finishes the park of `from`, which switched straight to the goroutine
  // now running on p: what execute() does after a park.
  void complete_handoff(Processor* p, G* from);

 private:
  friend void worker_entry(Processor* p);
  Scheduler();
  void start();
  Processor* new_processor(int id);

  // schedule loop
  [[noreturn]] void worker_loop(Processor* p);
  G* next_runnable(Processor* p);
  G* local_get(Processor* p) noexcept;
  G* global_get(Processor* p, std::int32_t max);
  G* steal_work(Processor* p);
  G* await_runnext_pickup(Processor* victim, G* next) noexcept;
  G* find_runnable(Processor* p);
  void execute(Processor* p, G* g);
  void stop_spinning(Processor* p);
  void runq_put(Processor* p, G* g, bool next);
  void retire(Processor* p);
  [[noreturn]] void stop_for_exit(Processor* p);

  // idle workers
  void wakep();
  void wakep_for_local_work();
  bool any_work_visible() const noexcept;
  void idle_push_locked(Processor* p);
  void idle_remove_locked(Processor* p);
  void sleep_worker(Processor* p);

  // deadlock detection (deadlock.cc)
  bool nothing_can_run() const noexcept;
  // Dies with Go's deadlock report, or returns whether to look again later
  // (every goroutine is blocked, but a thread goro does not own exists).
  bool check_deadlock();

  // timers
  std::int64_t run_timers(Processor* p, std::int64_t now);
  std::int64_t earliest_timer() const noexcept;
  [[noreturn]] void timer_thread_loop();
  void kick_timer_thread(std::int64_t when);

  StackPool stacks_;
  Processor* procs_[kMaxProcs] = {};
  std::atomic<int> nprocs_{0};      // Processors created (ids [0, nprocs_))
  std::atomic<int> gomaxprocs_{0};  // active ones: ids [0, gomaxprocs_)
  std::mutex procs_mu_;             // serialises set_maxprocs

  GlobalRunQueue globrunq_;
  std::atomic<std::int32_t> npidle_{0};
  std::atomic<std::int32_t> nmspinning_{0};
  std::mutex idle_mu_;
  Processor* idle_ = nullptr;       // guarded by idle_mu_

  std::atomic<std::uint64_t> next_goid_{1};
  std::atomic<std::int64_t> created_off_worker_{0};
  std::atomic<std::int64_t> exited_off_worker_{0};

  // Set when the process starts exiting (atexit): workers stop picking
  // goroutines, so none runs while static destructors do.
  std::atomic<bool> exiting_{false};

  // deadlock detection: a check is pending; workers that left the idle list
  // (a change of this count means something ran)
  std::atomic<bool> deadlock_check_requested_{false};
  std::atomic<std::uint64_t> idle_exits_{0};

  // timer thread
  std::atomic<std::int64_t> timer_thread_wakes_at_{0};  // INT64_MAX: indefinitely
  std::int64_t next_scavenge_ = 0;                      // timer thread only
  std::int64_t deadlock_recheck_at_ = 0;                // timer thread only; 0: none
  std::atomic<std::uint32_t> timer_kick_{0};
};

// The thread blocked in goro::run while its main goroutine lives (a Linux
// thread ID), or 0.
int run_caller_tid() noexcept;

// Records the calling thread as one of goro's own (workers, timer thread,
// signal reporter), which deadlock detection knows cannot wake goroutines
// on their own.
void register_runtime_thread() noexcept;

// The Processor of the calling worker thread, or null on other threads.
// Not inlined on purpose: a goroutine may resume on another thread after any
// switch, and the compiler must not reuse a TLS address computed before it.
Processor* current_processor() noexcept;
// The running goroutine, or null off goroutines.
G* current_g() noexcept;

// Parks the running goroutine with reason r. After its context is saved, the
// worker calls unlockf(g, arg) (if given); whoever can later find g (through
// what unlockf published or unlocked) may ready() it. Returns when readied.
void park(WaitReason r, UnlockFunc unlockf, void* arg);
// Called by a goroutine right after it was switched to (resumed in its
// park, or entered for the first time): finishes the sanitizer and exception
// bookkeeping of the switch, and the park of the goroutine that handed off
// to it, if any. first_run: self is entering its function for the first time.
void finish_switch_in(G* self, bool first_run = false);
// Puts the running goroutine on the global queue and runs others (Gosched).
void yield_current();
// Puts the running goroutine at the tail of its worker's queue and runs
// others (Go's goyield): after readying a goroutine onto runnext, lets it
// run first.
void yield_current_local();
// Ends the running goroutine (after its closure returned). Never returns.
[[noreturn]] void exit_current();

}  // namespace goro::detail
