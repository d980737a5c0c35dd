// Goroutine lifecycle: creation (go), the entry function, exit, and the
// main goroutine (run). Also the small public calls of go.h.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "goro/go.h"
#include "goro/time.h"

#include "debug/labels.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/sanitizer.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

// Callables up to this size live in the goroutine's own stack slot (no heap
// allocation per go()); bigger ones are heap-allocated.
constexpr std::size_t kMaxInlineClosure = 1024;
// Per-Processor free-slot cache bounds (Go's gFree: 64, moved in halves).
// IDs reserved per Processor at a time (Go's _GoidCacheBatch).
constexpr std::uint64_t kGoidBatch = 16;
// Stale ASan poisoning a recycled slot can carry sits in the frames that
// were live when its previous goroutine exited, right below the closure.
constexpr std::size_t kAsanUnpoisonBytes = 16 << 10;

// run(): one main goroutine at a time; its exit is signalled here.
std::atomic<bool> g_run_active{false};
std::atomic<std::uint32_t> g_main_done{0};
// The thread blocked in run() while its main goroutine lives, else 0.
std::atomic<int> g_run_caller_tid{0};

void goroutine_main(void* arg) {
  G* g = static_cast<G*>(arg);
  Processor* p = current_processor();
  if (p->handoff_from == nullptr) {
    // Started by the schedule loop (the usual case): only the sanitizer's
    // half of the switch is left. Kept inline rather than calling
    // finish_switch_in(g, true), which does the same: that call measured
    // 30-90 ns more per spawn (probably the deeper first frames reaching
    // past the G's page of a fresh stack).
    asan_finish_switch(nullptr, &p->g0_stack_bottom, &p->g0_stack_size);
  } else {
    finish_switch_in(g, /*first_run=*/true);  // a parking goroutine handed off to us
  }
  // No try/catch here on purpose: an exception that escapes the closure
  // finds no handler before the entry trampoline, so std::terminate runs
  // with the throwing frames still on the stack and the panic traceback
  // shows where it was thrown.
  g->invoke(g->closure);
  g->destroy(g->closure);
  if (g->closure_on_heap) ::operator delete(g->closure, std::align_val_t{g->closure_align});
  exit_current();
}

}  // namespace

G* Scheduler::alloc_g(Processor* p) {
  if (p == nullptr) {
    G* g = nullptr;
    stacks_.take(&g, 1);
    return g;
  }
  if (p->ngfree == 0) {
    stacks_.take(p->gfree, Processor::kGfreeBatch);
    // take() hands out the warmest slot first; ours pops from the back.
    std::reverse(p->gfree, p->gfree + Processor::kGfreeBatch);
    p->ngfree = Processor::kGfreeBatch;
  }
  return p->gfree[--p->ngfree];
}

std::uint64_t Scheduler::alloc_goid(Processor* p) {
  if (p == nullptr) return next_goid_.fetch_add(1, std::memory_order_relaxed);
  if (p->goid_next == p->goid_end) {
    p->goid_next = next_goid_.fetch_add(kGoidBatch, std::memory_order_relaxed);
    p->goid_end = p->goid_next + kGoidBatch;
  }
  return p->goid_next++;
}

