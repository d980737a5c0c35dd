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
#include <thread>

#include "debug/capture.h"
#include "debug/goroutine_text.h"
#include "debug/symbolizer.h"
#include "debug/traceback.h"
#include "runtime/config.h"
#include "runtime/futex.h"
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
struct sigaction g_previous_fpe;
struct sigaction g_previous_abrt;
std::atomic<bool> g_dying{false};

// SIGQUIT: the handler records where it landed and wakes the reporter
// thread, which prints (printing allocates and symbolizes, which a handler
// must not do while the thread it interrupted may hold the malloc lock).
std::atomic<std::uint32_t> g_sigquit_word{0};
std::uintptr_t g_sigquit_pc = 0;
int g_sigquit_m = 0;
int g_sigquit_code = 0;
// Frames of the crashing goroutine; static because a signal stack is small.
std::uintptr_t g_crash_pcs[kMaxCrashFrames];

TracebackLevel traceback_level() noexcept { return runtime_config().traceback.load(std::memory_order_relaxed); }

// Exit status 2, like Go; GOTRACEBACK=crash aborts instead (for a core).
[[noreturn]] void die() noexcept {
  flush_stdout_nonblocking();
  if (traceback_level() == TracebackLevel::kCrash) {
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  _exit(2);
}

// Go's tracebackothers: every goroutine but `skip_id`, each after a blank
// line. Captured now, from whatever thread is dying.
void print_other_goroutines(std::uint64_t skip_id) {
  RawSnapshot snap = capture_goroutines();
  write_goroutines_text(snap, [](std::string_view s) { write_all(2, s.data(), s.size()); }, skip_id, true);
}

// Prints the failing goroutine's traceback (when the level allows) and, for
// fatal errors or GOTRACEBACK=all, every other goroutine's.
void print_tracebacks(const G* g, const std::string& own, bool fatal) {
  TracebackLevel level = traceback_level();
  if (level == TracebackLevel::kNone) return;
  if (g != nullptr) write_all(2, own);
  if (fatal || level >= TracebackLevel::kAll) print_other_goroutines(g != nullptr ? g->id : 0);
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
bool is_throw_machinery(const std::string& f) {
  return f.empty() || is_runtime_frame(f) || f.rfind("__cxa_", 0) == 0 || f.rfind("__cxxabiv1::", 0) == 0 ||
         f.rfind("std::terminate", 0) == 0 || f.rfind("_Unwind_", 0) == 0 || f.rfind("__gnu_cxx::", 0) == 0;
}

// Index of the first pc with a frame (physical or inlined: the user's
// function is often inlined into goro's entry thunk) that is not the
// handler's or the C++ runtime's.
std::size_t first_user_frame(const std::uintptr_t* pcs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    for (const SymbolFrame& f : symbolize(pcs[i], true)) {
      if (!is_throw_machinery(f.function)) return i;
    }
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
  std::string head = "panic: " + describe_current_exception() + "\n";
  std::string own = "\n";
  std::size_t n = unwind_current_stack(g_crash_pcs, kMaxCrashFrames);
  std::size_t first = first_user_frame(g_crash_pcs, n);
  append_goroutine_header(own, *g, "running");
  append_frames(own, g_crash_pcs + first, n - first, false);
  append_created_by(own, *g);
  flush_stdout_nonblocking();
  write_all(2, head);
  print_tracebacks(g, own, /*fatal=*/false);
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
  std::string own;
  append_goroutine_header(own, *g, "running");
  append_frames(own, g_crash_pcs, n, pc != 0);
  append_created_by(own, *g);
  // Only this goroutine: an overflow of an unguarded stack has run over the
  // records of the goroutines below it, which a dump of all would read.
  if (traceback_level() != TracebackLevel::kNone) write_all(2, own);
  die();
}

struct FaultContext {
  std::uintptr_t sp, pc, fp;
};

FaultContext fault_context(void* uctx) noexcept {
  auto* uc = static_cast<ucontext_t*>(uctx);
#if defined(__x86_64__)
  return {static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]),
          static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]),
          static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RBP])};
#elif defined(__aarch64__)
  return {uc->uc_mcontext.sp, uc->uc_mcontext.pc, uc->uc_mcontext.regs[29]};
#endif
}

const char* signal_name(int sig) noexcept {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV: segmentation violation";
    case SIGBUS: return "SIGBUS: bus error";
    case SIGFPE: return "SIGFPE: floating-point exception";
    case SIGABRT: return "SIGABRT: abort";
    case SIGQUIT: return "SIGQUIT: quit";
  }
  return "signal";
}

