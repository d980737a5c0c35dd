#include "runtime/scheduler.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/futex.h"
#include "runtime/sanitizer.h"

namespace goro::detail {
namespace {

// Go checks the global queue every 61 schedules so that it cannot starve
// behind a busy local queue.
constexpr std::uint32_t kGlobalQueueCheckPeriod = 61;
// runnext lets a readied goroutine run next and inherit the time slice; a
// ping-pong pair could keep that up forever, so after this many inherited
// picks the local queue's head goes first (Go bounds it by time via sysmon).
constexpr std::uint32_t kMaxInheritChain = 64;
constexpr int kStealRounds = 4;
// How long a thief lets a running victim pick its own runnext.
constexpr std::int64_t kRunnextGraceNs = 3000;
// How often the timer thread returns idle stack memory to the OS.
constexpr std::int64_t kScavengePeriodNs = 1'000'000'000;
// While every goroutine is blocked but a thread goro does not own might
// still wake one, the deadlock check is repeated this often.
constexpr std::int64_t kDeadlockRecheckNs = 100'000'000;

thread_local Processor* tl_processor [[gnu::tls_model("initial-exec")]] = nullptr;

Scheduler* g_scheduler = nullptr;
std::once_flag g_start_once;
// g_scheduler once start() returned: get()'s fast path (every ready() and
// park calls get(); call_once costs a pthread_once call each time).
std::atomic<Scheduler*> g_started{nullptr};

std::uint32_t fast_rand(std::uint32_t& state) noexcept {
  // xorshift32: cheap victim randomisation for stealing.
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

}  // namespace

[[gnu::noinline]] Processor* current_processor() noexcept {
  Processor* p = tl_processor;
  asm volatile("" ::: "memory");
  return p;
}

[[gnu::noinline]] G* current_g() noexcept {
  Processor* p = tl_processor;
  if (p == nullptr) return nullptr;
  return p->current.load(std::memory_order_relaxed);
}

void worker_entry(Processor* p) {
  tl_processor = p;
  register_runtime_thread();
  p->os_thread.store(static_cast<unsigned long>(pthread_self()), std::memory_order_release);
  install_signal_stack();
  p->g0_tsan_fiber = tsan_current_fiber();
  p->eh_globals = thread_eh_globals();
  g_scheduler->worker_loop(p);
}

Scheduler& Scheduler::get() {
  if (Scheduler* s = g_started.load(std::memory_order_acquire)) return *s;
  std::call_once(g_start_once, [] {
    // Leaked on purpose: see the header.
    g_scheduler = new Scheduler();
    g_scheduler->start();
    g_started.store(g_scheduler, std::memory_order_release);
  });
  return *g_scheduler;
}

Scheduler* Scheduler::get_if_started() noexcept { return g_started.load(std::memory_order_acquire); }

Scheduler::Scheduler() : stacks_(runtime_config().stack_size) {
  timer_thread_wakes_at_.store(INT64_MAX, std::memory_order_relaxed);
}

void Scheduler::start() {
  install_crash_handlers();
  std::atexit([] { g_scheduler->exiting_.store(true, std::memory_order_release); });
  int n = runtime_config().maxprocs;
  gomaxprocs_.store(n, std::memory_order_release);
  for (int i = 0; i < n; ++i) new_processor(i);
  std::thread([this] { timer_thread_loop(); }).detach();
}

Processor* Scheduler::new_processor(int id) {
  auto* p = new Processor(id);
  procs_[id] = p;
  nprocs_.store(id + 1, std::memory_order_release);
  p->thread = std::thread(worker_entry, p);
  char name[16];
  std::snprintf(name, sizeof(name), "goro-worker-%d", id);
  pthread_setname_np(p->thread.native_handle(), name);
  p->thread.detach();
  return p;
}

// ---------------------------------------------------------------------------
// The schedule loop.

void Scheduler::worker_loop(Processor* p) {
  for (;;) {
    G* g = next_runnable(p);
    execute(p, g);
  }
}

G* Scheduler::next_runnable(Processor* p) {
  if (exiting_.load(std::memory_order_acquire)) stop_for_exit(p);
  if (p->id >= gomaxprocs_.load(std::memory_order_acquire)) retire(p);
  if (p->timer0_when.load(std::memory_order_acquire) != 0) run_timers(p, nanotime());
  ++p->sched_tick;
  G* g = nullptr;
  if (p->sched_tick % kGlobalQueueCheckPeriod == 0 && globrunq_.maybe_nonempty()) {
    g = global_get(p, 1);
  }
  if (g == nullptr) g = local_get(p);
  if (g == nullptr) g = find_runnable(p);
  if (p->spinning) stop_spinning(p);
  return g;
}

G* Scheduler::local_get(Processor* p) noexcept {
  G* next = p->runnext.load(std::memory_order_relaxed);
  if (next != nullptr && (p->inherit_chain < kMaxInheritChain || p->runq.empty())) {
    if (p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) {
      ++p->inherit_chain;
      return next;
    }
  }
  p->inherit_chain = 0;
  return p->runq.pop();
}

// Go's globrunqget: a fair share of the global queue, at most half a ring.
G* Scheduler::global_get(Processor* p, std::int32_t max) {
  std::int32_t size = globrunq_.size();
  if (size == 0) return nullptr;
  std::int32_t active = gomaxprocs_.load(std::memory_order_relaxed);
  std::int32_t n = size / active + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<std::int32_t>(LocalRunQueue::kSize / 2)) n = LocalRunQueue::kSize / 2;
  G* batch[LocalRunQueue::kSize / 2];
  std::int32_t got = globrunq_.pop_n(batch, n);
  if (got == 0) return nullptr;
  for (std::int32_t i = 1; i < got; ++i) runq_put(p, batch[i], false);
  return batch[0];
}

void Scheduler::runq_put(Processor* p, G* g, bool next) {
  if (next) {
    g = p->runnext.exchange(g, std::memory_order_acq_rel);
    if (g == nullptr) return;
    // The old runnext goes to the tail of the ring.
  }
  for (;;) {
    if (p->runq.push(g)) return;
    G* spill[LocalRunQueue::kSize / 2 + 1];
    if (p->runq.spill_half(g, spill)) {
      globrunq_.push_n(spill, LocalRunQueue::kSize / 2 + 1);
      return;
    }
  }
}

// The victim is running and has a runnext: typically the goroutine it
// just readied before blocking (a channel handoff), which it will run
// itself within ~100 ns. Stealing it would split the pair across workers,
// so give it time first. Like Go (runqgrab's usleep(3)) the thief sleeps
// rather than spins: the kernel's timer slack stretches the 3 us to ~50 us,
// and during that time this worker still counts as spinning, so the
// victim's readies (wakep) find a spinner and make no futex call. A pause
// loop of 3 us made the thief go idle and be woken again every few round
// trips of a ping-pong pair (1 futex wake per ~5 round trips; with the
// sleep, 1 per ~1,500). Polling victim->runnext meanwhile would also pull
// its cache line away from the victim at every handoff.
// Returns the runnext still there afterwards, or null.
G* Scheduler::await_runnext_pickup(Processor* victim, G* next) noexcept {
  timespec ts{0, kRunnextGraceNs};
  nanosleep(&ts, nullptr);
  G* now = victim->runnext.load(std::memory_order_acquire);
  return now == next ? next : nullptr;
}

G* Scheduler::steal_work(Processor* p) {
  std::uint32_t rnd = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p) >> 6) ^
                      p->sched_tick ^ 0x9e3779b9u;
  int active = gomaxprocs_.load(std::memory_order_acquire);
  if (active > nprocs_.load(std::memory_order_acquire)) active = nprocs_.load(std::memory_order_acquire);
  for (int round = 0; round < kStealRounds; ++round) {
    bool last_round = round == kStealRounds - 1;
    int start = static_cast<int>(fast_rand(rnd) % static_cast<std::uint32_t>(active));
    for (int i = 0; i < active; ++i) {
      Processor* victim = procs_[(start + i) % active];
      if (victim == p) continue;
      std::uint32_t n = victim->runq.grab_into(p->runq);
      if (n > 0) return p->runq.commit_grabbed(n);
      if (!last_round) continue;
      // Last resort: the victim's runnext. If the victim is running, give it
      // a moment to pick its runnext itself (Go sleeps 3us): stealing it
      // would split a ping-pong pair across cores. "Running" means not idle:
      // between two goroutines the victim is still about to run runnext.
      G* next = victim->runnext.load(std::memory_order_acquire);
      if (next == nullptr) continue;
      if (!victim->idle.load(std::memory_order_acquire)) {
        next = await_runnext_pickup(victim, next);
        if (next == nullptr) continue;
      }
      if (victim->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) return next;
    }
  }
  return nullptr;
}

