// goro::Limiter: never more than `max` slots held or goroutines running;
// try_go/try_acquire reject when full; RAII slots released by scope exit,
// release() and move assignment, never twice; acquire(ctx)/go(ctx) fail
// with ctx.err(); waiters park with "semacquire"; a slot is given back even
// when starting the goroutine fails; a panicking fn ends the process.
#include <gtest/gtest.h>
#include <goro/goro.h>
#include <goro/limiter.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
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
using testing::ExitedWithCode;

using goro_test::Gate;

TEST(Limiter, TypesAreWhatRaiiNeeds) {
  static_assert(!std::is_copy_constructible_v<goro::Limiter>);
  static_assert(!std::is_move_constructible_v<goro::Limiter>);
  static_assert(!std::is_copy_constructible_v<goro::Limiter::Slot>);
  static_assert(std::is_nothrow_move_constructible_v<goro::Limiter::Slot>);
  static_assert(std::is_nothrow_move_assignable_v<goro::Limiter::Slot>);
  SUCCEED() << "checked at compile time";
}

TEST(Limiter, AZeroLimitIsRejected) {
  EXPECT_THROW(goro::Limiter(0), goro::Error);
  goro::Limiter one(1);
  EXPECT_EQ(one.limit(), 1u);
  EXPECT_EQ(one.active(), 0u);
}

TEST(Limiter, NeverMoreThanMaxGoroutinesRunAtOnce) {
  const int kTasks = static_cast<int>(scaled(500, 200, 100));
  goro::run([&] {
    std::atomic<int> running{0};
    std::atomic<int> max_running{0};
    std::atomic<int> over{0};
    goro::WaitGroup done;
    goro::Limiter limit(4);
    for (int i = 0; i < kTasks; ++i) {
      done.add(1);
      limit.go([&, i] {
        int now = running.fetch_add(1) + 1;
        if (now > 4 || limit.active() > 4) over.fetch_add(1);
        for (int m = max_running.load(); now > m && !max_running.compare_exchange_weak(m, now);) {
        }
        if (i % 3 == 0) goro::yield();
        if (i % 50 == 0) goro::sleep(200us);
        running.fetch_sub(1);
        done.done();
      });
    }
    done.wait();
    EXPECT_EQ(over.load(), 0);
    EXPECT_LE(max_running.load(), 4);
    EXPECT_GE(max_running.load(), 1);
  });
}

TEST(Limiter, GoWaitsForAFreeSlotParkedInSemacquire) {
  goro::run([] {
    goro::Limiter limit(2);
    Gate gate;
    std::atomic<int> started{0};
    auto task = [&] {
      started.fetch_add(1);
      gate.wait();
    };
    limit.go(task);
    limit.go(task);
    ASSERT_TRUE(eventually([&] { return started.load() == 2; }));
    EXPECT_EQ(limit.active(), 2u);
    std::atomic<bool> third{false};
    std::uint64_t spawner = go_with_id([&] {
      limit.go(task);
      third = true;
    });
    EXPECT_TRUE(parks_with(spawner, "semacquire"));
    EXPECT_TRUE(still_parked_with(spawner, "semacquire"));
    EXPECT_EQ(started.load(), 2);
    gate.open();
    ASSERT_TRUE(eventually([&] { return third.load() && limit.active() == 0; }));
    EXPECT_EQ(started.load(), 3);
  });
}

TEST(Limiter, TryGoRejectsWhenFullWithoutStartingFn) {
  goro::run([] {
    goro::Limiter limit(2);
    Gate gate;
    EXPECT_TRUE(limit.try_go([&gate] { gate.wait(); }));
    EXPECT_TRUE(limit.try_go([&gate] { gate.wait(); }));
    std::atomic<bool> rejected_ran{false};
    EXPECT_FALSE(limit.try_go([&] { rejected_ran = true; }));
    EXPECT_EQ(limit.active(), 2u);
    gate.open();
    ASSERT_TRUE(eventually([&] { return limit.active() == 0; }));
    std::atomic<bool> ran{false};
    EXPECT_TRUE(limit.try_go([&] { ran = true; }));
    ASSERT_TRUE(eventually([&] { return ran.load(); }));
    goro::sleep(1ms);
    EXPECT_FALSE(rejected_ran.load());
  });
}

