#include "debug/sampler.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "debug/traceback.h"
#include "runtime/clock.h"
#include "runtime/futex.h"
#include "runtime/processor.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

constexpr int kSampleSignal = SIGURG;

struct sigaction g_previous_action;
std::once_flag g_install_once;

void chain_to_previous(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction& prev = g_previous_action;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction != nullptr) prev.sa_sigaction(sig, info, uctx);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
  }
  // SIG_DFL for SIGURG is to ignore it.
}

// The goroutine's own stack: not instrumented (see walk_frame_pointers).
__attribute__((no_sanitize("address", "thread"))) std::uintptr_t read_stack_word(std::uintptr_t at) {
  return *reinterpret_cast<const volatile std::uintptr_t*>(at);
}

void on_sample_signal(int sig, siginfo_t* info, void* uctx) {
  int saved_errno = errno;
  Processor* p = current_processor();
  SampleRequest* req = p != nullptr ? p->sample_request.exchange(nullptr, std::memory_order_acq_rel) : nullptr;
  if (req == nullptr) {
    chain_to_previous(sig, info, uctx);
    errno = saved_errno;
    return;
  }
  auto* uc = static_cast<ucontext_t*>(uctx);
#if defined(__x86_64__)
  std::uintptr_t sp = uc->uc_mcontext.gregs[REG_RSP];
  std::uintptr_t pc = uc->uc_mcontext.gregs[REG_RIP];
  std::uintptr_t fp = uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
  std::uintptr_t sp = uc->uc_mcontext.sp;
  std::uintptr_t pc = uc->uc_mcontext.pc;
  std::uintptr_t fp = uc->uc_mcontext.regs[29];
#endif
  G* g = p->current.load(std::memory_order_relaxed);
  std::uint32_t answer = SampleRequest::kMissed;
  // Only when the interrupted code runs on the target's own stack: the
  // worker may be between goroutines, on its scheduler stack.
  if (g == req->target && sp >= g->stack_lo && sp < g->stack_hi) {
    req->pcs[0] = pc;
    req->n = 1 + walk_frame_pointers(fp, g->stack_lo, g->stack_hi, req->pcs + 1, kMaxSampledFrames - 1);
    req->word_at_sp = sp + sizeof(std::uintptr_t) <= g->stack_hi ? read_stack_word(sp) : 0;
    answer = SampleRequest::kSampled;
  }
  req->state.store(answer, std::memory_order_release);
  futex_wake(&req->state);
  errno = saved_errno;
}

void install_handler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sample_signal;
  // SA_RESTART: a goroutine blocked in a system call resumes it unaware.
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(kSampleSignal, &sa, &g_previous_action);
}

}  // namespace

std::size_t sample_running_goroutine(Processor* p, G* g, std::uintptr_t* out, std::size_t max,
                                     std::int64_t timeout_ns) {
  unsigned long thread = p->os_thread.load(std::memory_order_acquire);
  if (thread == 0) return 0;
  std::call_once(g_install_once, install_handler);
  SampleRequest req;
  req.target = g;
  SampleRequest* expected = nullptr;
  // One request per worker at a time (concurrent snapshots take turns).
  while (!p->sample_request.compare_exchange_weak(expected, &req, std::memory_order_acq_rel)) {
    expected = nullptr;
    sched_yield();
  }
  if (pthread_kill(static_cast<pthread_t>(thread), kSampleSignal) != 0) {
    SampleRequest* mine = &req;
    if (p->sample_request.compare_exchange_strong(mine, nullptr, std::memory_order_acq_rel)) return 0;
  }
  std::int64_t deadline = nanotime() + timeout_ns;
  for (;;) {
    std::uint32_t s = req.state.load(std::memory_order_acquire);
    if (s != SampleRequest::kPending) break;
    std::int64_t left = deadline - nanotime();
    if (left <= 0) {
      SampleRequest* mine = &req;
      if (p->sample_request.compare_exchange_strong(mine, nullptr, std::memory_order_acq_rel)) return 0;
      // The handler has it and is answering: wait without a limit.
      while (req.state.load(std::memory_order_acquire) == SampleRequest::kPending) {
        futex_wait(&req.state, SampleRequest::kPending, 1000000);
      }
      break;
    }
    futex_wait(&req.state, SampleRequest::kPending, left);
  }
  if (req.state.load(std::memory_order_acquire) != SampleRequest::kSampled) return 0;
  std::size_t n = std::min(req.n, max);
  std::copy(req.pcs, req.pcs + n, out);
  return add_leaf_caller(out, n, max, req.word_at_sp);
}

}  // namespace goro::detail
