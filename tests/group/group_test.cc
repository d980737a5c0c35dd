// goro::Group, Go's errgroup: the first error wins and is returned by
// wait(); the derived context is cancelled by the first error (with it as
// the cause) or by wait(); set_limit bounds concurrency, with errgroup's
// panic text for misuse; try_go; thrown and returned errors; the zero
// Group; the destructor's wait.
#include <gtest/gtest.h>
#include <goro/goro.h>
#include <goro/group.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro::Empty;
using goro_test::eventually;
using goro_test::go_with_id;
using goro_test::parks_with;
using goro_test::scaled;
using goro_test::still_parked_with;
using goro_test::throws_go_error;

// The message of an error (an exception_ptr holding a std::exception).
std::string message(const std::exception_ptr& e) {
  if (!e) return "<null>";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "<not a std::exception>";
  }
}

// A gate goroutines wait at until the test opens it.
using goro_test::Gate;

TEST(Group, IsNeitherCopyableNorMovable) {
  static_assert(!std::is_copy_constructible_v<goro::Group>);
  static_assert(!std::is_move_constructible_v<goro::Group>);
  static_assert(std::is_same_v<decltype(goro::Group::with_context(goro::background())), goro::GroupWithContext>);
  SUCCEED() << "checked at compile time";
}

TEST(Group, AZeroGroupWaitsForEveryGoroutineAndReportsSuccess) {
  goro::run([] {
    goro::Group g;
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i) {
      g.go([&ran, i] {
        goro::sleep(std::chrono::microseconds(i % 5 * 100));
        ran.fetch_add(1);
      });
    }
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(ran.load(), 100);
    EXPECT_TRUE(g.try_go([] {}));  // no limit: always
    EXPECT_EQ(g.wait(), nullptr);
  });
}

TEST(Group, AThrownExceptionIsTheError) {
  goro::run([] {
    goro::Group g;
    g.go([] {});
    g.go([] { throw std::runtime_error("fetch failed"); });
    std::exception_ptr err = g.wait();
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(message(err), "fetch failed");
    EXPECT_THROW(std::rethrow_exception(err), std::runtime_error);
  });
}

TEST(Group, AnythingThrownIsAnError) {
  goro::run([] {
    goro::Group g;
    g.go([] { throw 42; });
    std::exception_ptr err = g.wait();
    ASSERT_NE(err, nullptr);
    try {
      std::rethrow_exception(err);
    } catch (int v) {
      EXPECT_EQ(v, 42);
    }
  });
}

TEST(Group, AReturnedExceptionPtrIsTheError) {
  goro::run([] {
    goro::Group g;
    auto mine = std::make_exception_ptr(std::invalid_argument("bad input"));
    g.go([]() -> std::exception_ptr { return nullptr; });  // Go's `return nil`
    g.go([mine]() -> std::exception_ptr { return mine; });
    EXPECT_EQ(g.wait(), mine);  // the very same error value
  });
}

TEST(Group, ReturningNullIsSuccess) {
  goro::run([] {
    goro::Group g;
    for (int i = 0; i < 10; ++i) g.go([]() -> std::exception_ptr { return nullptr; });
    EXPECT_EQ(g.wait(), nullptr);
  });
}

TEST(Group, TheFirstErrorWinsAndLaterOnesAreDropped) {
  goro::run([] {
    auto [g, ctx] = goro::Group::with_context(goro::background());
    auto first = std::make_exception_ptr(std::runtime_error("first"));
    // These fail only after the context was cancelled by the first error.
    for (int i = 0; i < 5; ++i) {
      g.go([ctx = ctx, i]() -> std::exception_ptr {
        ctx.done().recv();
        return std::make_exception_ptr(std::runtime_error("later " + std::to_string(i)));
      });
    }
    g.go([first] { std::rethrow_exception(first); });
    EXPECT_EQ(g.wait(), first);
    EXPECT_EQ(goro::cause(ctx), first);
  });
}

TEST(Group, TheFirstErrorCancelsTheContextAtOnceWithItAsTheCause) {
  goro::run([] {
    auto [g, ctx] = goro::Group::with_context(goro::background());
    EXPECT_EQ(ctx.err(), nullptr);
    Gate hold;
    g.go([&hold] { hold.wait(); });  // keeps wait() from returning
    g.go([] { throw std::runtime_error("boom"); });
    // Cancelled before anybody called wait().
    ctx.done().recv();
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(message(goro::cause(ctx)), "boom");
    hold.open();
    std::exception_ptr err = g.wait();
    EXPECT_EQ(err, goro::cause(ctx));  // wait() cancels again: the first cause stays
  });
}

TEST(Group, WaitCancelsTheContextOnSuccessToo) {
  goro::run([] {
    auto [g, ctx] = goro::Group::with_context(goro::background());
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) g.go([&ran] { ran.fetch_add(1); });
    ASSERT_TRUE(eventually([&] { return ran.load() == 10; }));
    EXPECT_EQ(ctx.err(), nullptr) << "cancelled before wait()";
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(goro::cause(ctx), goro::canceled());
  });
}