TEST(Limiter, ASlotIsReleasedAtScopeExit) {
  goro::Limiter limit(2);
  {
    goro::Limiter::Slot a = limit.acquire();
    EXPECT_TRUE(a.held());
    EXPECT_EQ(limit.active(), 1u);
    {
      auto b = limit.try_acquire();
      ASSERT_TRUE(b.has_value());
      EXPECT_EQ(limit.active(), 2u);
      EXPECT_FALSE(limit.try_acquire().has_value());  // full
    }
    EXPECT_EQ(limit.active(), 1u);
  }
  EXPECT_EQ(limit.active(), 0u);
}

TEST(Limiter, ASlotIsReleasedWhenAnExceptionLeavesTheScope) {
  goro::Limiter limit(1);
  try {
    goro::Limiter::Slot s = limit.acquire();
    throw std::runtime_error("handler failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(limit.active(), 0u);
  EXPECT_TRUE(limit.try_acquire().has_value());
}

TEST(Limiter, MovingASlotMovesTheDutyToReleaseIt) {
  goro::Limiter limit(3);
  goro::Limiter::Slot a = limit.acquire();
  goro::Limiter::Slot b(std::move(a));
  EXPECT_FALSE(a.held());  // NOLINT(bugprone-use-after-move): moved from is empty
  EXPECT_TRUE(b.held());
  EXPECT_EQ(limit.active(), 1u);
  a.release();  // an empty slot releases nothing
  EXPECT_EQ(limit.active(), 1u);

  goro::Limiter::Slot c = limit.acquire();
  EXPECT_EQ(limit.active(), 2u);
  c = std::move(b);  // c's own slot is released, b's moves in
  EXPECT_EQ(limit.active(), 1u);
  EXPECT_TRUE(c.held());
  EXPECT_FALSE(b.held());  // NOLINT(bugprone-use-after-move)
  goro::Limiter::Slot& same = c;
  c = std::move(same);  // self-move keeps it
  EXPECT_TRUE(c.held());
  EXPECT_EQ(limit.active(), 1u);

  c.release();
  EXPECT_FALSE(c.held());
  EXPECT_EQ(limit.active(), 0u);
  c.release();  // idempotent
  EXPECT_EQ(limit.active(), 0u);

  goro::Limiter::Slot empty;
  EXPECT_FALSE(empty);
}

TEST(Limiter, AcquireWaitsForAReleaseParkedInSemacquire) {
  goro::run([] {
    goro::Limiter limit(1);
    auto held = limit.acquire();
    std::atomic<bool> got{false};
    std::uint64_t waiter = go_with_id([&] {
      auto s = limit.acquire();
      got = true;
    });
    EXPECT_TRUE(parks_with(waiter, "semacquire"));
    EXPECT_FALSE(got.load());
    held.release();
    ASSERT_TRUE(eventually([&] { return got.load() && limit.active() == 0; }));
  });
}

TEST(Limiter, AcquireWithAContextFailsWhenItIsCancelled) {
  goro::run([] {
    goro::Limiter limit(1);
    auto held = limit.acquire();
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    std::atomic<int> outcome{0};  // 1: nullopt with ctx.err() == canceled(), 2: got a slot
    std::uint64_t waiter = go_with_id([&, ctx = ctx] {
      std::optional<goro::Limiter::Slot> s = limit.acquire(ctx);
      outcome = !s.has_value() && ctx.err() == goro::canceled() ? 1 : 2;
    });
    EXPECT_TRUE(parks_with(waiter, "semacquire"));
    cancel();
    ASSERT_TRUE(eventually([&] { return outcome.load() != 0; }));
    EXPECT_EQ(outcome.load(), 1);
    EXPECT_EQ(limit.active(), 1u);  // only ours
    held.release();
    EXPECT_EQ(limit.active(), 0u);
  });
}

TEST(Limiter, AcquireWithADoneContextFailsEvenWhenASlotIsFree) {
  goro::Limiter limit(2);
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  cancel();
  EXPECT_FALSE(limit.acquire(ctx).has_value());
  EXPECT_EQ(limit.active(), 0u);
  auto s = limit.acquire(goro::background());  // never ends: a plain wait
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(limit.active(), 1u);
}

TEST(Limiter, GoWithAContextReturnsCtxErrAndDoesNotStartFn) {
  goro::run([] {
    goro::Limiter limit(1);
    auto held = limit.acquire();
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 20ms);
    std::atomic<bool> ran{false};
    std::exception_ptr err = limit.go(ctx, [&ran] { ran = true; });
    EXPECT_EQ(err, goro::deadline_exceeded());
    goro::sleep(1ms);
    EXPECT_FALSE(ran.load());
    EXPECT_EQ(limit.active(), 1u);
    held.release();
    EXPECT_EQ(limit.go(goro::background(), [&ran] { ran = true; }), nullptr);
    ASSERT_TRUE(eventually([&] { return ran.load() && limit.active() == 0; }));
  });
}

// Counts its live copies; reports the limiter's active count when the last
// one goes.
struct Witness {
  static inline std::atomic<int> live{0};
  static inline std::atomic<long> active_at_last_destruction{-1};
  const goro::Limiter* limit;
  explicit Witness(const goro::Limiter* l) : limit(l) { live.fetch_add(1); }
  Witness(const Witness& o) : limit(o.limit) { live.fetch_add(1); }
  ~Witness() {
    if (live.fetch_sub(1) == 1) active_at_last_destruction = static_cast<long>(limit->active());
  }
};

TEST(Limiter, TheGoroutineHoldsItsSlotUntilFnAndItsCapturesAreGone) {
  goro::run([] {
    goro::Limiter limit(1);
    Gate gate;
    {
      Witness w(&limit);
      limit.go([w, &gate] { gate.wait(); });
    }
    gate.open();  // the goroutine's copy is the last one now
    ASSERT_TRUE(eventually([&] { return Witness::live.load() == 0 && limit.active() == 0; }));
    // When the goroutine's copy of fn died, the slot was still held.
    EXPECT_EQ(Witness::active_at_last_destruction.load(), 1);
  });
}

TEST(Limiter, ASlotIsGivenBackWhenTheGoroutineCannotStart) {
  struct ThrowsOnCopy {
    ThrowsOnCopy() = default;
    ThrowsOnCopy(const ThrowsOnCopy&) { throw std::runtime_error("copy failed"); }
    void operator()() const {}
  };
  goro::Limiter limit(1);
  const ThrowsOnCopy fn;
  EXPECT_THROW(limit.go(fn), std::runtime_error);
  EXPECT_EQ(limit.active(), 0u);
  EXPECT_THROW(limit.try_go(fn), std::runtime_error);
  EXPECT_EQ(limit.active(), 0u);
  EXPECT_THROW((void)limit.go(goro::background(), fn), std::runtime_error);
  EXPECT_EQ(limit.active(), 0u);
}

TEST(Limiter, TheDestructorWaitsForHeldSlots) {
  goro::run([] {
    std::atomic<int> finished{0};
    {
      goro::Limiter limit(3);
      for (int i = 0; i < 6; ++i) {
        limit.go([&finished] {
          goro::sleep(2ms);
          finished.fetch_add(1);
        });
      }
    }  // waits for the last three
    EXPECT_EQ(finished.load(), 6);
  });
}

TEST(Limiter, PlainThreadsAndGoroutinesShareALimiter) {
  const int kRounds = static_cast<int>(scaled(300, 100, 50));
  goro::Limiter limit(2);
  std::atomic<int> inside{0};
  std::atomic<int> over{0};
  auto critical = [&] {
    if (inside.fetch_add(1) + 1 > 2) over.fetch_add(1);
    goro::yield();
    inside.fetch_sub(1);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto s = limit.acquire();  // blocks this thread
        critical();
      }
    });
  }
  goro::WaitGroup wg;
  for (int g = 0; g < 3; ++g) {
    wg.go([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto s = limit.acquire();
        critical();
      }
    });
  }
  for (auto& t : threads) t.join();
  wg.wait();
  EXPECT_EQ(over.load(), 0);
  EXPECT_EQ(limit.active(), 0u);
}

void panicking_limited_goroutine() {
  static goro::Limiter limit(1);
  limit.go([] { throw goro::Error("limited task failed"); });
  goro::sleep(goro_test::kPatience);
}

TEST(LimiterDeathTest, AnExceptionEscapingFnIsAGoroutinePanic) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(panicking_limited_goroutine), ExitedWithCode(2),
              goro_test::go_panic_pattern("limited task failed"));
}

}  // namespace
