// goro::WaitGroup, Go's sync.WaitGroup: waits on goroutines and on plain
// threads, Go's panic message for a negative counter, reuse, and the
// lifetime rule that makes "wg on the waiter's stack" safe.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::scaled;

TEST(WaitGroup, IsNeitherCopyableNorMovable) {
  static_assert(!std::is_copy_constructible_v<goro::WaitGroup>);
  static_assert(!std::is_move_constructible_v<goro::WaitGroup>);
  static_assert(!std::is_copy_assignable_v<goro::WaitGroup>);
  SUCCEED() << "checked at compile time";
}

TEST(WaitGroup, WaitWithAZeroCounterReturnsAtOnce) {
  goro::WaitGroup fresh;
  fresh.wait();  // on a plain thread
  bool returned = false;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.wait();  // on a goroutine
    wg.add(3);
    wg.add(-3);
    wg.wait();  // back at zero
    returned = true;
  });
  EXPECT_TRUE(returned);
}

TEST(WaitGroup, NegativeCounterThrowsGoroErrorWithGosMessage) {
  goro::WaitGroup wg;
  try {
    wg.add(-1);
    FAIL() << "add(-1) on a zero counter did not throw";
  } catch (const goro::Error& e) {
    EXPECT_STREQ(e.what(), "sync: negative WaitGroup counter");
  }
  // goro::Error is a std::runtime_error: generic handlers catch it too.
  EXPECT_THROW(wg.done(), std::runtime_error);
}

TEST(WaitGroup, ANegativeAddLeavesTheCounterUnchanged) {
  goro::run([] {
    goro::WaitGroup wg;
    wg.add(2);
    EXPECT_THROW(wg.add(-3), goro::Error);
    // Still 2: two done() calls release it, a third is negative again.
    std::atomic<bool> released{false};
    goro::WaitGroup waited;
    waited.add(1);
    goro::go([&] {
      wg.wait();
      released = true;
      waited.done();
    });
    wg.done();
    goro::sleep(10ms);
    EXPECT_FALSE(released.load()) << "released with the counter at 1";
    wg.done();
    waited.wait();
    EXPECT_TRUE(released.load());
    EXPECT_THROW(wg.done(), goro::Error);
  });
}

TEST(WaitGroup, AddOfANegativeDeltaToZeroReleasesWaiters) {
  std::atomic<bool> released{false};
  goro::run([&] {
    goro::WaitGroup wg, done;
    wg.add(5);
    done.add(1);
    goro::go([&] {
      wg.wait();
      released = true;
      done.done();
    });
    wg.add(-5);
    done.wait();
  });
  EXPECT_TRUE(released.load());
}

