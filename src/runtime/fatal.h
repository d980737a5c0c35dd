// Dying like Go: panics from uncaught exceptions, fatal errors, and stack
// overflow detection. Every path prints Go's text and exits with status 2.
#pragma once

#include <string_view>

namespace goro::detail {

struct G;

// Prints "fatal error: <msg>" and, on a goroutine, its traceback; exits 2.
[[noreturn]] void fatal_error(std::string_view msg) noexcept;

// Installs the terminate handler (uncaught exception in a goroutine becomes
// "panic: ...") and the SIGSEGV/SIGBUS handler that recognises stack
// overflows. Called once when the scheduler starts.
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