TEST(Group, TheContextIsAChildOfTheParent) {
  goro::run([] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    auto [g, ctx] = goro::Group::with_context(parent);
    g.go([ctx = ctx] {
      ctx.done().recv();
      ctx.throw_if_done();  // the parent's cancellation becomes the error
    });
    cancel_parent();
    EXPECT_EQ(g.wait(), goro::canceled());
    EXPECT_EQ(parent.err(), goro::canceled());
  });
}

TEST(Group, AGroupErrorNeverCancelsTheParent) {
  goro::run([] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    auto [g, ctx] = goro::Group::with_context(parent);
    g.go([] { throw std::runtime_error("child failed"); });
    EXPECT_NE(g.wait(), nullptr);
    EXPECT_NE(ctx.err(), nullptr);
    EXPECT_EQ(parent.err(), nullptr);
  });
}

TEST(Group, SetLimitBoundsTheActiveGoroutines) {
  const int kTasks = static_cast<int>(scaled(200, 100, 50));
  goro::run([&] {
    goro::Group g;
    g.set_limit(3);
    std::atomic<int> active{0};
    std::atomic<int> max_active{0};
    std::atomic<int> ran{0};
    for (int i = 0; i < kTasks; ++i) {
      g.go([&] {
        int now = active.fetch_add(1) + 1;
        for (int m = max_active.load(); now > m && !max_active.compare_exchange_weak(m, now);) {
        }
        goro::yield();
        if (ran.load() % 10 == 0) goro::sleep(100us);
        active.fetch_sub(1);
        ran.fetch_add(1);
      });
    }
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(ran.load(), kTasks);
    EXPECT_LE(max_active.load(), 3);
    EXPECT_GE(max_active.load(), 1);
  });
}

TEST(Group, GoBlocksAtTheLimitWaitingInChanSendLikeErrgroup) {
  goro::run([] {
    goro::Group g;
    g.set_limit(2);
    Gate gate;
    std::atomic<int> running{0};
    auto task = [&] {
      running.fetch_add(1);
      gate.wait();
    };
    g.go(task);
    g.go(task);
    ASSERT_TRUE(eventually([&] { return running.load() == 2; }));
    std::atomic<bool> third_started{false};
    std::uint64_t spawner = go_with_id([&] {
      g.go(task);  // errgroup's `g.sem <- token{}`
      third_started = true;
    });
    EXPECT_TRUE(parks_with(spawner, "chan send"));
    EXPECT_TRUE(still_parked_with(spawner, "chan send"));
    EXPECT_EQ(running.load(), 2);
    gate.open();
    ASSERT_TRUE(eventually([&] { return third_started.load(); }));
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(running.load(), 3);
  });
}

TEST(Group, TryGoStartsOnlyBelowTheLimit) {
  goro::run([] {
    goro::Group g;
    g.set_limit(1);
    Gate gate;
    std::atomic<int> ran{0};
    EXPECT_TRUE(g.try_go([&] {
      gate.wait();
      ran.fetch_add(1);
    }));
    bool rejected_ran = false;
    EXPECT_FALSE(g.try_go([&] { rejected_ran = true; }));
    gate.open();
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_FALSE(rejected_ran);
    EXPECT_TRUE(g.try_go([&] { ran.fetch_add(1); }));
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(ran.load(), 2);
  });
}

TEST(Group, ALimitOfZeroLetsNothingStart) {
  goro::run([] {
    goro::Group g;
    g.set_limit(0);
    EXPECT_FALSE(g.try_go([] { ADD_FAILURE() << "started at limit 0"; }));
    // (go() would block forever, as a send on an unbuffered channel nobody
    // receives from does in errgroup.)
    g.set_limit(-1);
    EXPECT_TRUE(g.try_go([] {}));
    EXPECT_EQ(g.wait(), nullptr);
  });
}

TEST(Group, ChangingTheLimitWhileGoroutinesAreActiveThrowsErrgroupsPanicText) {
  goro::run([] {
    goro::Group g;
    g.set_limit(2);
    Gate gate;
    g.go([&gate] { gate.wait(); });
    g.go([&gate] { gate.wait(); });
    EXPECT_TRUE(throws_go_error([&] { g.set_limit(5); },
                                "errgroup: modify limit while 2 goroutines in the group are still active"));
    EXPECT_TRUE(throws_go_error([&] { g.set_limit(0); },
                                "errgroup: modify limit while 2 goroutines in the group are still active"));
    // The limit stayed 2.
    EXPECT_FALSE(g.try_go([] {}));
    gate.open();
    EXPECT_EQ(g.wait(), nullptr);
    g.set_limit(1);  // nothing active any more
    EXPECT_TRUE(g.try_go([] {}));
    EXPECT_EQ(g.wait(), nullptr);
  });
}

