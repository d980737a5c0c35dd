// goro::WaitGroup, Go's sync.WaitGroup: wait for a collection of goroutines
// (or threads) to finish.
//
//   goro::WaitGroup wg;
//   for (auto& job : jobs) wg.go([&job] { run(job); });   // Go 1.25's wg.Go
//   wg.wait();   // parks with wait reason "sync.WaitGroup.Wait"
//
//   // or the classic form:
//   wg.add(1);
//   goro::go([&wg] { work(); wg.done(); });
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/error.h"
#include "goro/go.h"

namespace goro {

// Waits for a collection of goroutines (or threads) to finish, like
// sync.WaitGroup. Not copyable or movable: share it by reference.
class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;
  ~WaitGroup();

  // Adds delta (may be negative) to the counter. When it reaches zero, all
  // waiters are released. Never blocks.
  // Throws goro::Error("sync: negative WaitGroup counter") if the counter
  // would go below zero (the counter is left unchanged).
  void add(std::int64_t delta);

  // add(-1).
  void done() { add(-1); }

  // Starts fn in a new goroutine counted by this group: add(1), then the
  // goroutine destroys fn and calls done() when fn returns (Go 1.25's
  // WaitGroup.Go; captures are gone by the time wait() returns). The
  // creation site recorded for the goroutine is the caller of go(). An
  // exception escaping fn ends the process like any goroutine's ("panic:").
  template <class F>
  [[gnu::always_inline]] inline void go(F&& fn) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "goro::WaitGroup::go needs a callable taking no arguments");
    add(1);
    try {
      goro::go([this, f = std::optional<Fn>(std::in_place, std::forward<F>(fn))]() mutable {
        FinishOnExit<Fn> finish{this, f};
        std::invoke(*f);
      });
    } catch (...) {  // no goroutine (std::bad_alloc, or copying fn threw)
      done();
      throw;
    }
  }

  // Blocks until the counter is zero. On a goroutine it parks with wait
  // reason "sync.WaitGroup.Wait"; on a plain thread the thread blocks.
  void wait();

 private:
  // Destroys fn (and its captures) *before* done(): once wait() returns,
  // nothing it waited for still runs, as with std::thread::join — so a
  // capture may refer to what the waiter owns.
  template <class Fn>
  struct FinishOnExit {
    WaitGroup* wg;
    std::optional<Fn>& fn;
    ~FinishOnExit() {
      fn.reset();
      wg->done();
    }
  };

  // counter in the high 32 bits, waiter count in the low 32 (as Go does):
  // one atomic operation tells add() both, so it never touches the group
  // after releasing it.
  std::atomic<std::uint64_t> state_{0};
  // The waiter list and its lock (runtime types, kept out of the public
  // headers); constructed in place by the first wait().
  alignas(8) unsigned char waiters_[32] = {};
};

}  // namespace goro
