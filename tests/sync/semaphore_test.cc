// goro::Semaphore, golang.org/x/sync/semaphore.Weighted. Ports x/sync's
// semaphore_test.go (TestWeighted, TestWeightedPanic, TestWeightedTryAcquire,
// TestWeightedAcquire, TestWeightedDoesntBlockIfTooBig,
// TestLargeAcquireDoesntStarve, TestAllocCancelDoesntStarve) and checks:
//
//  - a waiting goroutine parks with wait reason "semacquire";
//  - first come, first served: waiters get their units in arrival order, a
//    large request at the head holds back smaller ones that would fit, and
//    try_acquire fails while anybody waits;
//  - contexts: a context done before the call fails even with units free;
//    cancellation or a deadline while waiting returns ctx.err() and leaves
//    the semaphore as it was, also when it races with a release; a waiter
//    at the head that gives up lets the ones behind it in;
//  - n > size waits for the context only and blocks nobody;
//  - release of more than is held throws Go's message and changes nothing;
//  - Guard (RAII), plain threads and goroutines sharing one semaphore.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::go_with_id;
using goro_test::parks_with;
using goro_test::scaled;
using goro_test::still_parked_with;
using goro_test::throws_go_error;

// "context canceled", "context deadline exceeded", or "<nil>".
std::string describe(const std::exception_ptr& e) { return e ? goro::error_string(e) : "<nil>"; }

// --- x/sync's tests ---------------------------------------------------------------------

// x/sync's HammerWeighted: acquire n, hold a random moment, release n, while
// checking that the units held at once never exceed the size.
struct Hammer {
  goro::Semaphore& sem;
  std::atomic<std::int64_t>& in_use;
  std::atomic<int>& violations;

  void run(std::int64_t n, int loops, unsigned seed) {
    for (int i = 0; i < loops; ++i) {
      sem.acquire(n);
      if (in_use.fetch_add(n) + n > sem.size()) violations.fetch_add(1);
      seed = seed * 1103515245u + 12345u;
      if (seed % 4 == 0) {
        goro::sleep(std::chrono::microseconds(seed % 100));
      } else if (seed % 4 == 1) {
        goro::yield();
      }
      in_use.fetch_sub(n);
      sem.release(n);
    }
  }
};

TEST(Semaphore, XSyncTestWeighted) {
  // x/sync uses GOMAXPROCS parties with weights 0..n-1; at least 4 here.
  const int n = std::max(4, goro::maxprocs());
  const int loops = static_cast<int>(scaled(4000, 2000, 500)) / n;
  std::atomic<std::int64_t> in_use{0};
  std::atomic<int> violations{0};
  goro::run([&] {
    goro::Semaphore sem(n);
    goro::WaitGroup wg;
    for (int i = 0; i < n; ++i) {
      wg.go([&, i] { Hammer{sem, in_use, violations}.run(i, loops, static_cast<unsigned>(i) + 1); });
    }
    wg.wait();
    EXPECT_EQ(sem.held(), 0);
  });
  EXPECT_EQ(violations.load(), 0);
}

TEST(Semaphore, XSyncTestWeightedPanicReleasingMoreThanHeldThrows) {
  goro::Semaphore w(1);
  EXPECT_TRUE(throws_go_error([&] { w.release(1); }, "semaphore: released more than held"));
  // The semaphore is unchanged: all of it can still be taken, and only once.
  EXPECT_EQ(w.held(), 0);
  EXPECT_TRUE(w.try_acquire(1));
  EXPECT_FALSE(w.try_acquire(1));
  EXPECT_TRUE(throws_go_error([&] { w.release(2); }, "semaphore: released more than held"));
  EXPECT_EQ(w.held(), 1);
  w.release(1);
  EXPECT_EQ(w.held(), 0);
  EXPECT_THROW(w.release(1), std::runtime_error) << "goro::Error is a std::runtime_error";
}