TEST(WaitGroup, APlainThreadWaitsWhileGoroutinesCallDone) {
  constexpr int kN = 1000;
  std::atomic<int> finished{0};
  goro::WaitGroup wg;
  wg.add(kN);
  for (int i = 0; i < kN; ++i) {
    goro::go([&] {
      goro::sleep(1ms);
      finished.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();  // blocks this (non-goroutine) thread
  EXPECT_EQ(finished.load(), kN);
}

TEST(WaitGroup, AGoroutineWaitsWhilePlainThreadsCallDone) {
  constexpr int kThreads = 4;
  std::atomic<bool> released{false};
  goro::WaitGroup wg;
  wg.add(kThreads);
  goro::WaitGroup observed;
  observed.add(1);
  goro::go([&] {
    wg.wait();
    released = true;
    observed.done();
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      std::this_thread::sleep_for(2ms);
      wg.done();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(eventually([&] { return released.load(); }));
  observed.wait();
}

TEST(WaitGroup, ManyWaitersAreAllReleasedByOneDone) {
  // Goroutines and plain threads wait on the same group.
  const int goroutines = static_cast<int>(scaled(1000, 500, 200));
  constexpr int kThreads = 4;
  std::atomic<int> waiting{0}, released{0};
  goro::WaitGroup wg;
  wg.add(1);
  for (int i = 0; i < goroutines; ++i) {
    goro::go([&] {
      waiting.fetch_add(1);
      wg.wait();
      released.fetch_add(1);
    });
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      waiting.fetch_add(1);
      wg.wait();
      released.fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] { return waiting.load() == goroutines + kThreads; }));
  std::this_thread::sleep_for(20ms);  // most are inside wait() by now
  EXPECT_EQ(released.load(), 0);
  wg.done();
  for (auto& t : threads) t.join();
  EXPECT_TRUE(eventually([&] { return released.load() == goroutines + kThreads; }))
      << released.load() << " of " << goroutines + kThreads << " released";
}

TEST(WaitGroup, WaitParksTheGoroutineNotItsWorker) {
  // Twice as many waiters as workers: if wait() blocked worker threads, no
  // worker would be left to run the goroutine that releases them.
  const int waiters = 2 * goro::maxprocs();
  std::atomic<int> released{0};
  goro::run([&] {
    goro::WaitGroup gate, all;
    gate.add(1);
    all.add(waiters);
    std::atomic<int> waiting{0};
    for (int i = 0; i < waiters; ++i) {
      goro::go([&] {
        waiting.fetch_add(1);
        gate.wait();
        released.fetch_add(1);
        all.done();
      });
    }
    goro::go([&] {
      // Runs only if some worker is free.
      eventually([&] { return waiting.load() == waiters; });
      gate.done();
    });
    EXPECT_TRUE(eventually([&] { return released.load() == waiters; }));
    all.wait();
  });
  EXPECT_EQ(released.load(), waiters);
}

TEST(WaitGroup, CanBeReusedOnceWaitReturns) {
  constexpr int kRounds = 200;
  int total = 0;
  goro::run([&] {
    goro::WaitGroup wg;
    std::atomic<int> count{0};
    for (int r = 0; r < kRounds; ++r) {
      wg.add(5);
      for (int i = 0; i < 5; ++i) {
        goro::go([&] {
          count.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
      if (count.load() != 5 * (r + 1)) break;
    }
    total = count.load();
  });
  EXPECT_EQ(total, 5 * kRounds);
}

TEST(WaitGroup, MayBeDestroyedAsSoonAsWaitReturns) {
  // The common pattern: the group lives on the waiter's stack and dies
  // right after wait(). done() must not touch it after releasing the
  // waiter (a use-after-free that ASan/TSan would report, or a crash when
  // the stack is reused).
  const int rounds = static_cast<int>(scaled(20000, 5000, 2000));
  std::atomic<int> completed{0};
  goro::run([&] {
    goro::WaitGroup all;
    all.add(rounds);
    for (int r = 0; r < rounds; ++r) {
      goro::go([&] {
        auto wg = std::make_unique<goro::WaitGroup>();  // heap: ASan sees the free
        wg->add(1);
        goro::go([w = wg.get()] { w->done(); });
        wg->wait();
        wg.reset();
        completed.fetch_add(1);
        all.done();
      });
    }
    all.wait();
  });
  EXPECT_EQ(completed.load(), rounds);
}

TEST(WaitGroup, AddAndDoneFromManyGoroutinesAtOnceBalance) {
  // Concurrent add/done on one group from many workers must neither lose
  // an update nor report a negative counter spuriously.
  const int n = static_cast<int>(scaled(10000, 5000, 2000));
  std::atomic<int> errors{0};
  goro::run([&] {
    goro::WaitGroup wg, all;
    wg.add(1);  // held by main until the end
    all.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&] {
        try {
          wg.add(2);
          goro::yield();
          wg.done();
          wg.done();
        } catch (const goro::Error&) {
          errors.fetch_add(1);
        }
        all.done();
      });
    }
    all.wait();
    wg.done();
    wg.wait();  // the counter is back to zero exactly
  });
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
