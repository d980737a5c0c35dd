// Scheduling: fairness of yields, sleep, work stealing, maxprocs.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Yield, GoroutinesThatYieldShareTheWorkers) {
  constexpr int kN = 8;
  std::vector<std::atomic<long>> counts(kN);
  std::atomic<bool> stop{false};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&, i] {
        while (!stop.load(std::memory_order_relaxed)) {
          counts[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
          goro::yield();
        }
        wg.done();
      });
    }
    goro::sleep(200ms);
    stop = true;
    wg.wait();
  });
  long lo = counts[0], hi = counts[0];
  for (auto& c : counts) {
    lo = std::min(lo, c.load());
    hi = std::max(hi, c.load());
  }
  // Every goroutine got a real share: not starved behind the others.
  EXPECT_GT(lo, 100);
  EXPECT_GT(lo * 20, hi) << "min " << lo << " max " << hi;
}

TEST(Yield, SpinnersCannotStarveASleeper) {
  std::atomic<bool> woke{false};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(goro::maxprocs() * 2);
    for (int i = 0; i < goro::maxprocs() * 2; ++i) {
      goro::go([&] {
        while (!woke.load()) goro::yield();
        wg.done();
      });
    }
    goro::sleep(20ms);
    woke = true;
    wg.wait();
  });
  EXPECT_TRUE(woke.load());
}

TEST(Sleep, LastsAtLeastTheDurationAndNotMuchLonger) {
  goro::run([] {
    auto t0 = Clock::now();
    goro::sleep(20ms);
    auto took = Clock::now() - t0;
    EXPECT_GE(took, 20ms);
    EXPECT_LT(took, 20ms + 500ms);
  });
}

TEST(Sleep, ZeroOrNegativeReturnsAtOnce) {
  goro::run([] {
    auto t0 = Clock::now();
    goro::sleep(0ms);
    goro::sleep(-5s);
    EXPECT_LT(Clock::now() - t0, 100ms);
  });
}

TEST(Sleep, ManyConcurrentSleepersAllWake) {
  const int n = goro_test::kSanitized ? 2000 : 10000;
  std::atomic<int> woke{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(n);
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      goro::go([&, i] {
        goro::sleep(std::chrono::milliseconds(1 + i % 50));
        woke.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    // They slept concurrently, not one after the other.
    EXPECT_LT(Clock::now() - t0, 10s);
  });
  EXPECT_EQ(woke.load(), n);
}

TEST(Sleep, WorksOnAPlainThread) {
  auto t0 = Clock::now();
  goro::sleep(10ms);
  EXPECT_GE(Clock::now() - t0, 10ms);
}

TEST(Sleep, HugeDurationsDoNotOverflow) {
  goro::run([] {
    goro::WaitGroup started;
    started.add(1);
    // Abandoned on purpose: it must park, not wake at once from a wrapped
    // deadline.
    static std::atomic<bool> woke{false};  // outlives the abandoned goroutine
    goro::go([&started] {
      started.done();
      goro::sleep(std::chrono::hours::max());
      woke.store(true);
    });
    started.wait();
    goro::sleep(50ms);
    EXPECT_FALSE(woke.load());
  });
}

TEST(Stealing, CpuBoundGoroutinesUseEveryWorker) {
  if (goro::maxprocs() < 2) GTEST_SKIP() << "needs 2 workers";
  std::mutex mu;
  std::set<std::thread::id> threads;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(16);
    for (int i = 0; i < 16; ++i) {
      goro::go([&] {
        auto until = Clock::now() + 20ms;
        while (Clock::now() < until) {
        }  // busy, never yields
        std::lock_guard lock(mu);
        threads.insert(std::this_thread::get_id());
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(threads.size(), static_cast<std::size_t>(goro::maxprocs()));
}

TEST(MaxProcs, ShrinkAndGrowKeepGoroutinesRunning) {
  int original = goro::maxprocs();
  EXPECT_EQ(goro::set_maxprocs(0), original);  // query only
  auto workload = [] {
    goro::WaitGroup wg;
    wg.add(2000);
    for (int i = 0; i < 2000; ++i) {
      goro::go([&wg] {
        goro::yield();
        wg.done();
      });
    }
    wg.wait();
  };
  goro::run([&] {
    workload();
    EXPECT_EQ(goro::set_maxprocs(1), original);
    workload();
    EXPECT_EQ(goro::set_maxprocs(2), 1);
    workload();
    goro::set_maxprocs(original);
    workload();
  });
  EXPECT_EQ(goro::maxprocs(), original);
}

}  // namespace
