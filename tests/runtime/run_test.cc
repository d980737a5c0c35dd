// goro::run: the main goroutine, its result, and the rules about who may
// call run and when.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "support/test_support.h"

namespace {

using goro_test::eventually;

TEST(Run, ReturnsTheFunctionsIntResult) {
  EXPECT_EQ(goro::run([] { return 42; }), 42);
  EXPECT_EQ(goro::run([] { return -7; }), -7);
  // Anything convertible to int is accepted, like an exit status.
  EXPECT_EQ(goro::run([]() -> short { return 3; }), 3);
}

TEST(Run, ReturnsZeroForAVoidFunction) {
  bool ran = false;
  EXPECT_EQ(goro::run([&] { ran = true; }), 0);
  EXPECT_TRUE(ran);
}

TEST(Run, RunsAMutableFunctionInPlace) {
  // run() invokes the caller's callable (by reference), so state it mutates
  // is visible afterwards.
  int calls = 0;
  auto fn = [&calls, n = 10]() mutable {
    ++calls;
    return ++n;
  };
  EXPECT_EQ(goro::run(fn), 11);
  EXPECT_EQ(calls, 1);
}

TEST(Run, TheFunctionRunsOnAGoroutineAndTheCallerIsNotOne) {
  EXPECT_FALSE(goro::in_goroutine());
  EXPECT_EQ(goro::id(), 0u);
  bool on_goroutine = false;
  std::uint64_t main_id = 0;
  goro::run([&] {
    on_goroutine = goro::in_goroutine();
    main_id = goro::id();
  });
  EXPECT_TRUE(on_goroutine);
  EXPECT_NE(main_id, 0u);
  // Back on the calling thread, which never became a goroutine.
  EXPECT_FALSE(goro::in_goroutine());
  EXPECT_EQ(goro::id(), 0u);
}

// The first main goroutine of a process is goroutine 1, as in Go. Only the
// first: checked in a fresh process (a death-test child runs just this).
TEST(RunDeathTest, FirstMainGoroutineOfAProcessIsGoroutineOne) {
  EXPECT_EXIT(
      {
        int id = goro::run([] { return static_cast<int>(goro::id()); });
        std::exit(id == 1 ? 0 : 100 + id);  // the exit status says which ID it got
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Run, LaterRunsGetNewMainGoroutineIds) {
  // IDs are never reused: every run's main goroutine is a new goroutine.
  std::uint64_t first = 0, second = 0;
  goro::run([&] { first = goro::id(); });
  goro::run([&] { second = goro::id(); });
  EXPECT_NE(first, 0u);
  EXPECT_GT(second, first);
}

TEST(Run, FromTheMainGoroutineThrowsLogicError) {
  bool threw = false;
  goro::run([&] {
    try {
      goro::run([] {});
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  EXPECT_TRUE(threw);
}

TEST(Run, FromAnyGoroutineThrowsLogicError) {
  std::atomic<bool> threw{false};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      try {
        goro::run([] { return 1; });
      } catch (const std::logic_error&) {
        threw = true;
      }
      wg.done();
    });
    wg.wait();
  });
  EXPECT_TRUE(threw.load());
}

TEST(Run, FromAnotherThreadWhileARunIsInProgressThrowsLogicError) {
  std::atomic<int> outcome{0};  // 1: threw logic_error, 2: ran
  goro::run([&] {
    std::thread other([&] {
      try {
        goro::run([&] { outcome = 2; });
      } catch (const std::logic_error&) {
        outcome = 1;
      }
    });
    // Wait without blocking this goroutine's worker: the other thread's
    // run() must not need it to fail.
    EXPECT_TRUE(eventually([&] { return outcome.load() != 0; }));
    other.join();
  });
  EXPECT_EQ(outcome.load(), 1);
}

TEST(Run, ARunAfterARejectedRunStillWorks) {
  // The rejected calls above leave no state behind.
  goro::run([] { EXPECT_THROW(goro::run([] {}), std::logic_error); });
  EXPECT_EQ(goro::run([] { return 5; }), 5);
}

TEST(Run, SequentialRunsEachRunTheirGoroutines) {
  constexpr int kRuns = 5;
  constexpr int kPerRun = 200;
  for (int r = 0; r < kRuns; ++r) {
    std::atomic<int> ran{0};
    int result = goro::run([&] {
      goro::WaitGroup wg;
      wg.add(kPerRun);
      for (int i = 0; i < kPerRun; ++i) {
        goro::go([&] {
          ran.fetch_add(1);
          wg.done();
        });
      }
      wg.wait();
      return r;
    });
    EXPECT_EQ(result, r);
    EXPECT_EQ(ran.load(), kPerRun) << "run " << r;
  }
}

TEST(Run, ReturnsWhenMainReturnsEvenIfOtherGoroutinesAreStillBlocked) {
  // As at the end of a Go program, goroutines alive when main returns are
  // abandoned; run() does not wait for them. (The blocked goroutine stays
  // parked; the WaitGroup is static so that it outlives this test.)
  static goro::WaitGroup never_released;
  never_released.add(1);
  std::atomic<bool> started{false};
  auto begin = std::chrono::steady_clock::now();
  goro::run([&] {
    goro::go([&] {
      started = true;
      never_released.wait();
    });
    EXPECT_TRUE(eventually([&] { return started.load(); }));
  });
  EXPECT_LT(goro_test::ms_since(begin), 1000.0 * goro_test::kPatience.count());
}

}  // namespace
