// Goroutines: goro::run, goro::go, goro::yield and friends.
//
//   #include <goro/goro.h>
//
//   int main() {
//     return goro::run([] {                  // the main goroutine (ID 1)
//       goro::WaitGroup wg;
//       for (int i = 0; i < 1000; ++i) {
//         wg.add(1);
//         goro::go([&wg, i] {                // "created by main in goroutine 1"
//           goro::sleep(std::chrono::milliseconds(i % 10));
//           wg.done();
//         });
//       }
//       wg.wait();
//       return 0;                            // goro::run's result
//     });
//   }
//
// Goroutines run on GORO_MAXPROCS worker threads (default: the CPUs this
// process may use), are scheduled cooperatively (they switch when they block,
// sleep or yield) and start with a 256 KiB lazily committed stack
// (GORO_STACK_SIZE). A goroutine that computes for a long time without
// blocking keeps its worker; the other workers steal its queued goroutines.
//
// Which calls need a goroutine: none. go(), num_goroutine(), maxprocs() and
// set_maxprocs() work everywhere; yield() and sleep() on a plain thread yield
// or sleep that thread; blocking primitives (WaitGroup, channels, ...) block
// the calling thread when it is not a goroutine.
//
// thread_local variables seen from a goroutine belong to whatever worker
// thread runs it at that moment, which can change at every blocking call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace goro {

namespace detail {
struct G;

struct NewGoroutine {
  G* g;
  void* closure;  // where to construct the callable (inside the stack slot, or heap)
};
// Allocates a goroutine and room for its callable.
NewGoroutine new_goroutine(std::size_t size, std::size_t align);
// Undoes new_goroutine when constructing the callable threw.
void discard_goroutine(G* g) noexcept;
// Makes the goroutine runnable. Records the caller's return address as the
// creation site, so go() must inline into its caller.
void start_goroutine(G* g, void (*invoke)(void*), void (*destroy)(void*));
// Runs g as the main goroutine and blocks until it returns.
void run_main(G* g, void (*invoke)(void*), void (*destroy)(void*));

template <class Fn>
void invoke_closure(void* p) {
  std::invoke(*static_cast<Fn*>(p));
}
template <class Fn>
void destroy_closure(void* p) {
  static_cast<Fn*>(p)->~Fn();
}

template <class Fn>
NewGoroutine construct_goroutine(Fn&& fn) {
  using F = std::decay_t<Fn>;
  NewGoroutine ng = new_goroutine(sizeof(F), alignof(F));
  try {
    ::new (ng.closure) F(std::forward<Fn>(fn));
  } catch (...) {
    discard_goroutine(ng.g);
    throw;
  }
  return ng;
}
}  // namespace detail

// Starts fn (any callable taking no arguments; move-only captures are fine)
// in a new goroutine, like Go's `go fn()`. Never blocks. The callable is
// moved (or copied) into the goroutine and destroyed there when it returns;
// its return value is discarded. An exception escaping fn ends the process
// with "panic: ..." and exit status 2, like an unrecovered Go panic.
// Throws std::bad_alloc when memory for the goroutine cannot be had.
template <class F>
[[gnu::always_inline]] inline void go(F&& fn) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "goro::go needs a callable taking no arguments");
  detail::NewGoroutine ng = detail::construct_goroutine(std::forward<F>(fn));
  detail::start_goroutine(ng.g, &detail::invoke_closure<Fn>, &detail::destroy_closure<Fn>);
  // Keeps the call above from becoming a tail jump when go() ends its
  // caller: the return address it records must lie in the caller.
  asm volatile("" ::: "memory");
}

// Runs fn as the main goroutine on the scheduler and blocks the calling
// thread until fn returns; returns fn's result (an int, or 0 for void).
// The first main goroutine of the process has ID 1. Goroutines still alive
// when fn returns are abandoned, as at the end of a Go program: they keep
// their state, and once the process starts exiting no goroutine is started
// or resumed any more.
// Throws std::logic_error when called from a goroutine or while another
// run() is in progress.
template <class F>
int run(F&& fn) {
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<R> || std::is_convertible_v<R, int>,
                "goro::run's function must return void or something convertible to int");
  int code = 0;
  auto body = [&fn, &code] {
    if constexpr (std::is_void_v<R>) {
      (void)code;
      std::invoke(fn);
    } else {
      code = static_cast<int>(std::invoke(fn));
    }
  };
  using Body = decltype(body);
  detail::NewGoroutine ng = detail::construct_goroutine(std::move(body));
  detail::run_main(ng.g, &detail::invoke_closure<Body>, &detail::destroy_closure<Body>);
  return code;
}

// Lets other goroutines run (Go's runtime.Gosched): the caller goes to the
// back of the global run queue. On a plain thread: std::this_thread::yield().
void yield();

// The calling goroutine's ID (main is 1; IDs are never reused), or 0 when
// called off a goroutine. O(1).
std::uint64_t id() noexcept;

// True when called from a goroutine.
bool in_goroutine() noexcept;

// Number of goroutines that exist (started and not yet finished), like
// runtime.NumGoroutine. A sample: it may be stale by the time it returns.
std::int64_t num_goroutine() noexcept;

// The number of worker threads running goroutines (GOMAXPROCS).
int maxprocs() noexcept;

// Sets the number of worker threads and returns the previous setting, like
// runtime.GOMAXPROCS(n); n < 1 only queries. Values above 256 are clamped.
// Workers beyond the new count finish their current goroutine, hand their
// queues to the others and sleep until the count grows again.
int set_maxprocs(int n);

// Sets the stack size of goroutines (bytes, rounded up to pages; 16 KiB to
// 1 GiB). Only before the first goroutine starts: afterwards throws
// std::logic_error. Throws std::invalid_argument when out of range.
void set_stack_size(std::size_t bytes);

// The current goroutine stack size in bytes.
std::size_t stack_size() noexcept;

}  // namespace goro