// The frames of g interrupted at ctx, from the handler running on g's
// worker: DWARF unwinding from here crosses the signal frame (the C
// library describes it) and goes on through code without frame pointers,
// such as abort() and raise() inside libc; the frame whose pc is the
// interrupted one starts g's part. Without it (no unwind information), the
// frame-pointer chain from ctx. Returns the count; pcs[0] is ctx.pc.
std::size_t interrupted_frames(const G* g, const FaultContext& ctx) {
  std::size_t n = unwind_current_stack(g_crash_pcs, kMaxCrashFrames);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_crash_pcs[i] != ctx.pc) continue;
    std::memmove(g_crash_pcs, g_crash_pcs + i, (n - i) * sizeof(g_crash_pcs[0]));
    return n - i;
  }
  n = 0;
  g_crash_pcs[n++] = ctx.pc;
  n += walk_frame_pointers(ctx.fp, g->stack_lo, g->stack_hi, g_crash_pcs + n, kMaxCrashFrames - n);
  if (ctx.sp >= g->stack_lo && ctx.sp + sizeof(std::uintptr_t) <= g->stack_hi) {
    n = add_leaf_caller(g_crash_pcs, n, kMaxCrashFrames, *reinterpret_cast<const std::uintptr_t*>(ctx.sp));
  }
  return n;
}

// The traceback of g interrupted at ctx (a fault inside the goroutine).
std::string interrupted_traceback(const G* g, const FaultContext& ctx) {
  std::size_t n = interrupted_frames(g, ctx);
  std::string own = "\n";
  append_goroutine_header(own, *g, "running");
  append_frames(own, g_crash_pcs, n, /*first_is_pc=*/true);
  append_created_by(own, *g);
  return own;
}

// Go prints a signal's code as an unsigned 64-bit number (sigcode=
// 18446744073709551610 for a tkill's -6).
unsigned long go_sigcode(int code) noexcept { return static_cast<unsigned long>(static_cast<long>(code)); }

// A synchronous fault inside a goroutine becomes Go's runtime panic (or
// "fatal error: fault" for a wild address), with Go's "[signal ...]" line.
[[noreturn]] void report_fault(const G* g, int sig, const siginfo_t* info, const FaultContext& ctx) {
  enter_dying();
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  std::string head;
  bool fatal = false;
  char line[160];
  if (sig == SIGFPE) {
    head = info->si_code == FPE_INTDIV   ? "panic: runtime error: integer divide by zero\n"
           : info->si_code == FPE_INTOVF ? "panic: runtime error: integer overflow\n"
                                         : "panic: runtime error: floating point error\n";
  } else if (addr < 0x1000) {
    head = "panic: runtime error: invalid memory address or nil pointer dereference\n";
  } else {
    std::snprintf(line, sizeof(line), "unexpected fault address 0x%lx\nfatal error: fault\n",
                  static_cast<unsigned long>(addr));
    head = line;
    fatal = true;
  }
  // Go's hex() always has the 0x, zero included (printf's %#x drops it).
  std::snprintf(line, sizeof(line), "[signal %s code=0x%x addr=0x%lx pc=0x%lx]\n", signal_name(sig),
                static_cast<unsigned>(info->si_code), static_cast<unsigned long>(addr),
                static_cast<unsigned long>(ctx.pc));
  head += line;
  flush_stdout_nonblocking();
  write_all(2, head);
  print_tracebacks(g, interrupted_traceback(g, ctx), fatal);
  die();
}

