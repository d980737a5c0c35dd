// goro::run, goro::go, ids and goroutine counts.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <array>
#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.h"

namespace {

TEST(Run, ReturnsTheMainFunctionsResult) {
  EXPECT_EQ(goro::run([] { return 7; }), 7);
  EXPECT_EQ(goro::run([] {}), 0);
}

TEST(Run, MainRunsOnAGoroutine) {
  goro::run([] {
    EXPECT_TRUE(goro::in_goroutine());
    EXPECT_NE(goro::id(), 0u);
  });
  EXPECT_FALSE(goro::in_goroutine());
  EXPECT_EQ(goro::id(), 0u);
}

TEST(Run, FromAGoroutineIsAnError) {
  goro::run([] { EXPECT_THROW(goro::run([] {}), std::logic_error); });
}

TEST(RunDeathTest, FirstMainGoroutineHasIdOne) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(goro::run([] { return static_cast<int>(goro::id()); })),
              ::testing::ExitedWithCode(1), "");
}

TEST(Go, ThousandsOfGoroutinesAllRunOnce) {
  constexpr int kN = 20000;
  std::vector<std::atomic<int>> ran(kN);
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&, i] {
        ran[static_cast<std::size_t>(i)].fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
  });
  for (int i = 0; i < kN; ++i) ASSERT_EQ(ran[static_cast<std::size_t>(i)].load(), 1) << "goroutine " << i;
}

// A tree of depth 4 and fan-out 10: 11,111 goroutines, each spawning its
// children before finishing.
void spawn_tree(int depth, goro::WaitGroup& wg, std::atomic<int>& leaves) {
  if (depth == 0) {
    leaves.fetch_add(1);
    wg.done();
    return;
  }
  wg.add(10);
  for (int i = 0; i < 10; ++i) goro::go([depth, &wg, &leaves] { spawn_tree(depth - 1, wg, leaves); });
  wg.done();
}

TEST(Go, NestedSpawnsComplete) {
  std::atomic<int> leaves{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] { spawn_tree(4, wg, leaves); });
    wg.wait();
  });
  EXPECT_EQ(leaves.load(), 10000);
}

TEST(Go, MoveOnlyAndLargeCapturesWork) {
  goro::run([] {
    goro::WaitGroup wg;
    wg.add(2);
    auto owned = std::make_unique<int>(41);
    int seen = 0;
    goro::go([p = std::move(owned), &seen, &wg] {
      seen = *p + 1;
      wg.done();
    });
    std::array<char, 8192> big{};
    big[8191] = 'z';
    char last = 0;
    goro::go([big, &last, &wg] {
      last = big[8191];
      wg.done();
    });
    wg.wait();
    EXPECT_EQ(seen, 42);
    EXPECT_EQ(last, 'z');
  });
}

struct CountsDestruction {
  std::atomic<int>* destroyed;
  explicit CountsDestruction(std::atomic<int>* d) : destroyed(d) {}
  CountsDestruction(CountsDestruction&& o) noexcept : destroyed(o.destroyed) { o.destroyed = nullptr; }
  ~CountsDestruction() {
    if (destroyed != nullptr) destroyed->fetch_add(1);
  }
};

TEST(Go, CallableIsDestroyedAfterItRuns) {
  std::atomic<int> destroyed{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(100);
    for (int i = 0; i < 100; ++i) {
      goro::go([c = CountsDestruction(&destroyed), &wg] { wg.done(); });
    }
    wg.wait();
  });
  EXPECT_TRUE(goro_test::eventually([&] { return destroyed.load() == 100; }));
}

TEST(Go, IdsAreUniqueAndNonZero) {
  constexpr int kN = 5000;
  std::vector<std::uint64_t> ids(kN);
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&, i] {
        ids[static_cast<std::size_t>(i)] = goro::id();
        wg.done();
      });
    }
    wg.wait();
  });
  std::set<std::uint64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kN));
  EXPECT_EQ(unique.count(0), 0u);
}

TEST(Go, WorksFromAPlainThread) {
  std::atomic<std::uint64_t> id{0};
  goro::WaitGroup wg;
  wg.add(1);
  std::thread t([&] {
    goro::go([&] {
      id = goro::id();
      wg.done();
    });
  });
  t.join();
  wg.wait();  // a plain thread waiting on a goroutine
  EXPECT_NE(id.load(), 0u);
}

TEST(NumGoroutine, CountsLiveGoroutines) {
  goro::run([] {
    std::int64_t base = goro::num_goroutine();
    EXPECT_GE(base, 1);
    goro::WaitGroup started, release, finished;
    constexpr int kN = 1000;
    started.add(kN);
    release.add(1);
    finished.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&] {
        started.done();
        release.wait();
        finished.done();
      });
    }
    started.wait();
    EXPECT_GE(goro::num_goroutine(), base + kN);
    release.done();
    finished.wait();
    EXPECT_TRUE(goro_test::eventually([&] { return goro::num_goroutine() <= base; }));
  });
}

}  // namespace