TEST(Group, RemovingTheLimitIsAllowedWhileGoroutinesRun) {
  // errgroup's SetLimit(-1) does not check: the running goroutines give
  // their tokens back to the channel they took them from.
  goro::run([] {
    goro::Group g;
    g.set_limit(1);
    Gate gate;
    g.go([&gate] { gate.wait(); });
    g.set_limit(-1);
    std::atomic<int> ran{0};
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(g.try_go([&ran] { ran.fetch_add(1); }));
    gate.open();
    EXPECT_EQ(g.wait(), nullptr);
    EXPECT_EQ(ran.load(), 5);
    g.set_limit(3);
    EXPECT_EQ(g.wait(), nullptr);
  });
}

TEST(Group, GoroutinesOfTheGroupMayAddMore) {
  goro::run([] {
    goro::Group g;
    std::atomic<int> ran{0};
    g.go([&] {
      for (int i = 0; i < 10; ++i) {
        g.go([&] {
          if (ran.fetch_add(1) + 1 == 5) throw std::runtime_error("fifth");
        });
      }
    });
    std::exception_ptr err = g.wait();
    EXPECT_EQ(ran.load(), 10);
    EXPECT_EQ(message(err), "fifth");
  });
}

TEST(Group, WorksFromPlainThreads) {
  goro::Group g;  // no goro::run: this test's thread is a plain thread
  std::atomic<int> ran{0};
  g.set_limit(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) g.go([&ran] { ran.fetch_add(1); });  // may block this thread
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g.wait(), nullptr);
  EXPECT_EQ(ran.load(), 60);
}

// Counts its live copies.
struct Counted {
  static inline std::atomic<int> live{0};
  Counted() { live.fetch_add(1); }
  Counted(const Counted&) { live.fetch_add(1); }
  ~Counted() { live.fetch_sub(1); }
};

TEST(Group, TheFunctionAndItsCapturesAreGoneWhenWaitReturns) {
  goro::run([] {
    for (int i = 0; i < 20; ++i) {
      goro::Group g;
      g.go([c = Counted()] { goro::yield(); });
      EXPECT_EQ(g.wait(), nullptr);
      EXPECT_EQ(Counted::live.load(), 0) << "the goroutine's copy outlived wait()";
    }
  });
}

TEST(Group, TheDestructorWaitsForTheGoroutines) {
  goro::run([] {
    std::atomic<int> finished{0};
    {
      goro::Group g;
      for (int i = 0; i < 5; ++i) {
        g.go([&finished] {
          goro::sleep(2ms);
          finished.fetch_add(1);
        });
      }
    }  // no wait(): the destructor waits
    EXPECT_EQ(finished.load(), 5);
  });
}

TEST(Group, WithoutWaitTheDestructorCancelsTheContextFirst) {
  // Leaving the scope early (here by an exception) must not hang on
  // goroutines that wait for the group's context.
  goro::run([] {
    goro::Context seen;
    std::atomic<bool> released{false};
    try {
      auto [g, ctx] = goro::Group::with_context(goro::background());
      seen = ctx;
      g.go([ctx = ctx, &released] {
        ctx.done().recv();
        released = true;
      });
      throw std::runtime_error("caller fails before wait()");
    } catch (const std::runtime_error&) {
    }
    EXPECT_TRUE(released.load());
    EXPECT_EQ(seen.err(), goro::canceled());
    EXPECT_EQ(goro::cause(seen), goro::canceled());
  });
}

TEST(Group, AGoroutineThatCannotStartLeavesTheGroupUnchanged) {
  struct ThrowsOnCopy {
    ThrowsOnCopy() = default;
    ThrowsOnCopy(const ThrowsOnCopy&) { throw std::runtime_error("copy failed"); }
    void operator()() const {}
  };
  goro::run([] {
    goro::Group g;
    g.set_limit(1);
    const ThrowsOnCopy fn;
    EXPECT_THROW(g.go(fn), std::runtime_error);
    EXPECT_THROW(g.try_go(fn), std::runtime_error);
    // The token was given back and nothing is counted: the limit's one slot
    // is free, wait() returns at once, and the limit may change.
    EXPECT_TRUE(g.try_go([] {}));
    EXPECT_EQ(g.wait(), nullptr);
    g.set_limit(2);
  });
}

TEST(Group, StressManyFailingGoroutinesUnderALimit) {
  const int kTasks = static_cast<int>(scaled(5000, 1000, 500));
  goro::run([&] {
    for (int round = 0; round < 4; ++round) {
      auto [g, ctx] = goro::Group::with_context(goro::background());
      g.set_limit(round == 0 ? -1 : round * 3);
      std::atomic<int> ran{0};
      for (int i = 0; i < kTasks; ++i) {
        g.go([&ran, i]() -> std::exception_ptr {
          ran.fetch_add(1);
          if (i % 97 == 13) return std::make_exception_ptr(std::runtime_error("task " + std::to_string(i)));
          if (i % 5 == 0) goro::yield();
          return nullptr;
        });
      }
      std::exception_ptr err = g.wait();
      EXPECT_EQ(ran.load(), kTasks);
      ASSERT_NE(err, nullptr);
      EXPECT_EQ(message(err).rfind("task ", 0), 0u);
      EXPECT_EQ(goro::cause(ctx), err);
    }
  });
}

}  // namespace
