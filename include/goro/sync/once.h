// goro::Once, Go's sync.Once: run an initialisation exactly once, whoever
// asks first, while the others wait for it to finish.
//
//   goro::Once once;
//   once.call([] { load_config(); });   // Go's once.Do(f)
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "goro/sync/mutex.h"

namespace goro {

class Once {
 public:
  constexpr Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // Calls f if and only if call() is being called for the first time for
  // this Once; every call returns only after that first f returned. Callers
  // arriving while f runs wait on a goro::Mutex (a goroutine parks with wait
  // reason "sync.Mutex.Lock"). As in Go (and unlike std::call_once): if f
  // throws, the Once still counts as done and the exception propagates to
  // the first caller; later calls do nothing. f calling call() on the same
  // Once deadlocks, as in Go.
  template <class F>
  void call(F&& f) {
    if (done_.load(std::memory_order_acquire)) return;
    using Fn = std::remove_reference_t<F>;
    Fn* fn = std::addressof(f);
    call_slow([](void* p) { std::invoke(*static_cast<Fn*>(p)); }, const_cast<void*>(static_cast<const void*>(fn)));
  }

  // Whether the first call() finished (returned or threw).
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  void call_slow(void (*invoke)(void*), void* fn);

  std::atomic<bool> done_{false};
  Mutex mu_;
};

}  // namespace goro
