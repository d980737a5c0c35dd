// goro::WaitGroup, Go's sync.WaitGroup: waits on goroutines and on plain
// threads, Go's panic message for a negative counter, reuse, the lifetime
// rule that makes "wg on the waiter's stack" safe, the wait reason, and
// WaitGroup::go (Go 1.25's wg.Go): counted goroutines, also started from
// inside counted goroutines, whose functions are gone when wait() returns.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::go_with_id;
using goro_test::parks_with;
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

TEST(WaitGroup, WaitParksWithWaitReasonSyncWaitGroupWait) {
  goro::run([] {
    goro::WaitGroup wg, waited;
    wg.add(1);
    waited.add(1);
    std::uint64_t waiter = go_with_id([&] {
      wg.wait();
      waited.done();
    });
    EXPECT_TRUE(parks_with(waiter, "sync.WaitGroup.Wait"));
    wg.done();
    waited.wait();
  });
}

// --- WaitGroup::go (Go 1.25's wg.Go) ---------------------------------------------------

TEST(WaitGroupGo, RunsEveryFunctionAndWaitReturnsAfterAllOfThem) {
  const int n = static_cast<int>(scaled(1000, 500, 200));
  std::atomic<int> finished{0};
  int seen_by_wait = -1;
  goro::run([&] {
    goro::WaitGroup wg;
    for (int i = 0; i < n; ++i) {
      wg.go([&finished, i] {
        if (i % 3 == 0) goro::sleep(1ms);
        if (i % 3 == 1) goro::yield();
        finished.fetch_add(1);
      });
    }
    wg.wait();
    seen_by_wait = finished.load();
  });
  EXPECT_EQ(seen_by_wait, n);
}

TEST(WaitGroupGo, GoroutinesStartedByCountedGoroutinesAreCountedToo) {
  // A tree: every node starts its children with wg.go before it returns,
  // so the counter cannot reach zero while any node is still to run.
  constexpr int kFanout = 4;
  constexpr int kDepth = 5;  // 1 + 4 + ... + 4^4 = 341 nodes
  std::atomic<int> nodes{0};
  int seen_by_wait = -1;
  goro::run([&] {
    goro::WaitGroup wg;
    std::function<void(int)> node = [&](int depth) {
      if (depth + 1 < kDepth) {
        for (int c = 0; c < kFanout; ++c) wg.go([&node, depth] { node(depth + 1); });
      }
      goro::yield();
      nodes.fetch_add(1);
    };
    wg.go([&node] { node(0); });
    wg.wait();
    seen_by_wait = nodes.load();
  });
  int expected = 0;
  for (int d = 0, width = 1; d < kDepth; ++d, width *= kFanout) expected += width;
  EXPECT_EQ(seen_by_wait, expected);
}

TEST(WaitGroupGo, WorksFromAPlainThreadWithoutRun) {
  std::atomic<int> finished{0};
  goro::WaitGroup wg;
  for (int i = 0; i < 100; ++i) {
    wg.go([&finished] {
      goro::sleep(1ms);
      finished.fetch_add(1);
    });
  }
  wg.wait();  // blocks this thread
  EXPECT_EQ(finished.load(), 100);
}

TEST(WaitGroupGo, MixesWithAddAndDone) {
  std::atomic<int> finished{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(2);
    std::thread t([&] {
      finished.fetch_add(1);
      wg.done();
    });
    goro::go([&] {
      finished.fetch_add(1);
      wg.done();
    });
    for (int i = 0; i < 10; ++i) wg.go([&] { finished.fetch_add(1); });
    wg.wait();
    EXPECT_EQ(finished.load(), 12);
    t.join();
  });
}

TEST(WaitGroupGo, TakesMoveOnlyAndLvalueCallables) {
  goro::run([] {
    goro::WaitGroup wg;
    std::atomic<int> sum{0};
    auto owned = std::make_unique<int>(5);
    wg.go([p = std::move(owned), &sum] { sum.fetch_add(*p); });
    // An lvalue is copied: the original stays usable.
    auto add_one = [&sum] { sum.fetch_add(1); };
    wg.go(add_one);
    wg.go(add_one);
    add_one();
    wg.wait();
    EXPECT_EQ(sum.load(), 8);
  });
}

TEST(WaitGroupGo, ACallableWhoseCopyThrowsStartsNothingAndLeavesTheCounter) {
  struct CopyThrows {
    std::atomic<int>* runs;
    CopyThrows(std::atomic<int>* r) : runs(r) {}
    CopyThrows(const CopyThrows&) { throw std::runtime_error("copy failed"); }
    void operator()() const { runs->fetch_add(1); }
  };
  goro::run([] {
    std::atomic<int> runs{0};
    goro::WaitGroup wg;
    CopyThrows fn(&runs);
    EXPECT_THROW(wg.go(fn), std::runtime_error);
    wg.wait();  // the counter is back at zero: returns at once
    EXPECT_EQ(runs.load(), 0);
    EXPECT_THROW(wg.done(), goro::Error) << "go() left the counter above zero";
  });
}

// A capture that counts itself, as a resource the waiter owns would.
struct Capture {
  std::atomic<int>* live;
  explicit Capture(std::atomic<int>* l) : live(l) { live->fetch_add(1); }
  Capture(Capture&& o) noexcept : live(std::exchange(o.live, nullptr)) {}
  Capture(const Capture&) = delete;
  ~Capture() {
    if (live != nullptr) live->fetch_sub(1);
  }
};

// Regression: WaitGroup::go used to call done() before the closure holding
// fn was destroyed; with two workers the waiter could return while captures
// were still alive (about 1 run in 40 under GORO_MAXPROCS=2).
TEST(WaitGroupGo, TheFunctionAndItsCapturesAreGoneWhenWaitReturns) {
  // As with std::thread's join(): once wait() returns, every function it
  // waited for has been destroyed with its captures, so a capture may
  // refer to what the waiter owns (here a counter on its stack; RAII
  // slots, locks and guards in real code).
  const int rounds = static_cast<int>(scaled(200, 100, 50));
  std::atomic<int> leftover{0};
  goro::run([&] {
    for (int r = 0; r < rounds; ++r) {
      std::atomic<int> live{0};
      goro::WaitGroup wg;
      for (int i = 0; i < 8; ++i) {
        wg.go([c = Capture(&live), i] {
          if (i % 2 == 0) goro::yield();
        });
      }
      wg.wait();
      leftover.fetch_add(live.load());
      // Captures destroyed after this point would touch a dead `live`;
      // wait for them (bounded) so that the check above stays the failure.
      eventually([&] { return live.load() == 0; });
    }
  });
  EXPECT_EQ(leftover.load(), 0) << "captures were still alive after wait() returned";
}

}  // namespace
