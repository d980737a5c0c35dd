// Per-goroutine C++ exception state.
//
// The C++ ABI keeps the exceptions being handled in thread-local
// "eh globals": the stack of caught exceptions (what `throw;` and
// std::current_exception() use) and the count behind
// std::uncaught_exceptions(). Goroutines migrate between threads and share
// them with other goroutines, so a goroutine that blocks inside a catch block
// (or in a destructor running during unwinding) would otherwise resume with
// another goroutine's exceptions, or hand its own to whoever runs next on the
// thread — `throw;` would rethrow the wrong exception or call terminate.
//
// The fix is the one fiber libraries use (folly fibers, boost.context
// users): on every switch out of a goroutine, move the thread's eh globals
// into the G and leave the thread clean; on the switch back in, move them
// back. Invariant: while no goroutine runs on a worker, the worker's eh
// globals are empty.
#pragma once

#include <cstring>

namespace goro::detail {

// The Itanium C++ ABI's __cxa_eh_globals, as libstdc++ and libc++ lay it
// out on the targets goro supports (x86-64, aarch64: no ARM EHABI field).
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

}  // namespace goro::detail

namespace __cxxabiv1 {
struct __cxa_eh_globals;
extern "C" __cxa_eh_globals* __cxa_get_globals() noexcept;
}  // namespace __cxxabiv1

namespace goro::detail {

// The calling thread's eh globals. A call into the C++ runtime's TLS, so
// workers look theirs up once (Processor::eh_globals).
inline EhGlobals* thread_eh_globals() noexcept {
  return reinterpret_cast<EhGlobals*>(__cxxabiv1::__cxa_get_globals());
}

class ExceptionState {
 public:
  // On the goroutine, before it leaves the thread whose globals are t.
  void take_from_thread(EhGlobals* t) noexcept {
    saved_ = *t;
    *t = EhGlobals{};
  }

  // On the goroutine, once it runs again on the thread whose globals are t
  // (perhaps another thread).
  void give_to_thread(EhGlobals* t) noexcept {
    *t = saved_;
    saved_ = EhGlobals{};
  }

 private:
  EhGlobals saved_{};
};

}  // namespace goro::detail