bool Scheduler::any_work_visible() const noexcept {
  if (globrunq_.maybe_nonempty()) return true;
  int active = gomaxprocs_.load(std::memory_order_acquire);
  int created = nprocs_.load(std::memory_order_acquire);
  for (int i = 0; i < active && i < created; ++i) {
    Processor* q = procs_[i];
    if (!q->runq.empty() || q->runnext.load(std::memory_order_acquire) != nullptr) return true;
  }
  return false;
}

G* Scheduler::find_runnable(Processor* p) {
  for (;;) {
    if (p->id >= gomaxprocs_.load(std::memory_order_acquire)) retire(p);
    if (p->timer0_when.load(std::memory_order_acquire) != 0) run_timers(p, nanotime());
    if (G* g = local_get(p)) return g;
    if (globrunq_.maybe_nonempty()) {
      if (G* g = global_get(p, 0)) return g;
    }
    // Spin: steal, unless enough workers already do (they would find the
    // same work; burning more cores only adds contention).
    std::int32_t active = gomaxprocs_.load(std::memory_order_relaxed);
    if (p->spinning ||
        2 * nmspinning_.load(std::memory_order_relaxed) < active - npidle_.load(std::memory_order_relaxed)) {
      if (!p->spinning) {
        p->spinning = true;
        nmspinning_.fetch_add(1, std::memory_order_seq_cst);
      }
      if (G* g = steal_work(p)) return g;
    }
    sleep_worker(p);
  }
}

