// goro::Limiter: caps how many goroutines of one kind run at once. Go's
// channel-semaphore idiom
//
//   sem := make(chan struct{}, 8)
//   sem <- struct{}{}                              // wait for a slot
//   go func() { defer func() { <-sem }(); work() }()
//
// made safe by RAII: a slot is an object, released when it goes out of
// scope (also by an exception), so it cannot be leaked by an early return.
//
//   goro::Limiter limit(8);
//   for (auto& conn : conns) {
//     limit.go([&conn] { serve(conn); });          // waits while 8 are running
//   }
//
//   if (auto slot = limit.try_acquire()) {         // or hold a slot yourself
//     handle(request);                             // ...released at scope exit
//   } else {
//     reject(request);                             // load shedding
//   }
//
// Waiting for a slot parks a goroutine with Go's wait reason "semacquire"
// (a plain thread blocks). Waiters are served first come, first served.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/context.h"
#include "goro/go.h"
#include "goro/sync/semaphore.h"

namespace goro {

class Limiter {
 public:
  // A limiter with `max` slots. Throws goro::Error when max is 0 (nothing
  // could ever run) or larger than INT64_MAX.
  explicit Limiter(std::size_t max);
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Waits until every slot was released: slots, and the goroutines started
  // by go(), refer to the limiter. A goroutine waits with "semacquire".
  ~Limiter();

  // A held slot. Move-only; released by its destructor, by release(), or by
  // assigning another slot to it. Must not outlive its Limiter.
  class Slot {
   public:
    // An empty slot, holding nothing.
    Slot() noexcept = default;
    Slot(Slot&& o) noexcept : limiter_(std::exchange(o.limiter_, nullptr)) {}
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        release();
        limiter_ = std::exchange(o.limiter_, nullptr);
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

    // Gives the slot back now (a waiter may take it); afterwards the Slot is
    // empty. Idempotent. Never blocks.
    void release() noexcept;

    // Whether this holds a slot (false after release() or a move).
    bool held() const noexcept { return limiter_ != nullptr; }
    explicit operator bool() const noexcept { return held(); }

   private:
    friend class Limiter;
    explicit Slot(Limiter* l) noexcept : limiter_(l) {}
    Limiter* limiter_ = nullptr;
  };

  // Takes a slot, waiting until one is free ("semacquire"). Never fails.
  [[nodiscard]] Slot acquire();

  // Takes a slot if one is free and nobody is waiting; never blocks.
  [[nodiscard]] std::optional<Slot> try_acquire();

  // Takes a slot, waiting until one is free or ctx is done; nullopt when ctx
  // ended first (also when it had ended already, even if a slot was free).
  // ctx.err() tells why.
  [[nodiscard]] std::optional<Slot> acquire(const Context& ctx);

  // Waits for a slot (as acquire()), then runs fn (any callable taking no
  // arguments) in a new goroutine that holds the slot until fn returned and
  // fn (with its captures) was destroyed. go() is always inlined, so the
  // goroutine's recorded creation pc lies in its caller. If the goroutine
  // cannot be started (std::bad_alloc, or copying fn throws), the slot is
  // released and the exception propagates. An exception escaping fn ends
  // the process like any goroutine's ("panic: ..."), as in Go.
  template <class F>
  [[gnu::always_inline]] inline void go(F&& fn) {
    using Fn = std::decay_t<F>;
    check_callable<F>();
    // If anything below throws, the Task's (or the slot's) destructor
    // releases the slot.
    goro::go(Task<Fn>{acquire(), Fn(std::forward<F>(fn))});
  }

  // go() if a slot is free now (as try_acquire()); otherwise returns false
  // without starting fn. Never blocks.
  template <class F>
  [[gnu::always_inline]] inline bool try_go(F&& fn) {
    using Fn = std::decay_t<F>;
    check_callable<F>();
    if (!sem_.try_acquire()) return false;
    goro::go(Task<Fn>{Slot(this), Fn(std::forward<F>(fn))});
    return true;
  }

  // go() that gives up when ctx ends before a slot is free: returns
  // ctx.err() without starting fn (also when ctx had ended already), null
  // when fn was started.
  template <class F>
  [[gnu::always_inline]] inline std::exception_ptr go(const Context& ctx, F&& fn) {
    using Fn = std::decay_t<F>;
    check_callable<F>();
    if (std::exception_ptr err = sem_.acquire(ctx)) return err;
    goro::go(Task<Fn>{Slot(this), Fn(std::forward<F>(fn))});
    return nullptr;
  }

  // Slots held now (a sample).
  std::size_t active() const noexcept { return static_cast<std::size_t>(sem_.held()); }
  // The number of slots.
  std::size_t limit() const noexcept { return static_cast<std::size_t>(sem_.size()); }

 private:
  // The goroutine's callable. Members are destroyed in reverse order: fn
  // (and its captures) first, then the slot. If constructing fn throws, the
  // slot already constructed is destroyed, i.e. released; so is a Task that
  // goro::go could not start (std::bad_alloc). go() and try_go() call
  // goro::go themselves so that a traceback's "created by" line names them.
  template <class Fn>
  struct Task {
    Slot slot;
    Fn fn;
    void operator()() { fn(); }
  };

  template <class F>
  static void check_callable() {
    static_assert(std::is_invocable_v<std::decay_t<F>&>, "goro::Limiter::go: fn must be callable without arguments");
  }

  Semaphore sem_;
};

}  // namespace goro
