// goro::Group, Go's golang.org/x/sync/errgroup: goroutines working on parts
// of one task, with the first error returned by wait() and, optionally, a
// context cancelled by it.
//
//   std::exception_ptr fetch_all(const goro::Context& parent, const std::vector<Url>& urls) {
//     auto [g, ctx] = goro::Group::with_context(parent);  // errgroup.WithContext
//     g.set_limit(8);                                       // at most 8 at once
//     for (const Url& u : urls) {
//       g.go([ctx = ctx, u] { fetch(ctx, u); });            // a throw is the error...
//     }
//     g.go([ctx = ctx]() -> std::exception_ptr {            // ...and so is a returned one
//       return check(ctx);
//     });
//     return g.wait();   // the first error (null if none); ctx is cancelled now
//   }
//
// As in errgroup:
//  - a zero Group (goro::Group g;) has no limit and no context;
//  - the first function to fail sets the group's error and cancels the
//    derived context at once, with that error as its cause (Go 1.20's
//    context.Cause); later errors are dropped;
//  - wait() waits for every function, then cancels the context (cause: the
//    first error, or goro::canceled() if none) and returns the first error;
//  - go() blocks while the limit is reached (the goroutine waits with Go's
//    wait reason "chan send", like errgroup's semaphore channel); try_go()
//    does not;
//  - a Group is for one task: do not reuse it after wait().
//
// Errors. A function passed to go() returns void, and its error is the
// exception it throws (caught with std::current_exception), or it returns
// std::exception_ptr (null: success), Go's `func() error`. Either way the
// exception never escapes the goroutine: it becomes the group's error.
//
// Lifetime: the goroutines refer to the Group, so ~Group() waits for them.
// When wait() was not called (say, the scope is left by an exception), the
// destructor first cancels the derived context (cause goro::canceled()), so
// that goroutines waiting on it end, and then waits; errors are dropped.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/chan.h"
#include "goro/context.h"
#include "goro/go.h"
#include "goro/sync/wait_group.h"

namespace goro {

struct GroupWithContext;

// A collection of goroutines working on subtasks of one task (errgroup.Group).
// Not copyable or movable: share it by reference. go(), try_go() and wait()
// may be called from any goroutine or thread, also from the group's own
// goroutines; set_limit() must not run concurrently with go()/try_go().
class Group {
 public:
  // A zero Group: no limit on active goroutines, no context to cancel.
  Group() noexcept = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // Waits for the group's goroutines (see the header comment). When a
  // derived context exists and wait() was not called, cancels it first.
  ~Group();

  // A new Group and a context derived from parent (errgroup.WithContext),
  // cancelled the first time a function fails or the first time wait()
  // returns, whichever comes first; cause(ctx) is then the first error (or
  // goro::canceled()). Use it as
  //   auto [g, ctx] = goro::Group::with_context(parent);
  // (the Group is built in place: it is neither copied nor moved).
  static GroupWithContext with_context(const Context& parent);

  // Runs fn in a new goroutine (errgroup's Go). Blocks while the limit's
  // number of the group's goroutines are active, waiting with wait reason
  // "chan send" (a plain thread blocks); a limit of 0 blocks forever. The
  // first fn to fail (throw, or return a non-null std::exception_ptr) sets
  // the group's error and cancels the derived context. go() is always
  // inlined, so the goroutine's recorded creation pc lies in its caller.
  // Throws std::bad_alloc (or what
  // copying fn throws) when the goroutine cannot be started; the group is
  // then unchanged.
  template <class F>
  [[gnu::always_inline]] inline void go(F&& fn) {
    check_callable<F>();
    Chan<Empty> sem = sem_;
    if (sem) sem.send(Empty{});
    wg_.add(1);
    try {
      goro::go(make_task(sem, std::forward<F>(fn)));
    } catch (...) {
      not_started(sem);
      throw;
    }
  }