void Scheduler::free_dead(Processor* p, G* g) {
  g->live_id.store(0, std::memory_order_relaxed);
  if (g->labels.load(std::memory_order_relaxed) != nullptr) {
    labels_release(g->labels.exchange(nullptr, std::memory_order_seq_cst));
  }
  g->status.store(GStatus::kDead, std::memory_order_release);
  tsan_destroy_fiber(g->tsan_fiber);
  g->tsan_fiber = nullptr;
  p->exited.store(p->exited.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  bool was_main = g->is_main;
  put_free(p, g);
  if (was_main) on_main_exit(g);
}

void Scheduler::put_free(Processor* p, G* g) {
  if (p->ngfree == Processor::kGfreeCap) {
    // The oldest half goes back to the pool; the warm half stays.
    stacks_.give(p->gfree, Processor::kGfreeBatch);
    std::copy(p->gfree + Processor::kGfreeBatch, p->gfree + Processor::kGfreeCap, p->gfree);
    p->ngfree -= Processor::kGfreeBatch;
  }
  p->gfree[p->ngfree++] = g;
}

void Scheduler::on_main_exit(G*) {
  g_run_caller_tid.store(0, std::memory_order_relaxed);
  g_main_done.store(1, std::memory_order_release);
  g_main_done.notify_all();
}

NewGoroutine new_goroutine(std::size_t size, std::size_t align) {
  Scheduler& s = Scheduler::get();
  G* g = s.alloc_g(current_processor());
  std::uintptr_t top = reinterpret_cast<std::uintptr_t>(g);
  asan_unpoison(reinterpret_cast<void*>(top - kAsanUnpoisonBytes), kAsanUnpoisonBytes + sizeof(G));
  g->status.store(GStatus::kIdle, std::memory_order_relaxed);
  g->wait_reason.store(WaitReason::kZero, std::memory_order_relaxed);
  g->is_main = false;
  void* closure;
  if (size <= kMaxInlineClosure && align <= 64) {
    closure = reinterpret_cast<void*>((top - size) & ~(std::uintptr_t{align < 16 ? 16 : align} - 1));
    g->closure_on_heap = false;
  } else {
    closure = ::operator new(size, std::align_val_t{align});
    g->closure_on_heap = true;
    g->closure_align = static_cast<std::uint32_t>(align);
  }
  g->closure = closure;
  return {g, closure};
}

void discard_goroutine(G* g) noexcept {
  if (g->closure_on_heap) ::operator delete(g->closure, std::align_val_t{g->closure_align});
  Processor* p = current_processor();
  g->live_id.store(0, std::memory_order_relaxed);
  g->status.store(GStatus::kDead, std::memory_order_release);
  if (p != nullptr) {
    Scheduler::get().put_free(p, g);
  } else {
    Scheduler::get().stacks().give(&g, 1);
  }
}

namespace {

void prepare_start(G* g, void (*invoke)(void*), void (*destroy)(void*), std::uintptr_t pc) {
  Scheduler& s = Scheduler::get();
  Processor* p = current_processor();
  G* creator = p != nullptr ? p->current.load(std::memory_order_relaxed) : nullptr;
  g->id = s.alloc_goid(p);
  g->live_id.store(g->id, std::memory_order_relaxed);
  g->creator_id = creator != nullptr ? creator->id : 0;
  g->create_pc = pc;
  g->labels.store(labels_for_new_goroutine(), std::memory_order_relaxed);
  g->invoke = invoke;
  g->destroy = destroy;
  std::uintptr_t top = g->closure_on_heap ? reinterpret_cast<std::uintptr_t>(g)
                                          : reinterpret_cast<std::uintptr_t>(g->closure);
  g->sp = make_initial_context(reinterpret_cast<void*>(top), &goroutine_main);
  g->tsan_fiber = tsan_create_fiber();
  g->asan_fake_stack = nullptr;
}

}  // namespace

[[gnu::noinline]] void start_goroutine(G* g, void (*invoke)(void*), void (*destroy)(void*)) {
  prepare_start(g, invoke, destroy, reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
  Scheduler::get().publish_new(current_processor(), g);
}

void run_main(G* g, void (*invoke)(void*), void (*destroy)(void*)) {
  if (current_g() != nullptr) {
    discard_goroutine(g);
    throw std::logic_error("goro::run called from a goroutine (start goroutines with goro::go)");
  }
  if (g_run_active.exchange(true, std::memory_order_acq_rel)) {
    discard_goroutine(g);
    throw std::logic_error("goro::run called while another goro::run is in progress");
  }
  prepare_start(g, invoke, destroy, 0);
  g->is_main = true;
  g_main_done.store(0, std::memory_order_relaxed);
  g_run_caller_tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  Scheduler::get().publish_new(nullptr, g);
  while (g_main_done.load(std::memory_order_acquire) == 0) g_main_done.wait(0, std::memory_order_acquire);
  g_run_active.store(false, std::memory_order_release);
}

int run_caller_tid() noexcept { return g_run_caller_tid.load(std::memory_order_relaxed); }

// --- sleep -------------------------------------------------------------------

namespace {

void sleep_timer_fired(Timer* t, void* arg, std::int64_t) {
  t->inflight.fetch_sub(1, std::memory_order_release);  // before g can re-arm it
  Scheduler::get().ready(static_cast<G*>(arg));
}

bool arm_sleep_timer(G* g, void*) {
  Scheduler::get().add_timer(&g->sleep_timer);
  return true;
}

}  // namespace

void sleep_ns(std::int64_t ns) {
  if (ns <= 0) return;
  G* g = current_g();
  if (g == nullptr) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
    return;
  }
  g->sleep_timer.when = deadline_after(nanotime(), ns);
  g->sleep_timer.period = 0;
  g->sleep_timer.fn = sleep_timer_fired;
  g->sleep_timer.arg = g;
  // The timer is armed by the worker after g is parked: it cannot fire
  // into a goroutine that is still running.
  park(WaitReason::kSleep, arm_sleep_timer, nullptr);
}

}  // namespace goro::detail

namespace goro {

void yield() {
  if (detail::current_g() == nullptr) {
    std::this_thread::yield();
    return;
  }
  detail::yield_current();
}

std::uint64_t id() noexcept {
  detail::G* g = detail::current_g();
  return g != nullptr ? g->id : 0;
}

bool in_goroutine() noexcept { return detail::current_g() != nullptr; }

std::int64_t num_goroutine() noexcept {
  detail::Scheduler* s = detail::Scheduler::get_if_started();
  return s != nullptr ? s->num_goroutine() : 0;
}

int maxprocs() noexcept {
  detail::Scheduler* s = detail::Scheduler::get_if_started();
  return s != nullptr ? s->maxprocs() : detail::runtime_config().maxprocs;
}

int set_maxprocs(int n) {
  detail::Scheduler* s = detail::Scheduler::get_if_started();
  if (s != nullptr) return s->set_maxprocs(n);
  int old = detail::runtime_config().maxprocs;
  if (n >= 1) detail::runtime_config().maxprocs = n > detail::kMaxProcs ? detail::kMaxProcs : n;
  return old;
}

void set_stack_size(std::size_t bytes) {
  if (detail::Scheduler::get_if_started() != nullptr) {
    throw std::logic_error("goro::set_stack_size called after goroutines started");
  }
  if (bytes < (std::size_t{16} << 10) || bytes > (std::size_t{1} << 30)) {
    throw std::invalid_argument("goro::set_stack_size: size must be between 16 KiB and 1 GiB");
  }
  detail::runtime_config().stack_size = detail::round_to_pages(bytes);
}

std::size_t stack_size() noexcept {
  detail::Scheduler* s = detail::Scheduler::get_if_started();
  return s != nullptr ? s->stacks().slot_size() : detail::runtime_config().stack_size;
}

}  // namespace goro