TEST(Semaphore, XSyncTestWeightedTryAcquire) {
  goro::run([] {
    auto ctx = goro::background();
    goro::Semaphore sem(2);
    std::vector<bool> tries;
    EXPECT_EQ(sem.acquire(ctx, 1), nullptr);
    tries.push_back(sem.try_acquire(1));
    tries.push_back(sem.try_acquire(1));
    sem.release(2);
    tries.push_back(sem.try_acquire(1));
    EXPECT_EQ(sem.acquire(ctx, 1), nullptr);
    tries.push_back(sem.try_acquire(1));
    EXPECT_EQ(tries, (std::vector<bool>{true, false, true, false}));
  });
}

TEST(Semaphore, XSyncTestWeightedAcquireWithATimeout) {
  goro::run([] {
    goro::Semaphore sem(2);
    std::vector<std::string> errors;
    auto try_acquire = [&](std::int64_t n) {
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 10ms);
      std::exception_ptr err = sem.acquire(ctx, n);
      errors.push_back(describe(err));
      return err == nullptr;
    };
    std::vector<bool> tries;
    EXPECT_EQ(sem.acquire(goro::background(), 1), nullptr);
    tries.push_back(try_acquire(1));
    tries.push_back(try_acquire(1));
    sem.release(2);
    tries.push_back(try_acquire(1));
    EXPECT_EQ(sem.acquire(goro::background(), 1), nullptr);
    tries.push_back(try_acquire(1));
    EXPECT_EQ(tries, (std::vector<bool>{true, false, true, false}));
    EXPECT_EQ(errors, (std::vector<std::string>{"<nil>", "context deadline exceeded", "<nil>",
                                                "context deadline exceeded"}));
    EXPECT_EQ(sem.held(), 2) << "a timed-out acquire kept units";
  });
}

TEST(Semaphore, XSyncTestWeightedDoesntBlockIfTooBig) {
  static constexpr std::int64_t n = 2;
  std::atomic<int> failures{0};
  goro::run([&] {
    goro::Semaphore sem(n);
    auto too_big = goro::make_chan<std::exception_ptr>(1);
    auto [big_ctx, big_cancel] = goro::with_cancel(goro::background());
    goro::go([&sem, ctx = big_ctx, too_big] { too_big.send(sem.acquire(ctx, n + 1)); });
    goro::WaitGroup g;
    for (int i = static_cast<int>(n) * 3; i > 0; --i) {
      g.go([&] {
        std::exception_ptr err = sem.acquire(goro::background(), 1);
        if (err == nullptr) {
          goro::sleep(1ms);
          sem.release(1);
        } else {
          failures.fetch_add(1);
        }
      });
    }
    g.wait();
    EXPECT_EQ(failures.load(), 0) << "Semaphore(2) failed to acquire(_, 1) with acquire(_, 3) pending";
    big_cancel();
    EXPECT_EQ(too_big.recv().value, goro::canceled());
    EXPECT_EQ(sem.held(), 0);
  });
}

// x/sync's TestLargeAcquireDoesntStarve: goroutines keep releasing and
// re-acquiring one unit each; a request for all units must still get them
// (FIFO: once it queues, the small re-acquires queue behind it).
TEST(Semaphore, XSyncTestLargeAcquireDoesntStarve) {
  goro::run([] {
    const std::int64_t n = std::max(4, goro::maxprocs());
    goro::Semaphore sem(n);
    std::atomic<bool> running{true};
    goro::WaitGroup wg;
    for (std::int64_t i = n; i > 0; --i) {
      sem.acquire(1);
      wg.go([&] {
        while (running.load()) {
          goro::sleep(1ms);
          sem.release(1);
          sem.acquire(1);
        }
        sem.release(1);
      });
    }
    auto got_all = goro::make_chan<bool>(1);
    goro::go([&sem, n, got_all] {
      sem.acquire(n);
      got_all.send(true);
    });
    bool in_time = goro::select(goro::recv(got_all), goro::recv(goro::after(goro_test::kPatience))) == 0;
    EXPECT_TRUE(in_time) << "the large acquire starved";
    running = false;
    if (!in_time) got_all.recv();
    sem.release(n);
    wg.wait();
    EXPECT_EQ(sem.held(), 0);
  });
}