// Publishes p as idle, drops spinning, re-checks for work, and sleeps until
// wakep() or set_maxprocs() wakes it. Returns to find_runnable's loop.
void Scheduler::sleep_worker(Processor* p) {
  {
    std::lock_guard lock(idle_mu_);
    if (globrunq_.maybe_nonempty()) return;  // retry the loop instead
    idle_push_locked(p);
  }
  bool was_spinning = p->spinning;
  if (was_spinning) {
    p->spinning = false;
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
  }
  // Pairs with the fence in wakep(): either the submitter sees us idle (and
  // wakes someone) or we see its work here. Go re-checks only when it was
  // spinning because its global queue is guarded by the same lock as the
  // idle list; ours is not, so every sleeper re-checks.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (any_work_visible()) {
    std::lock_guard lock(idle_mu_);
    if (p->on_idle_list) {
      idle_remove_locked(p);
      if (was_spinning) {
        p->spinning = true;
        nmspinning_.fetch_add(1, std::memory_order_seq_cst);
      }
      return;
    }
    // Someone already took us off the list and is waking us: fall through
    // and consume the wake-up.
  }
  // The last worker to go idle: maybe every goroutine is blocked for good.
  if (npidle_.load(std::memory_order_seq_cst) >= gomaxprocs_.load(std::memory_order_relaxed)) {
    request_deadlock_check();
  }
  while (p->park_word.load(std::memory_order_acquire) == 0) {
    futex_wait(&p->park_word, 0);
  }
  std::lock_guard lock(idle_mu_);
  p->park_word.store(0, std::memory_order_relaxed);
  if (p->handed_spinning) {
    p->handed_spinning = false;
    p->spinning = true;  // the waker counted us in nmspinning already
  }
}

