// The scheduler: yield fairness, work stealing, and GOMAXPROCS
// (goro::maxprocs / set_maxprocs).
//
// goro has no preemption: a goroutine switches only when it blocks, sleeps
// or yields. These tests therefore make goroutines yield (fairness) or
// compute without yielding (stealing) on purpose.
#include <gtest/gtest.h>
#include <goro/goro.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::ThreadSet;
using Clock = std::chrono::steady_clock;

// --- GOMAXPROCS ----------------------------------------------------------------
// (First in the file: later tests change the setting and restore it.)

TEST(MaxProcs, StartsAtGoroMaxprocsOrTheCpuCount) {
  const char* env = std::getenv("GORO_MAXPROCS");
  if (env != nullptr && *env != '\0') {
    // CTest runs every binary with GORO_MAXPROCS=1 and =2: this proves the
    // setting actually reached the runtime.
    EXPECT_EQ(goro::maxprocs(), std::atoi(env));
  } else {
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_EQ(goro::maxprocs(), CPU_COUNT(&set));
  }
}

TEST(MaxProcs, SetReturnsThePreviousValueAndNonPositiveOnlyQueries) {
  const int original = goro::maxprocs();
  EXPECT_EQ(goro::set_maxprocs(0), original);
  EXPECT_EQ(goro::set_maxprocs(-5), original);
  EXPECT_EQ(goro::maxprocs(), original);
  const int other = original == 1 ? 2 : 1;
  EXPECT_EQ(goro::set_maxprocs(other), original);
  EXPECT_EQ(goro::maxprocs(), other);
  EXPECT_EQ(goro::set_maxprocs(0), other);
  EXPECT_EQ(goro::set_maxprocs(original), other);
  EXPECT_EQ(goro::maxprocs(), original);
}

// A spawn/join round: n goroutines that each yield once (so that they are
// in queues while the worker count changes), joined with a WaitGroup.
void spawn_join_round(int n) {
  goro::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    goro::go([&wg] {
      goro::yield();
      wg.done();
    });
  }
  wg.wait();
}

// Starts `n` CPU-bound goroutines (each computes for `each` without
// yielding) from one goroutine, and returns how many distinct worker threads
// ran them.
std::size_t threads_running_cpu_bound_goroutines(int n, std::chrono::microseconds each) {
  ThreadSet threads;
  goro::WaitGroup all;
  all.add(1);
  // Spawned from a goroutine, the goroutines land in that worker's local
  // queue: any other worker gets them only by stealing.
  goro::go([&] {
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&] {
        threads.add_current();
        goro_test::spin_for(each);
        wg.done();
      });
    }
    wg.wait();
    all.done();
  });
  all.wait();
  return threads.size();
}

TEST(MaxProcs, ShrinkingToOneAndGrowingBackKeepsGoroutinesRunning) {
  const int original = goro::maxprocs();
  goro::run([&] {
    spawn_join_round(1000);  // before

    // During: a background goroutine keeps spawning and joining while the
    // worker count changes under it; it must keep completing rounds.
    std::atomic<bool> stop{false};
    std::atomic<long> rounds{0};
    goro::WaitGroup background;
    background.add(1);
    goro::go([&] {
      while (!stop.load()) {
        spawn_join_round(100);
        rounds.fetch_add(1);
      }
      background.done();
    });
    auto progresses = [&] {
      long r = rounds.load();
      return eventually([&] { return rounds.load() >= r + 3; });
    };
    EXPECT_TRUE(progresses()) << "no progress before resizing";
    EXPECT_EQ(goro::set_maxprocs(1), original);
    EXPECT_EQ(goro::maxprocs(), 1);
    EXPECT_TRUE(progresses()) << "no progress after shrinking to 1 worker";
    EXPECT_EQ(goro::set_maxprocs(2), 1);
    EXPECT_TRUE(progresses()) << "no progress after growing to 2 workers";
    EXPECT_EQ(goro::set_maxprocs(1), 2);
    EXPECT_TRUE(progresses()) << "no progress after shrinking to 1 again";
    stop = true;
    background.wait();

    // After: with one worker everything runs on one thread; with two, both
    // take part again.
    goro::sleep(20ms);  // let the retiring worker finish what it was running
    EXPECT_EQ(threads_running_cpu_bound_goroutines(20, 1ms), 1u);
    EXPECT_EQ(goro::set_maxprocs(2), 1);
    EXPECT_EQ(threads_running_cpu_bound_goroutines(40, 5ms), 2u);
    spawn_join_round(1000);
  });
  goro::set_maxprocs(original);
  EXPECT_EQ(goro::maxprocs(), original);
}