// x/sync's TestAllocCancelDoesntStarve, without its sleeps: a large request
// queued at the head gives up (its context is cancelled); the small request
// queued behind it must then get its unit.
TEST(Semaphore, XSyncTestAllocCancelDoesntStarve) {
  goro::run([] {
    goro::Semaphore sem(10);
    sem.acquire(1);  // hold 1 "read lock"
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto big = goro::make_chan<std::exception_ptr>(1);
    std::uint64_t big_id = go_with_id([&sem, ctx = ctx, big] { big.send(sem.acquire(ctx, 10)); });  // a "write lock"
    ASSERT_TRUE(parks_with(big_id, "semacquire"));
    auto small_done = goro::make_chan<bool>(1);
    std::uint64_t small_id = go_with_id([&sem, small_done] {
      EXPECT_EQ(sem.acquire(goro::background(), 1), nullptr);  // queued after the write lock
      sem.release(1);
      small_done.send(true);
    });
    ASSERT_TRUE(parks_with(small_id, "semacquire"));
    EXPECT_TRUE(still_parked_with(small_id, "semacquire")) << "a small request overtook the large one";
    cancel();
    bool in_time = goro::select(goro::recv(small_done), goro::recv(goro::after(goro_test::kPatience))) == 0;
    EXPECT_TRUE(in_time) << "the waiter behind a cancelled one starved";
    EXPECT_EQ(big.recv().value, goro::canceled());
    if (!in_time) sem.release(1);
    EXPECT_EQ(sem.held(), 1);
    sem.release(1);
  });
}

TEST(Semaphore, XSyncTestAllocCancelDoesntStarveWithADeadline) {
  // The original's shape: the large request gives up by a deadline.
  goro::run([] {
    goro::Semaphore sem(10);
    sem.acquire(1);
    auto big = goro::make_chan<std::exception_ptr>(1);
    auto small_done = goro::make_chan<bool>(1);
    goro::go([&sem, big, small_done] {
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 50ms);
      goro::go([&sem, small_done] {
        goro::sleep(5ms);  // usually queued behind the large request; correct either way
        EXPECT_EQ(sem.acquire(goro::background(), 1), nullptr);
        sem.release(1);
        small_done.send(true);
      });
      big.send(sem.acquire(ctx, 10));
    });
    EXPECT_EQ(big.recv().value, goro::deadline_exceeded());
    bool in_time = goro::select(goro::recv(small_done), goro::recv(goro::after(goro_test::kPatience))) == 0;
    EXPECT_TRUE(in_time);
    EXPECT_EQ(sem.held(), 1);
    sem.release(1);
  });
}

// --- waiting -------------------------------------------------------------------------

TEST(Semaphore, AWaitingGoroutineParksWithWaitReasonSemacquire) {
  goro::run([] {
    goro::Semaphore sem(1);
    sem.acquire(1);
    auto done = goro::make_chan<bool>(2);
    std::uint64_t plain = go_with_id([&sem, done] {
      sem.acquire(1);
      sem.release(1);
      done.send(true);
    });
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    std::uint64_t with_ctx = go_with_id([&sem, ctx = ctx, done] {
      EXPECT_EQ(sem.acquire(ctx, 1), nullptr);
      sem.release(1);
      done.send(true);
    });
    EXPECT_TRUE(parks_with(plain, "semacquire"));
    EXPECT_TRUE(parks_with(with_ctx, "semacquire"));
    sem.release(1);
    done.recv();
    done.recv();
    EXPECT_EQ(sem.held(), 0);
  });
}