void Scheduler::idle_push_locked(Processor* p) {
  p->idle.store(true, std::memory_order_release);
  p->idle_link = idle_;
  idle_ = p;
  p->on_idle_list = true;
  p->park_word.store(0, std::memory_order_relaxed);
  npidle_.fetch_add(1, std::memory_order_seq_cst);
}

void Scheduler::idle_remove_locked(Processor* p) {
  for (Processor** link = &idle_; *link != nullptr; link = &(*link)->idle_link) {
    if (*link == p) {
      *link = p->idle_link;
      p->idle_link = nullptr;
      p->on_idle_list = false;
      p->idle.store(false, std::memory_order_release);
      npidle_.fetch_sub(1, std::memory_order_seq_cst);
      idle_exits_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

// Go's wakep: start one spinning worker if there are idle ones and nobody
// spins. Called after making a G runnable.
void Scheduler::wakep() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (npidle_.load(std::memory_order_seq_cst) == 0) return;
  std::int32_t zero = 0;
  if (nmspinning_.load(std::memory_order_seq_cst) != 0 ||
      !nmspinning_.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) {
    return;
  }
  Processor* q = nullptr;
  {
    std::lock_guard lock(idle_mu_);
    q = idle_;
    if (q != nullptr) {
      idle_remove_locked(q);
      q->handed_spinning = true;
      q->park_word.store(1, std::memory_order_release);
    }
  }
  if (q == nullptr) {
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  futex_wake(&q->park_word);
}

void Scheduler::stop_spinning(Processor* p) {
  p->spinning = false;
  // If we were the last spinner, start another: the work we found may be
  // the first of a burst.
  if (nmspinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep();
}

void Scheduler::execute(Processor* p, G* g) {
  for (;;) {
    note_resume(&p->resumes, p->id, g);
    g->status.store(GStatus::kRunning, std::memory_order_relaxed);
    p->current.store(g, std::memory_order_release);
    p->action = SwitchAction::kNone;
    asan_start_switch(&p->g0_asan_fake_stack, reinterpret_cast<void*>(g->stack_lo),
                      g->stack_hi - g->stack_lo);
    tsan_switch_to_fiber(g->tsan_fiber);
    goro_switch(&p->g0_sp, g->sp, g);
    asan_finish_switch(p->g0_asan_fake_stack, nullptr, nullptr);
    // Not necessarily g: g may have parked by handing off to a successor
    // (park()), and the last of that chain switched back here.
    g = p->current.load(std::memory_order_relaxed);
    p->current.store(nullptr, std::memory_order_release);
    switch (p->action) {
      case SwitchAction::kPark:
        // From here on a waker may ready g: set the status first.
        g->status.store(GStatus::kWaiting, std::memory_order_release);
        if (p->unlockf != nullptr && !p->unlockf(g, p->unlock_arg)) {
          g->wait_reason.store(WaitReason::kZero, std::memory_order_relaxed);
          continue;  // resume g at once
        }
        return;
      case SwitchAction::kYield:
        g->status.store(GStatus::kRunnable, std::memory_order_release);
        globrunq_.push(g);
        return;
      case SwitchAction::kYieldLocal:
        g->status.store(GStatus::kRunnable, std::memory_order_release);
        runq_put(p, g, false);
        return;
      case SwitchAction::kExit:
        free_dead(p, g);
        return;
      case SwitchAction::kNone:
        fatal_error("runtime: goroutine switched to the scheduler without a reason");
    }
  }
}

void Scheduler::ready(G* g) {
  g->wait_reason.store(WaitReason::kZero, std::memory_order_relaxed);
  g->status.store(GStatus::kRunnable, std::memory_order_release);
  Processor* p = current_processor();
  if (p != nullptr && p->id < gomaxprocs_.load(std::memory_order_relaxed)) {
    runq_put(p, g, true);
    wakep_for_local_work();
  } else {
    globrunq_.push(g);
    wakep();
  }
}

// wakep() without its StoreLoad fence, for work put on the calling worker's
// own queue (Go's ready() does the same). If the fence's race is lost (we
// miss an idle worker that misses our work), nothing is stranded: this
// worker runs the goroutine itself; only the chance to run it in parallel
// is lost. A channel handoff readies on every operation, and the fence
// (mfence) was a measurable part of its cost.
void Scheduler::wakep_for_local_work() {
  if (npidle_.load(std::memory_order_relaxed) == 0) return;
  if (nmspinning_.load(std::memory_order_relaxed) != 0) return;
  wakep();
}

void Scheduler::publish_new(Processor* p, G* g) {
  g->status.store(GStatus::kRunnable, std::memory_order_release);
  if (p != nullptr && p->id < gomaxprocs_.load(std::memory_order_relaxed)) {
    p->created.store(p->created.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    runq_put(p, g, true);
    wakep_for_local_work();
  } else {
    created_off_worker_.fetch_add(1, std::memory_order_relaxed);
    globrunq_.push(g);
    wakep();
  }
}

// A Processor beyond gomaxprocs hands its queued goroutines to the global
// queue and sleeps until set_maxprocs() brings it back.
void Scheduler::retire(Processor* p) {
  if (p->spinning) {
    p->spinning = false;
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
  }
  G* moved[LocalRunQueue::kSize + 1];
  std::int32_t n = 0;
  if (G* next = p->runnext.exchange(nullptr, std::memory_order_acq_rel)) moved[n++] = next;
  while (G* g = p->runq.pop()) moved[n++] = g;
  globrunq_.push_n(moved, n);
  wakep();
  while (p->id >= gomaxprocs_.load(std::memory_order_acquire)) {
    futex_wait(&p->park_word, 0);
    p->park_word.store(0, std::memory_order_relaxed);
  }
}

// The process is exiting: abandon the remaining goroutines, as Go's exit
// does, by never scheduling again. The thread ends with the process.
void Scheduler::stop_for_exit(Processor* p) {
  std::atomic<std::uint32_t> never{0};
  (void)p;
  for (;;) futex_wait(&never, 0);
}

int Scheduler::set_maxprocs(int n) {
  std::lock_guard lock(procs_mu_);
  int old = gomaxprocs_.load(std::memory_order_relaxed);
  if (n < 1 || n == old) return old;
  if (n > kMaxProcs) n = kMaxProcs;
  gomaxprocs_.store(n, std::memory_order_seq_cst);
  int created = nprocs_.load(std::memory_order_relaxed);
  for (int i = created; i < n; ++i) new_processor(i);
  // Wake everybody whose role changed: retired workers that are active
  // again, and idle workers that must now retire.
  for (int i = 0; i < created; ++i) {
    Processor* q = procs_[i];
    bool retiring = i >= n;
    bool returning = i < n && i >= old;
    if (!retiring && !returning) continue;
    {
      std::lock_guard idle_lock(idle_mu_);
      if (q->on_idle_list) idle_remove_locked(q);
      q->park_word.store(1, std::memory_order_release);
    }
    futex_wake(&q->park_word);
  }
  return old;
}

std::int64_t Scheduler::num_goroutine() const noexcept {
  std::int64_t n = created_off_worker_.load(std::memory_order_relaxed) -
                   exited_off_worker_.load(std::memory_order_relaxed);
  int created = nprocs_.load(std::memory_order_acquire);
  for (int i = 0; i < created; ++i) {
    n += procs_[i]->created.load(std::memory_order_relaxed) - procs_[i]->exited.load(std::memory_order_relaxed);
  }
  return n;
}

// ---------------------------------------------------------------------------
// Transitions requested by the running goroutine.

namespace {

// Leaves the goroutine for its worker's scheduler context. The action and its
// arguments are already in p. Returns when the goroutine runs again, maybe
// on another worker.
void switch_to_scheduler(Processor* p, G* g) {
  check_stack_canary(g);
  bool exiting = p->action == SwitchAction::kExit;
  // The exceptions this goroutine is handling leave the thread with it.
  g->exceptions.take_from_thread(p->eh_globals);
  tsan_switch_to_fiber(p->g0_tsan_fiber);
  asan_start_switch(exiting ? nullptr : &g->asan_fake_stack, p->g0_stack_bottom, p->g0_stack_size);
  goro_switch(&g->sp, p->g0_sp, nullptr);
  finish_switch_in(g);
}

// Parks g (on p) by switching straight to `next`, which p's schedule loop
// would have picked anyway: one context switch instead of two, and no pass
// through the loop. g's context must be saved before anybody may ready it,
// so the rest of the park (status, unlockf) is finished by `next` once it
// runs (finish_switch_in -> complete_handoff).
void handoff_park(Processor* p, G* g, G* next) {
  check_stack_canary(g);
  g->exceptions.take_from_thread(p->eh_globals);
  p->handoff_from = g;
  note_resume(&p->resumes, p->id, next);
  next->status.store(GStatus::kRunning, std::memory_order_relaxed);
  p->current.store(next, std::memory_order_release);
  tsan_switch_to_fiber(next->tsan_fiber);
  asan_start_switch(&g->asan_fake_stack, reinterpret_cast<void*>(next->stack_lo), next->stack_hi - next->stack_lo);
  goro_switch(&g->sp, next->sp, next);
  finish_switch_in(g);
}

}  // namespace

void finish_switch_in(G* self, bool first_run) {
  Processor* p = current_processor();
  G* from = p->handoff_from;
  void* fake_stack = first_run ? nullptr : self->asan_fake_stack;
  if (from == nullptr) {
    // From the scheduler context: record its stack for the switch back.
    asan_finish_switch(fake_stack, &p->g0_stack_bottom, &p->g0_stack_size);
  } else {
    const void* bottom;
    std::size_t size;
    asan_finish_switch(fake_stack, &bottom, &size);
    p->handoff_from = nullptr;
  }
  // A goroutine's first run has no exception state to bring (and the thread
  // has none: whoever ran before took theirs). Skipping it matters: the
  // state sits on a line of the new G that nothing else touched, and that
  // cache (and TLB) miss was a quarter of the cost of a spawn.
  if (!first_run) self->exceptions.give_to_thread(p->eh_globals);
  if (from != nullptr) Scheduler::get().complete_handoff(p, from);
}

G* Scheduler::take_direct_successor(Processor* p, std::int64_t now_coarse) noexcept {
  G* next = p->runnext.load(std::memory_order_relaxed);
  if (next == nullptr) return nullptr;
  // Everything next_runnable() would do before looking at runnext.
  if (exiting_.load(std::memory_order_relaxed)) return nullptr;
  if (p->id >= gomaxprocs_.load(std::memory_order_relaxed)) return nullptr;
  std::int64_t when = p->timer0_when.load(std::memory_order_acquire);
  if (when != 0 && when <= now_coarse) return nullptr;
  if ((p->sched_tick + 1) % kGlobalQueueCheckPeriod == 0) return nullptr;
  if (p->inherit_chain >= kMaxInheritChain && !p->runq.empty()) return nullptr;
  if (!p->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) return nullptr;
  ++p->sched_tick;
  ++p->inherit_chain;
  return next;
}

void Scheduler::complete_handoff(Processor* p, G* from) {
  from->status.store(GStatus::kWaiting, std::memory_order_release);
  UnlockFunc unlockf = p->unlockf;
  if (unlockf != nullptr && !unlockf(from, p->unlock_arg)) ready(from);  // its wait is already over
}

void park(WaitReason r, UnlockFunc unlockf, void* arg) {
  Processor* p = current_processor();
  G* g = p->current.load(std::memory_order_relaxed);
  std::int64_t now = coarse_nanotime();
  g->wait_reason.store(r, std::memory_order_relaxed);
  g->wait_since.store(now, std::memory_order_relaxed);
  p->unlockf = unlockf;
  p->unlock_arg = arg;
  if (G* next = Scheduler::get().take_direct_successor(p, now)) {
    handoff_park(p, g, next);
    return;
  }
  p->action = SwitchAction::kPark;
  switch_to_scheduler(p, g);
}

void yield_current() {
  Processor* p = current_processor();
  G* g = p->current.load(std::memory_order_relaxed);
  p->action = SwitchAction::kYield;
  switch_to_scheduler(p, g);
}

void yield_current_local() {
  Processor* p = current_processor();
  G* g = p->current.load(std::memory_order_relaxed);
  p->action = SwitchAction::kYieldLocal;
  switch_to_scheduler(p, g);
}

bool Scheduler::worth_spinning(Processor* p) const noexcept {
  if (runtime_config().ncpu <= 1) return false;
  // Another worker must be running: spinning while everybody else sleeps
  // only delays the lock holder's wake-up.
  if (gomaxprocs_.load(std::memory_order_relaxed) <=
      npidle_.load(std::memory_order_relaxed) + nmspinning_.load(std::memory_order_relaxed) + 1) {
    return false;
  }
  // Work queued here should run instead of spinning.
  return p == nullptr || (p->runq.empty() && p->runnext.load(std::memory_order_relaxed) == nullptr);
}

void exit_current() {
  Processor* p = current_processor();
  G* g = p->current.load(std::memory_order_relaxed);
  p->action = SwitchAction::kExit;
  switch_to_scheduler(p, g);
  fatal_error("runtime: a dead goroutine was resumed");
}

// ---------------------------------------------------------------------------
// Timers.

void Scheduler::add_timer(Timer* t) {
  Processor* p = current_processor();
  if (p == nullptr) p = procs_[0];
  // Read t only under the lock: once it is unlocked the timer may fire and
  // its owner may reuse it (a goroutine's next sleep rewrites sleep_timer).
  std::int64_t when = t->when;
  bool new_head;
  {
    std::lock_guard lock(p->timers_mu);
    p->timers.push(t);
    t->owner.store(p, std::memory_order_relaxed);
    new_head = p->timers.top() == t;
    if (new_head) p->timer0_when.store(when, std::memory_order_seq_cst);
  }
  if (new_head) kick_timer_thread(when);
}

bool Scheduler::delete_timer(Timer* t) noexcept {
  for (;;) {
    Processor* p = t->owner.load(std::memory_order_acquire);
    if (p == nullptr) return false;
    std::lock_guard lock(p->timers_mu);
    if (t->owner.load(std::memory_order_relaxed) != p) continue;  // moved meanwhile
    p->timers.remove(t);
    t->owner.store(nullptr, std::memory_order_relaxed);
    p->timer0_when.store(p->timers.empty() ? 0 : p->timers.top()->when, std::memory_order_seq_cst);
    return true;
  }
}

// Runs p's due timers. Callbacks run outside the lock, one at a time, so a
// callback may add or delete timers. Returns the next when (0: none).
std::int64_t Scheduler::run_timers(Processor* p, std::int64_t now) {
  for (;;) {
    Timer* due = nullptr;
    std::int64_t fired_when = 0;
    std::int64_t next = 0;
    {
      std::unique_lock lock(p->timers_mu, std::try_to_lock);
      if (!lock.owns_lock()) return p->timer0_when.load(std::memory_order_relaxed);
      if (!p->timers.empty() && p->timers.top()->when <= now) {
        due = p->timers.pop();
        fired_when = due->when;
        due->inflight.fetch_add(1, std::memory_order_relaxed);
        if (due->period > 0) {
          // Tickers: the next deadline follows the schedule, skipping missed
          // periods like Go's runtimer does. owner stays p throughout: a
          // delete_timer reading it without the lock must never see a
          // transient null (it would think the ticker out of every heap, and
          // a re-arm would then put it in a second heap).
          std::int64_t missed = (now - due->when) / due->period + 1;
          due->when = deadline_after(due->when, missed * due->period);
          p->timers.push(due);
        } else {
          // Release: a stop/reset that sees null (delete_timer's acquire)
          // may rewrite when/period, which this section has read.
          due->owner.store(nullptr, std::memory_order_release);
        }
      }
      next = p->timers.empty() ? 0 : p->timers.top()->when;
      p->timer0_when.store(next, std::memory_order_seq_cst);
    }
    if (due == nullptr) return next;
    due->fn(due, due->arg, fired_when);  // may free due: not touched after
  }
}

std::int64_t Scheduler::earliest_timer() const noexcept {
  std::int64_t earliest = INT64_MAX;
  int created = nprocs_.load(std::memory_order_acquire);
  for (int i = 0; i < created; ++i) {
    std::int64_t w = procs_[i]->timer0_when.load(std::memory_order_seq_cst);
    if (w != 0 && w < earliest) earliest = w;
  }
  return earliest;
}

void Scheduler::kick_timer_thread(std::int64_t when) {
  if (when >= timer_thread_wakes_at_.load(std::memory_order_seq_cst)) return;
  timer_kick_.store(1, std::memory_order_release);
  futex_wake(&timer_kick_);
}

void Scheduler::timer_thread_loop() {
  pthread_setname_np(pthread_self(), "goro-timers");
  register_runtime_thread();
  for (;;) {
    std::int64_t now = nanotime();
    bool recheck_due = deadlock_recheck_at_ != 0 && now >= deadlock_recheck_at_;
    if (deadlock_check_requested_.exchange(false, std::memory_order_acq_rel) || recheck_due) {
      deadlock_recheck_at_ = check_deadlock() ? nanotime() + kDeadlockRecheckNs : 0;
      now = nanotime();
    }
    int created = nprocs_.load(std::memory_order_acquire);
    for (int i = 0; i < created; ++i) {
      Processor* q = procs_[i];
      std::int64_t w = q->timer0_when.load(std::memory_order_acquire);
      if (w != 0 && w <= now) run_timers(q, now);
    }
    if (stacks_.scavenge_pending()) {
      if (next_scavenge_ == 0) next_scavenge_ = now + kScavengePeriodNs;
      if (now >= next_scavenge_) {
        stacks_.scavenge();
        next_scavenge_ = now + kScavengePeriodNs;
      }
    } else {
      next_scavenge_ = 0;
    }
    // Publish when we will wake, then look again: an add_timer racing with
    // us either sees the new wake time (and kicks) or we see its timer.
    std::int64_t earliest = earliest_timer();
    timer_thread_wakes_at_.store(earliest, std::memory_order_seq_cst);
    std::int64_t again = earliest_timer();
    if (again < earliest) continue;
    now = nanotime();
    if (earliest <= now) continue;
    std::int64_t wake_at = earliest;
    if (next_scavenge_ != 0 && next_scavenge_ < wake_at) wake_at = next_scavenge_;
    if (deadlock_recheck_at_ != 0 && deadlock_recheck_at_ < wake_at) wake_at = deadlock_recheck_at_;
    std::int64_t timeout = wake_at == INT64_MAX ? -1 : (wake_at > now ? wake_at - now : 0);
    futex_wait(&timer_kick_, 0, timeout);
    timer_kick_.store(0, std::memory_order_relaxed);
    timer_thread_wakes_at_.store(0, std::memory_order_seq_cst);  // awake: nobody needs to kick
  }
}

void add_timer(Timer* t) { Scheduler::get().add_timer(t); }
bool delete_timer(Timer* t) noexcept { return Scheduler::get().delete_timer(t); }

bool delete_timer_sync(Timer* t) noexcept {
  bool removed = Scheduler::get().delete_timer(t);
  while (t->inflight.load(std::memory_order_acquire) != 0) sched_yield();
  return removed;
}

}  // namespace goro::detail