// abort() inside a goroutine (an assert, a library's own abort): Go's
// report for a fatal signal, with every goroutine.
[[noreturn]] void report_abort(const G* g, Processor* p, int sig, const siginfo_t* info, const FaultContext& ctx) {
  enter_dying();
  char head[160];
  std::snprintf(head, sizeof(head), "%s\nPC=0x%lx m=%d sigcode=%lu\n", signal_name(sig),
                static_cast<unsigned long>(ctx.pc), p->id, go_sigcode(info->si_code));
  flush_stdout_nonblocking();
  write_all(2, head, std::strlen(head));
  print_tracebacks(g, interrupted_traceback(g, ctx), /*fatal=*/true);
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

const struct sigaction& previous_action(int sig) {
  switch (sig) {
    case SIGBUS: return g_previous_bus;
    case SIGFPE: return g_previous_fpe;
    case SIGABRT: return g_previous_abrt;
    default: return g_previous_segv;
  }
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  Processor* p = current_processor();
  G* g = p != nullptr ? p->current.load(std::memory_order_relaxed) : nullptr;
  if (g != nullptr) {
    FaultContext ctx = fault_context(uctx);
    // Only faults of code running on the goroutine's stack are the
    // goroutine's (the worker's scheduler code runs on its own stack).
    bool on_stack = ctx.sp >= g->stack_lo && ctx.sp < g->stack_hi;
    if (sig == SIGSEGV || sig == SIGBUS) {
      auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
      // The stack pointer never leaves a goroutine's stack legitimately, so
      // sp below it is an overflow, however far it ran (an unguarded stack
      // runs through the slot below before it faults). A fault just below
      // the stack is one too: the guard page, ours or the arena's leading one.
      bool sp_below = ctx.sp < g->stack_lo && g->stack_lo - ctx.sp < (std::uintptr_t{1} << 30);
      bool near_bottom = addr < g->stack_lo && addr + 2 * page_size() >= g->stack_lo;
      if (sp_below || near_bottom) report_stack_overflow(g, ctx.sp, ctx.pc, ctx.fp);
    }
    if (on_stack && !g_dying.load(std::memory_order_relaxed)) {
      if (sig == SIGABRT) report_abort(g, p, sig, info, ctx);
      // Only faults the hardware raised: a SIGSEGV sent with kill() is not
      // the goroutine's doing.
      if (info->si_code > 0) report_fault(g, sig, info, ctx);
    }
  }
  chain_signal(previous_action(sig), sig, info, uctx);
}

void on_sigquit(int, siginfo_t* info, void* uctx) {
  if (g_sigquit_word.load(std::memory_order_relaxed) != 0) return;
  Processor* p = current_processor();
  g_sigquit_pc = fault_context(uctx).pc;
  g_sigquit_m = p != nullptr ? p->id : 0;
  g_sigquit_code = info->si_code;
  g_sigquit_word.store(1, std::memory_order_release);
  futex_wake(&g_sigquit_word);
}

// Waits for SIGQUIT and prints like Go: the signal, where it landed, every
// goroutine; then exit status 2.
std::atomic<bool> g_sigquit_reporter_ready{false};

[[noreturn]] void sigquit_reporter() {
  pthread_setname_np(pthread_self(), "goro-sigquit");
  register_runtime_thread();
  g_sigquit_reporter_ready.store(true, std::memory_order_release);
  while (g_sigquit_word.load(std::memory_order_acquire) == 0) futex_wait(&g_sigquit_word, 0);
  enter_dying();
  char head[160];
  std::snprintf(head, sizeof(head), "SIGQUIT: quit\nPC=0x%lx m=%d sigcode=%lu\n",
                static_cast<unsigned long>(g_sigquit_pc), g_sigquit_m, go_sigcode(g_sigquit_code));
  flush_stdout_nonblocking();
  write_all(2, head, std::strlen(head));
  if (traceback_level() != TracebackLevel::kNone) print_other_goroutines(0);
  die();
}

void install_sigquit() {
  struct sigaction current;
  if (sigaction(SIGQUIT, nullptr, &current) != 0) return;
  bool is_default = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
  if (!is_default) return;  // the program handles SIGQUIT itself
  std::thread(sigquit_reporter).detach();
  // Registered before anything can see it: a deadlock check that found an
  // unknown thread would give up.
  while (!g_sigquit_reporter_ready.load(std::memory_order_acquire)) std::this_thread::yield();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sigquit;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGQUIT, &sa, nullptr);
}

}  // namespace

void flush_stdout_nonblocking() noexcept {
  if (ftrylockfile(stdout) == 0) {
    fflush_unlocked(stdout);
    funlockfile(stdout);
  }
}

bool dying() noexcept { return g_dying.load(std::memory_order_relaxed); }

void fatal_error(std::string_view msg) noexcept {
  enter_dying();
  std::string head = "fatal error: ";
  head.append(msg);
  head += "\n";
  std::string own;
  G* g = current_g();
  if (g != nullptr) {
    own = "\n";
    std::size_t n = unwind_current_stack(g_crash_pcs, kMaxCrashFrames);
    append_goroutine_header(own, *g, "running");
    append_frames(own, g_crash_pcs, n, false);
    append_created_by(own, *g);
  }
  flush_stdout_nonblocking();
  write_all(2, head);
  print_tracebacks(g, own, /*fatal=*/true);
  die();
}

void fatal_error_all_goroutines(std::string_view msg) noexcept {
  enter_dying();
  std::string head = "fatal error: ";
  head.append(msg);
  head += "\n";
  flush_stdout_nonblocking();
  write_all(2, head);
  if (traceback_level() != TracebackLevel::kNone) print_other_goroutines(0);
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
  sigaction(SIGFPE, &sa, &g_previous_fpe);
  sigaction(SIGABRT, &sa, &g_previous_abrt);
  if (runtime_config().dump_on_sigquit) install_sigquit();
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