  // Runs fn in a new goroutine only if that stays within the limit
  // (errgroup's TryGo); returns whether it started it. Never blocks.
  // Throws as go().
  template <class F>
  [[gnu::always_inline]] inline bool try_go(F&& fn) {
    check_callable<F>();
    Chan<Empty> sem = sem_;
    if (sem && !sem.try_send(Empty{})) return false;
    wg_.add(1);
    try {
      goro::go(make_task(sem, std::forward<F>(fn)));
    } catch (...) {
      not_started(sem);
      throw;
    }
    return true;
  }

  // Limits the number of active goroutines in the group to n (errgroup's
  // SetLimit); n < 0 removes the limit, n == 0 lets no goroutine start.
  // Only while no goroutine of the group counted by the current limit is
  // active: otherwise throws goro::Error("errgroup: modify limit while N
  // goroutines in the group are still active"), errgroup's panic, and the
  // limit stays. Never blocks.
  void set_limit(int n);

  // Blocks until every function passed to go()/try_go() returned (a
  // goroutine waits with "sync.WaitGroup.Wait"), then cancels the derived
  // context with the first error as its cause, and returns that error (null
  // when all succeeded). Never throws the error itself.
  std::exception_ptr wait();

 private:
  explicit Group(ScopedCancelCause cancel) noexcept;

  // What runs on the goroutine: fn, then errgroup's done() (return the
  // semaphore token, wg.Done). fn and its captures are destroyed before the
  // group learns that it finished, so nothing of fn outlives wait().
  template <class Fn>
  struct Task {
    Group* group;
    Chan<Empty> sem;  // the semaphore fn's token went into (null: no limit)
    std::optional<Fn> fn;

    void operator()() {
      std::exception_ptr err = call(*fn);
      fn.reset();
      if (err) group->record(std::move(err));
      if (sem) sem.recv();
      group->wg_.done();  // the group may be gone after this
    }
  };

  template <class F>
  static void check_callable() {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "goro::Group::go: fn must be callable without arguments");
    using R = std::invoke_result_t<Fn&>;
    static_assert(std::is_void_v<R> || std::is_same_v<std::remove_cvref_t<R>, std::exception_ptr>,
                  "goro::Group::go: fn must return void (errors are thrown) or std::exception_ptr (Go's error)");
  }

  template <class Fn>
  static std::exception_ptr call(Fn& fn) noexcept {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
        std::invoke(fn);
        return nullptr;
      } else {
        return std::invoke(fn);
      }
    } catch (...) {
      return std::current_exception();
    }
  }

  // The goroutine's callable, for a caller holding a token of sem (if
  // non-null) and counted in wg_. (go() and try_go() call goro::go
  // themselves, so that a traceback's "created by" line names them, as Go's
  // names errgroup.(*Group).Go.)
  template <class F>
  Task<std::decay_t<F>> make_task(const Chan<Empty>& sem, F&& fn) {
    using Fn = std::decay_t<F>;
    return Task<Fn>{this, sem, std::optional<Fn>(std::in_place, std::forward<F>(fn))};
  }

  // No goroutine after all (std::bad_alloc, or copying fn threw): gives the
  // token and the count back.
  void not_started(const Chan<Empty>& sem) noexcept {
    if (sem) (void)sem.try_recv();
    wg_.done();
  }

  // errgroup's errOnce: the first error is kept and cancels the context.
  void record(std::exception_ptr err) noexcept;

  WaitGroup wg_;
  Chan<Empty> sem_;  // errgroup's sem: one token per active goroutine; nil: no limit
  std::atomic<bool> failed_{false};
  std::exception_ptr err_;  // written once, by the winner of failed_
  ScopedCancelCause cancel_;  // empty for a zero Group
};

// What Group::with_context returns: `auto [g, ctx] = ...`.
struct GroupWithContext {
  Group group;
  Context ctx;
};

}  // namespace goro
