// goro::Once, Go's sync.Once. Ports Go's sync/once_test.go (TestOnce,
// TestOncePanic, with a C++ exception for the panic) and checks:
//
//  - f runs exactly once, whoever calls first: goroutines and plain threads
//    racing, many Once objects at once;
//  - every call returns only after f returned, and sees what f wrote;
//    callers that arrive while f runs park ("sync.Mutex.Lock") until then;
//  - if f throws, the exception reaches the first caller and the Once
//    counts as done (Go's rule, unlike std::call_once): later calls and the
//    callers that waited do nothing;
//  - f may park (sleep, channels) while the others wait;
//  - any callable: lvalue or rvalue, mutable, move-only;
//  - f calling call() on its own Once deadlocks, as in Go.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
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

TEST(Once, IsConstantInitializableAndNeitherCopyableNorMovable) {
  static_assert(std::is_nothrow_default_constructible_v<goro::Once>);
  static_assert(!std::is_copy_constructible_v<goro::Once>);
  static_assert(!std::is_move_constructible_v<goro::Once>);
  static_assert(!std::is_copy_assignable_v<goro::Once>);
  static constinit goro::Once once;  // process-wide: also right under --gtest_repeat
  static int calls = 0;
  once.call([] { ++calls; });
  once.call([] { ++calls; });
  EXPECT_EQ(calls, 1);
}

// Go's TestOnce: ten goroutines, one increment, and each caller sees it.
TEST(Once, GosTestOnce) {
  int o = 0;  // written by f only
  std::atomic<int> wrong_inside{0};
  goro::run([&] {
    goro::Once once;
    auto c = goro::make_chan<bool>();
    constexpr int N = 10;
    for (int i = 0; i < N; ++i) {
      goro::go([&, c] {
        once.call([&] { ++o; });
        if (o != 1) wrong_inside.fetch_add(1);  // once failed inside run
        c.send(true);
      });
    }
    for (int i = 0; i < N; ++i) c.recv();
  });
  EXPECT_EQ(wrong_inside.load(), 0);
  EXPECT_EQ(o, 1) << "once failed outside run";
}

// Go's TestOncePanic: the first f panics (throws here); the Once is done
// all the same, so the second call neither throws nor runs its f.
TEST(Once, GosTestOncePanicAThrowingFStillCountsAsDone) {
  goro::run([] {
    goro::Once once;
    for (int i = 0; i < 2; ++i) {
      bool threw = false;
      try {
        once.call([] { throw std::runtime_error("failed"); });
      } catch (const std::runtime_error& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "failed");
      }
      EXPECT_EQ(threw, i == 0) << (i == 0 ? "call() has not thrown on the first iteration"
                                          : "call() has thrown on the second iteration");
      EXPECT_TRUE(once.done());
    }
    once.call([] {});
    bool called_twice = false;
    once.call([&] { called_twice = true; });
    EXPECT_FALSE(called_twice) << "Once called twice";
  });
}

TEST(Once, DoneTurnsTrueWhenTheFirstCallReturns) {
  goro::Once once;
  EXPECT_FALSE(once.done());
  bool inside_done = true;
  once.call([&] { inside_done = once.done(); });
  EXPECT_FALSE(inside_done) << "done() while f still runs";
  EXPECT_TRUE(once.done());
}

