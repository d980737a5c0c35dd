// Synchronisation primitives, Go's sync package. For now: WaitGroup.
//
//   goro::WaitGroup wg;
//   for (int i = 0; i < 10; ++i) {
//     wg.add(1);
//     goro::go([&wg] { work(); wg.done(); });
//   }
//   wg.wait();   // parks with wait reason "sync.WaitGroup.Wait"
#pragma once

#include <atomic>
#include <cstdint>

#include "goro/error.h"

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

  // Blocks until the counter is zero. On a goroutine it parks with wait
  // reason "sync.WaitGroup.Wait"; on a plain thread the thread blocks.
  void wait();

 private:
  // counter in the high 32 bits, waiter count in the low 32 (as Go does):
  // one atomic operation tells add() both, so it never touches the group
  // after releasing it.
  std::atomic<std::uint64_t> state_{0};
  // The waiter list and its lock (runtime types, kept out of the public
  // headers); constructed in place by the first wait().
  alignas(8) unsigned char waiters_[32] = {};
};

}  // namespace goro
