#include "runtime/fatal.h"

#include <cxxabi.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "debug/symbolizer.h"
#include "debug/traceback.h"
#include "goro/error.h"
#include "runtime/g.h"
#include "runtime/processor.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

constexpr std::size_t kSignalStackSize = std::size_t{256} << 10;
constexpr std::size_t kMaxCrashFrames = std::size_t{1} << 16;

std::terminate_handler g_previous_terminate = nullptr;
struct sigaction g_previous_segv;
struct sigaction g_previous_bus;
std::atomic<bool> g_dying{false};
// Frames of the crashing goroutine; static because a signal stack is small.
std::uintptr_t g_crash_pcs[kMaxCrashFrames];

[[noreturn]] void die() noexcept {
  flush_stdout_nonblocking();
  _exit(2);
}

// Only one thread reports; any other thread that crashes meanwhile waits to
// be killed by the reporter's exit.
void enter_dying() noexcept {
  if (g_dying.exchange(true)) {
    for (;;) pause();
  }
}

std::string exception_type_name() {
  std::type_info* t = abi::__cxa_current_exception_type();
  if (t == nullptr) return "unknown";
  int status = 0;
  char* name = abi::__cxa_demangle(t->name(), nullptr, nullptr, &status);
  std::string s = status == 0 && name != nullptr ? name : t->name();
  std::free(name);
  return s;
}

// Go prints a panic value with its type as "(T) value" unless it is an
// error or a string; goro's own errors carry Go's message and print bare.
std::string describe_current_exception() {
  std::exception_ptr e = std::current_exception();
  if (!e) return "std::terminate called without an active exception";
  try {
    std::rethrow_exception(e);
  } catch (const goro::Error& err) {
    return err.what();
  } catch (const std::exception& ex) {
    return "(" + exception_type_name() + ") " + ex.what();
  } catch (const char* s) {
    return s;
  } catch (const std::string& s) {
    return s;
  } catch (...) {
    return "(" + exception_type_name() + ")";
  }
}

// Index of the first frame below the handler and the C++ runtime's
// throw/terminate machinery (scanning from the top: the bottom of the stack
// has goro's own frames too, which append_frames hides anyway).
std::size_t first_user_frame(const std::uintptr_t* pcs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& f = symbolize(pcs[i], true).back().function;
    bool machinery = f.empty() || is_runtime_frame(f) || f.rfind("__cxa_", 0) == 0 ||
                     f.rfind("__cxxabiv1::", 0) == 0 || f.rfind("std::terminate", 0) == 0 ||
                     f.rfind("_Unwind_", 0) == 0 || f.rfind("__gnu_cxx::", 0) == 0;
    if (!machinery) return i;
  }
  return 0;
}

void on_terminate() {
  G* g = current_g();
  if (g == nullptr) {
    // Not a goroutine: keep the C++ behaviour (message, abort).
    if (g_previous_terminate != nullptr) g_previous_terminate();
    std::abort();
  }
  enter_dying();
  std::string out = "panic: " + describe_current_exception() + "\n\n";
  std::size_t n = unwind_current_stack(g_crash_pcs, kMaxCrashFrames);
  std::size_t first = first_user_frame(g_crash_pcs, n);
  append_goroutine_header(out, *g, "running");
  append_frames(out, g_crash_pcs + first, n - first, false);
  append_created_by(out, *g);
  flush_stdout_nonblocking();
  write_all(2, out);
  die();
}

std::uintptr_t page_size() noexcept { return static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE)); }

[[noreturn]] void report_stack_overflow(const G* g, std::uintptr_t sp, std::uintptr_t pc,
                                        std::uintptr_t fp) noexcept {
  enter_dying();
  char head[256];
  std::size_t limit = g->stack_hi - g->stack_lo;
  std::snprintf(head, sizeof(head),
                "runtime: goroutine stack exceeds %zu-byte limit\n"
                "runtime: sp=0x%lx stack=[0x%lx, 0x%lx]\n"
                "fatal error: stack overflow\n\n",
                limit, static_cast<unsigned long>(sp), static_cast<unsigned long>(g->stack_lo),
                static_cast<unsigned long>(g->stack_hi));
  // Say the essential part before anything that might fail (symbolization
  // allocates, and an overflow can happen anywhere).
  write_all(2, head, std::strlen(head));
  std::size_t n = 0;
  if (pc != 0) g_crash_pcs[n++] = pc;
  n += walk_frame_pointers(fp, g->stack_lo > 4096 ? g->stack_lo - 4096 : 0, g->stack_hi, g_crash_pcs + n,
                           kMaxCrashFrames - n);
  std::string out;
  append_goroutine_header(out, *g, "running");
  append_frames(out, g_crash_pcs, n, pc != 0);
  append_created_by(out, *g);
  write_all(2, out);
  die();
}

void chain_signal(const struct sigaction& prev, int sig, siginfo_t* info, void* uctx) {
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting instruction runs
  // again and the kernel delivers the default action (core dump).
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  Processor* p = current_processor();
  G* g = p != nullptr ? p->current.load(std::memory_order_relaxed) : nullptr;
  if (g != nullptr) {
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
    auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    // The stack pointer never leaves a goroutine's stack legitimately, so sp
    // below it is an overflow, however far it ran (an unguarded stack runs
    // through the slot below before it faults). A fault just below the
    // stack is one too: the guard page, ours or the arena's leading one.
    bool sp_below = sp < g->stack_lo && g->stack_lo - sp < (std::uintptr_t{1} << 30);
    bool near_bottom = addr < g->stack_lo && addr + 2 * page_size() >= g->stack_lo;
    if (sp_below || near_bottom) report_stack_overflow(g, sp, pc, fp);
  }
  chain_signal(sig == SIGBUS ? g_previous_bus : g_previous_segv, sig, info, uctx);
}

}  // namespace

void flush_stdout_nonblocking() noexcept {
  if (ftrylockfile(stdout) == 0) {
    fflush_unlocked(stdout);
    funlockfile(stdout);
  }
}

void fatal_error(std::string_view msg) noexcept {
  enter_dying();
  std::string out = "fatal error: ";
  out.append(msg);
  out += "\n";
  if (G* g = current_g()) {
    out += "\n";
    std::size_t n = unwind_current_stack(g_crash_pcs, kMaxCrashFrames);
    append_goroutine_header(out, *g, "running");
    append_frames(out, g_crash_pcs, n, false);
    append_created_by(out, *g);
  }
  flush_stdout_nonblocking();
  write_all(2, out);
  die();
}

void install_crash_handlers() {
  g_previous_terminate = std::set_terminate(on_terminate);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous_segv);
  sigaction(SIGBUS, &sa, &g_previous_bus);
}

void install_signal_stack() {
  void* mem = mmap(nullptr, kSignalStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (mem == MAP_FAILED) return;  // overflows will then be reported by the kernel
  stack_t ss;
  ss.ss_sp = mem;
  ss.ss_size = kSignalStackSize;
  ss.ss_flags = 0;
  sigaltstack(&ss, nullptr);
}

void check_stack_canary(const G* g) noexcept {
  auto sp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  bool past_end = sp < g->stack_lo;
  bool clobbered = g->canary_below != nullptr && *g->canary_below != kStackCanary && *g->canary_below != 0;
  if (__builtin_expect(past_end || clobbered, 0)) {
    report_stack_overflow(g, sp, 0, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
  }
}

}  // namespace goro::detail