TEST(Semaphore, WaitersGetTheirUnitsInArrivalOrder) {
  goro::run([] {
    goro::Semaphore sem(3);
    sem.acquire(3);
    auto order = goro::make_chan<int>(8);
    // No two neighbours fit together, so the units go to one waiter at a
    // time; a 1 could always join the 1 before it if it were not FIFO.
    const std::vector<std::int64_t> weights = {3, 1, 3, 1, 3, 2};
    for (std::size_t i = 0; i < weights.size(); ++i) {
      std::int64_t w = weights[i];
      std::uint64_t id = go_with_id([&sem, order, i, w] {
        sem.acquire(w);
        order.send(static_cast<int>(i));
        sem.release(w);
      });
      ASSERT_TRUE(parks_with(id, "semacquire"));
    }
    sem.release(3);
    for (int i = 0; i < static_cast<int>(weights.size()); ++i) EXPECT_EQ(order.recv().value, i);
  });
}

TEST(Semaphore, ALargeRequestAtTheHeadHoldsBackSmallerOnesThatWouldFit) {
  goro::run([] {
    goro::Semaphore sem(4);
    sem.acquire(2);  // 2 free
    auto done = goro::make_chan<int>(2);
    std::uint64_t large = go_with_id([&sem, done] {
      sem.acquire(4);
      done.send(4);
      sem.release(4);
    });
    ASSERT_TRUE(parks_with(large, "semacquire"));
    std::uint64_t small = go_with_id([&sem, done] {
      sem.acquire(1);  // would fit, but the large one is first
      done.send(1);
      sem.release(1);
    });
    EXPECT_TRUE(parks_with(small, "semacquire"));
    EXPECT_TRUE(still_parked_with(small, "semacquire"));
    EXPECT_FALSE(sem.try_acquire(1)) << "try_acquire overtook a waiter";
    EXPECT_TRUE(sem.try_acquire(0) == false) << "even a zero request queues behind waiters";
    EXPECT_EQ(sem.held(), 2);
    sem.release(2);
    EXPECT_EQ(done.recv().value, 4);
    EXPECT_EQ(done.recv().value, 1);
  });
}

TEST(Semaphore, TryAcquireTakesFreeUnitsWithoutWaiting) {
  goro::Semaphore sem(3);
  EXPECT_TRUE(sem.try_acquire(2));
  EXPECT_FALSE(sem.try_acquire(2));
  EXPECT_TRUE(sem.try_acquire(1));
  EXPECT_TRUE(sem.try_acquire(0)) << "zero units are always free when nobody waits";
  EXPECT_FALSE(sem.try_acquire(1));
  EXPECT_EQ(sem.held(), 3);
  sem.release(3);
  EXPECT_FALSE(sem.try_acquire(4)) << "more than the size";
  EXPECT_EQ(sem.held(), 0);
}

TEST(Semaphore, MoreThanTheSizeWaitsForTheContextOnlyAndBlocksNobody) {
  goro::run([] {
    goro::Semaphore sem(2);
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto result = goro::make_chan<std::exception_ptr>(1);
    std::uint64_t doomed = go_with_id([&sem, ctx = ctx, result] { result.send(sem.acquire(ctx, 3)); });
    ASSERT_TRUE(parks_with(doomed, "semacquire"));
    // Not queued: others come and go, try_acquire works.
    EXPECT_TRUE(sem.try_acquire(2));
    sem.release(2);
    EXPECT_EQ(sem.acquire(goro::background(), 1), nullptr);
    sem.release(1);
    EXPECT_TRUE(still_parked_with(doomed, "semacquire"));
    cancel();
    EXPECT_EQ(result.recv().value, goro::canceled());
    EXPECT_EQ(sem.held(), 0);
  });
}

TEST(Semaphore, MoreThanTheSizeWithoutAContextWaitsForever) {
  static std::vector<std::unique_ptr<goro::Semaphore>> kept;  // the waiter never returns
  goro::Semaphore& sem = *kept.emplace_back(std::make_unique<goro::Semaphore>(2));
  goro::run([&sem] {
    std::uint64_t doomed = go_with_id([&sem] { sem.acquire(3); });
    EXPECT_TRUE(parks_with(doomed, "semacquire"));
    EXPECT_TRUE(sem.try_acquire(2)) << "a request larger than the size blocked others";
    sem.release(2);
    EXPECT_TRUE(still_parked_with(doomed, "semacquire"));
  });
}

