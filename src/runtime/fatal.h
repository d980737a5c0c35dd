// Dying like Go: panics from uncaught exceptions, fatal errors, and stack
// overflow detection. Every path prints Go's text and exits with status 2.
#pragma once

#include <string_view>

namespace goro::detail {

struct G;

// Prints "fatal error: <msg>", then (unless GOTRACEBACK=none) the calling
// goroutine's traceback if it is one, and every other goroutine's, as Go
// does for fatal errors; exits 2 (GOTRACEBACK=crash: aborts).
[[noreturn]] void fatal_error(std::string_view msg) noexcept;

// Like fatal_error, from any thread, with every goroutine's traceback in
// Go's order (main first, then by ID): the deadlock report.
[[noreturn]] void fatal_error_all_goroutines(std::string_view msg) noexcept;

// True once a thread started reporting a fatal failure.
bool dying() noexcept;

// Installs the terminate handler (uncaught exception in a goroutine becomes
// "panic: ...") and the handlers of SIGSEGV, SIGBUS, SIGFPE (stack overflow,
// runtime panics of goroutines), SIGABRT (abort inside a goroutine) and,
// unless GORO_SIGQUIT=0 or the program set its own, SIGQUIT (dump every
// goroutine, exit 2). Faults outside goroutines go to the handlers that were
// there before. Called once when the scheduler starts.
void install_crash_handlers();

// Gives the calling worker thread an alternate signal stack, so that a stack
// overflow can still be reported.
void install_signal_stack();

// Called on every switch away from g: dies with "fatal error: stack
// overflow" if g's stack ran past its end (unguarded stacks) or is about to.
void check_stack_canary(const G* g) noexcept;

// Flushes stdout if nobody holds its lock, so that a dying program keeps
// what it printed; never blocks.
void flush_stdout_nonblocking() noexcept;

}  // namespace goro::detail
