// goro::sleep: lasts at least its duration (and not absurdly longer), parks
// the goroutine instead of its worker, survives any duration value.
//
// Upper bounds are deliberately loose (hundreds of ms): test machines are
// shared and noisy. Lower bounds are exact: a timer must never fire early.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::ms_since;
using goro_test::scaled;
using Clock = std::chrono::steady_clock;

constexpr double kSlackMs = goro_test::kSanitized ? 1000 : 500;

TEST(Sleep, LastsAtLeastTheDurationAndNotMuchLonger) {
  double elapsed = 0;
  goro::run([&] {
    auto start = Clock::now();
    goro::sleep(20ms);
    elapsed = ms_since(start);
  });
  EXPECT_GE(elapsed, 20.0);
  EXPECT_LT(elapsed, 20.0 + kSlackMs);
}

TEST(Sleep, SuccessiveShortSleepsAddUp) {
  double elapsed = 0;
  goro::run([&] {
    auto start = Clock::now();
    for (int i = 0; i < 10; ++i) goro::sleep(5ms);
    elapsed = ms_since(start);
  });
  EXPECT_GE(elapsed, 50.0);
  EXPECT_LT(elapsed, 50.0 + kSlackMs);
}

TEST(Sleep, AcceptsAnyDurationType) {
  double elapsed = 0;
  goro::run([&] {
    auto start = Clock::now();
    goro::sleep(std::chrono::duration<double>(0.015));  // 15 ms as fractional seconds
    goro::sleep(std::chrono::microseconds(1500));
    goro::sleep(std::chrono::nanoseconds(500'000));
    elapsed = ms_since(start);
  });
  EXPECT_GE(elapsed, 17.0);
  EXPECT_LT(elapsed, 17.0 + kSlackMs);
}

TEST(Sleep, ZeroAndNegativeDurationsReturnAtOnce) {
  // Like time.Sleep(d <= 0). The extremes must not wrap around into huge
  // positive waits (a hang would trip the watchdog; the bound catches
  // "very long" too).
  double elapsed = 0;
  goro::run([&] {
    auto start = Clock::now();
    for (int i = 0; i < 1000; ++i) {
      goro::sleep(0ms);
      goro::sleep(-1ms);
    }
    goro::sleep(std::chrono::nanoseconds::min());
    goro::sleep(std::chrono::hours::min());  // below INT64_MIN nanoseconds
    goro::sleep(std::chrono::duration<double>(-1e300));
    elapsed = ms_since(start);
  });
  EXPECT_LT(elapsed, kSlackMs);
}

TEST(Sleep, OnAPlainThreadSleepsTheThread) {
  auto start = Clock::now();
  goro::sleep(20ms);
  double elapsed = ms_since(start);
  EXPECT_GE(elapsed, 20.0);
  EXPECT_LT(elapsed, 20.0 + kSlackMs);

  // And from a std::thread other than the one running tests.
  double in_thread = 0;
  std::thread([&] {
    auto s = Clock::now();
    goro::sleep(10ms);
    in_thread = ms_since(s);
  }).join();
  EXPECT_GE(in_thread, 10.0);
}

TEST(Sleep, ParksTheGoroutineSoItsWorkerRunsOthers) {
  // Put a sleeper on every worker. If sleeping blocked the worker thread,
  // the main goroutine could not run until they woke (a couple of loop
  // iterations); parked, it loops thousands of times meanwhile.
  const int sleepers = goro::maxprocs();
  long iterations_while_asleep = 0;
  goro::run([&] {
    std::atomic<int> awake{0};
    std::atomic<int> asleep{0};
    goro::WaitGroup wg;
    wg.add(sleepers);
    for (int i = 0; i < sleepers; ++i) {
      goro::go([&] {
        asleep.fetch_add(1);
        goro::sleep(150ms);
        awake.fetch_add(1);
        wg.done();
      });
    }
    auto deadline = Clock::now() + goro_test::kPatience;
    while (awake.load() == 0 && Clock::now() < deadline) {
      if (asleep.load() == sleepers) ++iterations_while_asleep;
      goro::yield();
    }
    wg.wait();
  });
  EXPECT_GT(iterations_while_asleep, 100);
}

TEST(Sleep, ManyConcurrentSleepersEachWakeAfterTheirOwnDuration) {
  const int n = static_cast<int>(scaled(10000, 5000, 2000));
  std::atomic<int> woke{0};
  std::atomic<int> woke_early{0};
  std::atomic<int> woke_very_late{0};
  goro::run([&] {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> ms(1, 50);
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      auto d = std::chrono::milliseconds(ms(rng));
      goro::go([&, d] {
        auto start = Clock::now();
        goro::sleep(d);
        auto slept = Clock::now() - start;
        if (slept < d) woke_early.fetch_add(1);
        if (slept > d + 10s) woke_very_late.fetch_add(1);
        woke.fetch_add(1);
        wg.done();
      });
    }
    // Bounded: all of them sleep at most 50 ms.
    EXPECT_TRUE(eventually([&] { return woke.load() == n; })) << woke.load() << " of " << n << " woke";
    wg.wait();
  });
  EXPECT_EQ(woke.load(), n);
  EXPECT_EQ(woke_early.load(), 0);
  EXPECT_EQ(woke_very_late.load(), 0);
}

TEST(Sleep, HugeDurationsDoNotOverflowIntoAnEarlyWakeUp) {
  // Goroutines sleeping "forever" are abandoned (nothing can wake them);
  // they must still be asleep later, and must not delay nearer timers.
  static std::atomic<int> woke{0};
  goro::run([&] {
    goro::go([] {
      goro::sleep(std::chrono::hours::max());
      woke.fetch_add(1);
    });
    goro::go([] {
      goro::sleep(std::chrono::nanoseconds::max());
      woke.fetch_add(1);
    });
    goro::go([] {
      goro::sleep(std::chrono::duration<double>(1e300));  // beyond int64 nanoseconds
      woke.fetch_add(1);
    });
    goro::go([] {
      goro::sleep(std::chrono::duration<long long, std::ratio<1000000>>(std::numeric_limits<long long>::max()));
      woke.fetch_add(1);
    });
    auto start = Clock::now();
    goro::sleep(30ms);  // a near timer behind the far ones
    double elapsed = ms_since(start);
    EXPECT_GE(elapsed, 30.0);
    EXPECT_LT(elapsed, 30.0 + kSlackMs);
    goro::sleep(100ms);
  });
  EXPECT_EQ(woke.load(), 0);
}

TEST(Sleep, MainGoroutineSleepingWhileOthersWorkWakesOnTime) {
  // Timers fire even while every worker is busy with goroutines that yield
  // in a loop: the sleeper is readied and gets its turn.
  double elapsed = 0;
  goro::run([&] {
    std::atomic<bool> stop{false};
    goro::WaitGroup wg;
    const int busy = goro::maxprocs() * 2;
    wg.add(busy);
    for (int i = 0; i < busy; ++i) {
      goro::go([&] {
        auto deadline = Clock::now() + goro_test::kPatience;
        while (!stop.load() && Clock::now() < deadline) goro::yield();
        wg.done();
      });
    }
    auto start = Clock::now();
    goro::sleep(20ms);
    elapsed = ms_since(start);
    stop = true;
    wg.wait();
  });
  EXPECT_GE(elapsed, 20.0);
  EXPECT_LT(elapsed, 20.0 + kSlackMs);
}

}  // namespace