// --- contexts --------------------------------------------------------------------------

TEST(Semaphore, AContextDoneBeforehandFailsEvenWithUnitsFree) {
  goro::run([] {
    goro::Semaphore sem(5);
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    cancel();
    EXPECT_EQ(sem.acquire(ctx, 1), goro::canceled());
    EXPECT_EQ(sem.acquire(ctx, 0), goro::canceled());
    auto [expired, stop] = goro::with_timeout(goro::background(), -1ms);
    EXPECT_EQ(sem.acquire(expired, 1), goro::deadline_exceeded());
    EXPECT_EQ(sem.held(), 0);
    // A context that can never be cancelled is the plain wait.
    EXPECT_EQ(sem.acquire(goro::background(), 5), nullptr);
    EXPECT_EQ(sem.held(), 5);
    sem.release(5);
  });
}

TEST(Semaphore, CancellationWhileWaitingReturnsCtxErrAndLeavesTheSemaphoreAsItWas) {
  goro::run([] {
    goro::Semaphore sem(2);
    sem.acquire(2);
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto result = goro::make_chan<std::exception_ptr>(1);
    std::uint64_t waiter = go_with_id([&sem, ctx = ctx, result] { result.send(sem.acquire(ctx, 1)); });
    ASSERT_TRUE(parks_with(waiter, "semacquire"));
    cancel();
    EXPECT_EQ(result.recv().value, goro::canceled());
    EXPECT_EQ(sem.held(), 2);
    // The cancelled waiter left the queue: a release goes to nobody.
    sem.release(2);
    EXPECT_EQ(sem.held(), 0);
    EXPECT_TRUE(sem.try_acquire(2));
    sem.release(2);
  });
}

TEST(Semaphore, APlainThreadWaitingWithAContextIsWokenByItsCancellation) {
  goro::Semaphore sem(1);
  sem.acquire(1);
  goro::WithCancel wc = goro::with_cancel(goro::background());
  std::exception_ptr err;
  std::atomic<bool> returned{false};
  std::thread t([&] {
    err = sem.acquire(wc.ctx, 1);
    returned = true;
  });
  goro::run([&] {
    goro::sleep(5ms);
    EXPECT_FALSE(returned.load()) << "acquired a unit that is held";
    wc.cancel();  // from a goroutine
  });
  t.join();
  EXPECT_EQ(err, goro::canceled());
  EXPECT_EQ(sem.held(), 1);
  sem.release(1);
}