TEST(Once, WorksOnAPlainThreadWithoutAnyGoroutine) {
  goro::Once once;
  int calls = 0;
  for (int i = 0; i < 3; ++i) once.call([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(Once, CallersArrivingWhileFRunsParkUntilItReturns) {
  goro::run([] {
    goro::Once once;
    auto release = goro::make_chan<bool>();
    std::atomic<bool> f_started{false};
    std::vector<int> data;  // written by f, read by every caller after call()
    auto first_done = goro::make_chan<bool>(1);
    goro::go([&, release, first_done] {
      once.call([&] {
        f_started = true;
        release.recv();  // f parks: the others must wait anyway
        data = {1, 2, 3};
      });
      first_done.send(true);
    });
    ASSERT_TRUE(eventually([&] { return f_started.load(); }));
    constexpr int kLate = 5;
    std::atomic<int> returned{0}, saw_data{0}, ran_own{0};
    goro::WaitGroup late;
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < kLate; ++i) {
      late.add(1);
      ids.push_back(go_with_id([&] {
        once.call([&] { ran_own.fetch_add(1); });
        if (data.size() == 3) saw_data.fetch_add(1);
        returned.fetch_add(1);
        late.done();
      }));
    }
    for (std::uint64_t id : ids) EXPECT_TRUE(parks_with(id, "sync.Mutex.Lock"));
    EXPECT_EQ(returned.load(), 0) << "a call returned while f runs";
    // A plain thread waits the same way.
    std::atomic<bool> thread_returned{false};
    std::thread t([&] {
      once.call([&] { ran_own.fetch_add(1); });
      if (data.size() == 3) saw_data.fetch_add(1);
      thread_returned = true;
    });
    goro::sleep(5ms);
    EXPECT_FALSE(thread_returned.load()) << "a plain thread's call returned while f runs";
    release.send(true);
    first_done.recv();
    late.wait();
    t.join();
    EXPECT_EQ(ran_own.load(), 0);
    EXPECT_EQ(saw_data.load(), kLate + 1);
  });
}

TEST(Once, CallersThatWaitedForAThrowingFReturnWithoutRunningTheirs) {
  goro::run([] {
    goro::Once once;
    auto release = goro::make_chan<bool>();
    std::atomic<bool> f_started{false};
    auto first = goro::make_chan<std::string>(1);
    goro::go([&, release, first] {
      try {
        once.call([&] {
          f_started = true;
          release.recv();
          throw std::logic_error("init failed");
        });
        first.send("returned");
      } catch (const std::logic_error& e) {
        first.send(e.what());
      }
    });
    ASSERT_TRUE(eventually([&] { return f_started.load(); }));
    std::atomic<int> ran_own{0}, threw{0};
    goro::WaitGroup late;
    for (int i = 0; i < 3; ++i) {
      late.add(1);
      std::uint64_t id = go_with_id([&] {
        try {
          once.call([&] { ran_own.fetch_add(1); });
        } catch (...) {
          threw.fetch_add(1);
        }
        late.done();
      });
      EXPECT_TRUE(parks_with(id, "sync.Mutex.Lock"));
    }
    release.send(true);
    EXPECT_EQ(first.recv().value, "init failed") << "only the first caller gets the exception";
    late.wait();
    EXPECT_EQ(ran_own.load(), 0);
    EXPECT_EQ(threw.load(), 0);
    EXPECT_TRUE(once.done());
  });
}

TEST(Once, GoroutinesAndPlainThreadsRacingRunFExactlyOnce) {
  const int rounds = static_cast<int>(scaled(2000, 500, 200));
  constexpr int kGoroutines = 8;
  constexpr int kThreads = 2;
  std::atomic<int> bad_rounds{0};
  for (int r = 0; r < rounds; ++r) {
    goro::Once once;
    std::atomic<int> calls{0};
    long value = 0;  // written by f; read after call() without other synchronization
    std::atomic<int> wrong{0};
    auto caller = [&] {
      once.call([&] {
        calls.fetch_add(1);
        value = 42;
      });
      if (value != 42) wrong.fetch_add(1);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(caller);
    goro::WaitGroup wg;
    for (int g = 0; g < kGoroutines; ++g) wg.go(caller);
    caller();  // and the test's own thread
    wg.wait();
    for (auto& t : threads) t.join();
    if (calls.load() != 1 || wrong.load() != 0) bad_rounds.fetch_add(1);
  }
  EXPECT_EQ(bad_rounds.load(), 0);
}

TEST(Once, ManyOnceObjectsInitializeIndependently) {
  constexpr int kOnces = 100;
  const int callers = static_cast<int>(scaled(10, 10, 4));
  std::vector<goro::Once> onces(kOnces);
  std::vector<std::atomic<int>> calls(kOnces);
  goro::run([&] {
    goro::WaitGroup wg;
    for (int c = 0; c < callers; ++c) {
      for (int i = 0; i < kOnces; ++i) {
        wg.go([&, i] { onces[static_cast<std::size_t>(i)].call([&] { calls[static_cast<std::size_t>(i)].fetch_add(1); }); });
      }
    }
    wg.wait();
  });
  for (int i = 0; i < kOnces; ++i) EXPECT_EQ(calls[static_cast<std::size_t>(i)].load(), 1) << "Once #" << i;
}

TEST(Once, AcceptsAnyCallable) {
  goro::run([] {
    // An lvalue function object, called through a reference: its state changes.
    struct Counter {
      int n = 0;
      void operator()() { ++n; }
    } counter;
    goro::Once a;
    a.call(counter);
    a.call(counter);
    EXPECT_EQ(counter.n, 1);
    // A mutable lambda and a move-only capture, as rvalues.
    goro::Once b;
    auto owned = std::make_unique<int>(7);
    int got = 0;
    b.call([p = std::move(owned), &got]() mutable { got = *p; });
    EXPECT_EQ(got, 7);
    // A const function object and a std::function.
    goro::Once c;
    int hits = 0;
    const auto const_fn = [&hits] { ++hits; };
    c.call(const_fn);
    std::function<void()> fn = [&hits] { hits += 10; };
    goro::Once d;
    d.call(fn);
    d.call(fn);
    EXPECT_EQ(hits, 11);
    // A plain function.
    static int plain_calls;
    plain_calls = 0;
    goro::Once e;
    e.call(+[] { ++plain_calls; });
    e.call(+[] { ++plain_calls; });
    EXPECT_EQ(plain_calls, 1);
  });
}

TEST(Once, FCanStartAndWaitForGoroutinesWhileTheOthersWait) {
  goro::run([] {
    goro::Once once;
    int result = 0;  // written by f
    std::atomic<bool> f_started{false};
    auto first_done = goro::make_chan<bool>(1);
    goro::go([&, first_done] {
      once.call([&] {
        f_started = true;
        auto ch = goro::make_chan<int>();
        goro::go([ch] {
          goro::sleep(2ms);
          ch.send(99);
        });
        result = ch.recv().value;  // f parks here
      });
      first_done.send(true);
    });
    ASSERT_TRUE(eventually([&] { return f_started.load(); }));
    bool ran_own = false;
    once.call([&] { ran_own = true; });  // waits for the goroutine's f
    EXPECT_FALSE(ran_own);
    EXPECT_EQ(result, 99) << "call() returned before f did";
    first_done.recv();
  });
}

TEST(Once, FCallingCallOnItsOwnOnceDeadlocksAsInGo) {
  // Outlives the goroutine that stays blocked on it (one per run, for
  // --gtest_repeat; a deque never moves its elements).
  static std::deque<goro::Once> onces;
  goro::Once& once = onces.emplace_back();
  std::uint64_t id = 0;
  goro::run([&] {
    id = go_with_id([&once] {
      once.call([&once] { once.call([] {}); });
    });
    EXPECT_TRUE(parks_with(id, "sync.Mutex.Lock"));
    EXPECT_TRUE(goro_test::still_parked_with(id, "sync.Mutex.Lock"));
    EXPECT_FALSE(once.done());
  });
  // The goroutine stays blocked forever, as it would in Go (where the
  // runtime might report the deadlock); goro::run abandoned it.
}

}  // namespace