TEST(MaxProcs, ValuesAbove256AreClamped) {
  const int original = goro::maxprocs();
  EXPECT_EQ(goro::set_maxprocs(100000), original);
  EXPECT_EQ(goro::maxprocs(), 256);
  // All those workers schedule correctly, then retire again.
  goro::run([] { spawn_join_round(2000); });
  EXPECT_EQ(goro::set_maxprocs(original), 256);
  goro::run([] { spawn_join_round(2000); });
  EXPECT_EQ(goro::maxprocs(), original);
}

// --- work stealing ---------------------------------------------------------------

TEST(WorkStealing, CpuBoundGoroutinesSpreadOverEveryWorker) {
  // 20 goroutines per worker, 5 ms of computation each: an idle worker has
  // ~100 ms to wake up and steal from the spawning worker's queue.
  const int procs = goro::maxprocs();
  std::size_t threads = 0;
  goro::run([&] { threads = threads_running_cpu_bound_goroutines(20 * procs, 5ms); });
  EXPECT_EQ(threads, static_cast<std::size_t>(procs));
}

TEST(WorkStealing, ACpuBoundGoroutineDoesNotHoldUpTheOthersWithTwoWorkers) {
  // Without preemption a computing goroutine keeps its worker; with a second
  // worker, the goroutines queued behind it are stolen and finish first.
  if (goro::maxprocs() < 2) GTEST_SKIP() << "needs 2 workers (runs in the maxprocs2 configuration)";
  std::atomic<bool> hog_done{false};
  std::atomic<int> finished_before_hog{0};
  constexpr int kN = 20;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(kN + 1);
    goro::go([&] {
      // Spawned from this goroutine, they all queue on its worker.
      goro::go([&] {  // the hog: 500 ms without yielding
        goro_test::spin_for(500ms);
        hog_done = true;
        wg.done();
      });
      for (int i = 0; i < kN; ++i) {
        goro::go([&] {
          if (!hog_done.load()) finished_before_hog.fetch_add(1);
          wg.done();
        });
      }
    });
    wg.wait();
  });
  EXPECT_EQ(finished_before_hog.load(), kN);
}

// --- yield -----------------------------------------------------------------------

TEST(Yield, EveryYieldingGoroutineMakesProgress) {
  // 8 goroutines increment their own counter and yield, for 200 ms. yield()
  // sends the caller to the back of the global queue, so all get turns. The
  // bound is loose (the slowest within 10x of the fastest) because a worker
  // thread can be descheduled by the OS for a while on a busy machine; real
  // starvation shows as a zero or near-zero count.
  constexpr int kN = 8;
  std::array<std::atomic<long>, kN> counts{};
  goro::run([&] {
    std::atomic<bool> stop{false};
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
  long lo = counts[0].load(), hi = lo;
  std::ostringstream all;
  for (auto& c : counts) {
    lo = std::min(lo, c.load());
    hi = std::max(hi, c.load());
    all << c.load() << ' ';
  }
  std::cout << "[ info ] yields per goroutine: " << all.str() << "\n";
  EXPECT_GT(lo, 0) << "counts: " << all.str();
  EXPECT_GE(lo * 10, hi) << "counts: " << all.str();
}

TEST(Yield, YieldingGoroutinesCannotStarveOneThatSleepsThenSetsAFlag) {
  // Twice as many yielders as workers keep every worker busy; a goroutine
  // that sleeps 10 ms must still wake up, run, and set the flag they wait
  // for. The yielders give up after a deadline so a failure cannot hang.
  const int yielders = 2 * goro::maxprocs();
  std::atomic<bool> flag{false};
  std::atomic<int> saw_flag{0};
  double elapsed_ms = 0;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(yielders + 1);
    auto start = Clock::now();
    for (int i = 0; i < yielders; ++i) {
      goro::go([&] {
        auto deadline = Clock::now() + goro_test::kPatience;
        while (!flag.load() && Clock::now() < deadline) goro::yield();
        if (flag.load()) saw_flag.fetch_add(1);
        wg.done();
      });
    }
    goro::go([&] {
      goro::sleep(10ms);
      flag = true;
      wg.done();
    });
    wg.wait();
    elapsed_ms = goro_test::ms_since(start);
  });
  EXPECT_EQ(saw_flag.load(), yielders);
  EXPECT_LT(elapsed_ms, 5000.0);
}

TEST(Yield, OnAPlainThreadYieldsTheThread) {
  // No goroutine to reschedule: it must neither crash nor block.
  goro::yield();
  std::atomic<int> n{0};
  std::thread([&] {
    for (int i = 0; i < 1000; ++i) {
      goro::yield();
      n.fetch_add(1);
    }
  }).join();
  EXPECT_EQ(n.load(), 1000);
}

TEST(Yield, AloneReturnsToTheCaller) {
  // With nothing else runnable, a yielding goroutine is picked again.
  long n = 0;
  goro::run([&] {
    for (int i = 0; i < 10000; ++i) {
      goro::yield();
      ++n;
    }
  });
  EXPECT_EQ(n, 10000);
}

}  // namespace