TEST(Semaphore, CancellationsRacingWithReleasesNeverLoseOrDuplicateUnits) {
  // Each round: a holder releases while the waiter's context is cancelled
  // at about the same time. Whatever wins, the waiter either holds its unit
  // (and returns it) or returned ctx.err() and holds nothing.
  const int rounds = static_cast<int>(scaled(3000, 1000, 300));
  std::atomic<int> acquired{0}, cancelled{0}, wrong{0};
  goro::run([&] {
    goro::Semaphore sem(1);
    for (int r = 0; r < rounds; ++r) {
      sem.acquire(1);
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::WaitGroup wg;
      wg.go([&, ctx = ctx] {
        std::exception_ptr err = sem.acquire(ctx, 1);
        if (err == nullptr) {
          acquired.fetch_add(1);
          sem.release(1);
        } else if (err == goro::canceled()) {
          cancelled.fetch_add(1);
        } else {
          wrong.fetch_add(1);
        }
      });
      if (r % 3 != 0) goro::yield();  // mostly parked by now, sometimes not
      if (r % 2 == 0) {
        wg.go([&sem] { sem.release(1); });
        cancel();
      } else {
        cancel();
        sem.release(1);
      }
      wg.wait();
      if (sem.held() != 0) {
        wrong.fetch_add(1);
        break;
      }
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(acquired.load() + cancelled.load(), rounds);
}

TEST(Semaphore, MayBeDestroyedAfterAContextAcquireAndTheContextCancelledLater) {
  // The callback registered for the wait must not run against a semaphore
  // that is gone (ASan: use after free).
  goro::run([] {
    for (int r = 0; r < 200; ++r) {
      auto sem = std::make_unique<goro::Semaphore>(1);
      sem->acquire(1);
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      auto got = goro::make_chan<bool>(1);
      std::uint64_t id = go_with_id([s = sem.get(), ctx = ctx, got] {
        std::exception_ptr err = s->acquire(ctx, 1);
        if (err == nullptr) s->release(1);
        got.send(err == nullptr);
      });
      if (r % 2 == 0) {
        ASSERT_TRUE(parks_with(id, "semacquire"));
      }
      sem->release(1);
      EXPECT_TRUE(got.recv().value);
      sem.reset();
      cancel();
    }
  });
}

// --- RAII, threads -------------------------------------------------------------------

TEST(Semaphore, GuardHoldsUnitsForAScope) {
  goro::run([] {
    goro::Semaphore sem(3);
    {
      goro::Semaphore::Guard two(sem, 2);
      EXPECT_EQ(sem.held(), 2);
      {
        goro::Semaphore::Guard one(sem);
        EXPECT_EQ(sem.held(), 3);
        EXPECT_FALSE(sem.try_acquire(1));
      }
      EXPECT_EQ(sem.held(), 2);
    }
    EXPECT_EQ(sem.held(), 0);
    // A Guard waits like acquire().
    sem.acquire(3);
    auto done = goro::make_chan<bool>(1);
    std::uint64_t id = go_with_id([&sem, done] {
      goro::Semaphore::Guard g(sem, 2);
      done.send(true);
    });
    EXPECT_TRUE(parks_with(id, "semacquire"));
    sem.release(3);
    done.recv();
    EXPECT_TRUE(eventually([&] { return sem.held() == 0; }));
    static_assert(!std::is_copy_constructible_v<goro::Semaphore::Guard>);
    static_assert(!std::is_copy_constructible_v<goro::Semaphore>);
  });
}

TEST(Semaphore, BoundsConcurrencyAcrossGoroutinesAndPlainThreads) {
  constexpr std::int64_t kLimit = 3;
  const int goroutines = static_cast<int>(scaled(200, 100, 40));
  constexpr int kThreads = 3;
  const int rounds = static_cast<int>(scaled(100, 50, 20));
  goro::Semaphore sem(kLimit);
  std::atomic<std::int64_t> inside{0}, most{0};
  std::atomic<int> violations{0};
  auto party = [&](int id) {
    for (int r = 0; r < rounds; ++r) {
      goro::Semaphore::Guard g(sem, 1 + (id + r) % 2);
      std::int64_t w = 1 + (id + r) % 2;
      std::int64_t now = inside.fetch_add(w) + w;
      if (now > kLimit) violations.fetch_add(1);
      std::int64_t seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      goro::yield();
      inside.fetch_sub(w);
    }
  };
  goro_test::run_on_threads_and_goroutines(party, kThreads, goroutines);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(sem.held(), 0);
}

// --- misuse --------------------------------------------------------------------------

TEST(Semaphore, NegativeSizesAndWeightsThrow) {
  EXPECT_THROW(goro::Semaphore(-1), goro::Error);
  goro::Semaphore sem(2);
  EXPECT_THROW(sem.acquire(-1), goro::Error);
  EXPECT_THROW((void)sem.acquire(goro::background(), -1), goro::Error);
  EXPECT_THROW(sem.try_acquire(-1), goro::Error);
  EXPECT_THROW(sem.release(-1), goro::Error);
  EXPECT_EQ(sem.held(), 0);
  goro::Semaphore empty(0);
  EXPECT_TRUE(empty.try_acquire(0));
  EXPECT_FALSE(empty.try_acquire(1));
}

}  // namespace
