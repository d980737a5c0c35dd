// goro::Pool, tunny's worker pool: every job processed exactly once with its
// own result, from goroutines and plain threads; errors reach the caller;
// ProcessTimed / ProcessCtx with tunny's interrupt rule (only once a worker
// was handed the job) and no late result ever delivered; QueueLength;
// SetSize growing and shrinking under load (removed workers finish their
// job, then terminate; block_until_ready honoured); Close and tunny's
// "the pool is not running"; Go's wait reasons for workers and callers.
#include <gtest/gtest.h>
#include <goro/goro.h>
#include <goro/pool.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"
#include "support/tracked.h"

namespace {

using namespace std::chrono_literals;
using goro::Empty;
using goro_test::eventually;
using goro_test::go_with_id;
using goro_test::parks_with;
using goro_test::scaled;
using goro_test::still_parked_with;

// A gate jobs wait at until the test opens it (closes the channel).
using goro_test::Gate;

// What the workers of a pool did, counted.
struct Counters {
  std::atomic<int> made{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> started{0};    // process() entered
  std::atomic<int> finished{0};   // process() returned
  std::atomic<int> in_process{0};
  std::atomic<int> interrupted{0};
  std::atomic<int> terminated{0};
  std::atomic<int> max_in_process{0};
};

// A worker that counts everything, optionally waits at a gate in process()
// and, for negative payloads, until it is interrupted. Its result names it:
// payload * 10.
class TestWorker : public goro::PoolWorker<int, int> {
 public:
  TestWorker(Counters& c, const Gate* gate) : c_(c), gate_(gate) { c_.made.fetch_add(1); }
  ~TestWorker() override { c_.destroyed.fetch_add(1); }

  int process(int x) override {
    c_.started.fetch_add(1);
    int now = c_.in_process.fetch_add(1) + 1;
    for (int m = c_.max_in_process.load(); now > m && !c_.max_in_process.compare_exchange_weak(m, now);) {
    }
    last_goroutine.store(goro::id());
    if (gate_ != nullptr) gate_->wait();
    int result = x * 10;
    if (x < 0) {
      // "Slow" job: runs until interrupted (bounded, so a bug cannot hang).
      goro::select(goro::recv(interrupts_), goro::recv(goro::after(goro_test::kPatience)));
      result = 999'999;  // the late result nobody may receive
    }
    c_.in_process.fetch_sub(1);
    c_.finished.fetch_add(1);
    return result;
  }
  void interrupt() override {
    c_.interrupted.fetch_add(1);
    interrupts_.try_send(Empty{});
  }
  void terminate() override { c_.terminated.fetch_add(1); }

  std::atomic<std::uint64_t> last_goroutine{0};

 private:
  Counters& c_;
  const Gate* gate_;
  goro::Chan<Empty> interrupts_ = goro::make_chan<Empty>(1);
};

using IntPool = goro::Pool<int, int>;

IntPool::WorkerFactory factory(Counters& c, const Gate* gate = nullptr) {
  return [&c, gate] { return std::make_unique<TestWorker>(c, gate); };
}

// --- basics ------------------------------------------------------------------------

TEST(Pool, IsNeitherCopyableNorMovable) {
  static_assert(!std::is_copy_constructible_v<IntPool>);
  static_assert(!std::is_move_constructible_v<IntPool>);
  static_assert(std::is_base_of_v<goro::Error, goro::JobTimedOut>);
  static_assert(std::is_base_of_v<goro::Error, goro::PoolClosed>);
  SUCCEED() << "checked at compile time";
}

TEST(Pool, ErrorsCarryTunnysMessages) {
  EXPECT_STREQ(goro::JobTimedOut().what(), "job request timed out");
  EXPECT_STREQ(goro::PoolClosed().what(), "the pool is not running");
}

TEST(Pool, ProcessReturnsTheFunctionsResult) {
  goro::run([] {
    goro::Pool<std::string, std::size_t> pool(2, [](std::string s) { return s.size(); });
    EXPECT_EQ(pool.size(), 2u);
    EXPECT_EQ(pool.process("hello"), 5u);
    EXPECT_EQ(pool.process(std::string(1000, 'x')), 1000u);
  });
}

TEST(Pool, EmptyFunctionOrFactoryIsRejected) {
  EXPECT_THROW(IntPool(1, std::function<int(int)>()), std::invalid_argument);
  EXPECT_THROW(IntPool(1, IntPool::WorkerFactory()), std::invalid_argument);
  EXPECT_THROW(IntPool(1, [] { return std::unique_ptr<IntPool::Worker>(); }), std::invalid_argument);
}

TEST(Pool, EveryJobIsProcessedExactlyOnceWithItsOwnResult) {
  const int kCallers = static_cast<int>(scaled(32, 16, 8));
  const int kJobs = static_cast<int>(scaled(500, 100, 50));
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(kCallers * kJobs));
  std::atomic<int> wrong{0};
  goro::run([&] {
    IntPool pool(4, [&seen](int x) {
      seen[static_cast<std::size_t>(x)].fetch_add(1);
      if (x % 7 == 0) goro::yield();  // some jobs let others run mid-job
      return 3 * x + 1;
    });
    goro::WaitGroup wg;
    for (int c = 0; c < kCallers; ++c) {
      wg.go([&, c] {
        for (int j = 0; j < kJobs; ++j) {
          int x = c * kJobs + j;
          if (pool.process(x) != 3 * x + 1) wrong.fetch_add(1);
        }
      });
    }
    wg.wait();
    EXPECT_EQ(pool.queue_length(), 0);
  });
  EXPECT_EQ(wrong.load(), 0);
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "job " << i;
}

TEST(Pool, PlainThreadsAndGoroutinesShareAPool) {
  // No goro::run: the pool's workers are goroutines all the same, and
  // process() blocks a plain thread where it would park a goroutine.
  const int kJobs = static_cast<int>(scaled(300, 100, 50));
  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  IntPool pool(3, [](int x) { return x ^ 0x5a5a; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) {
        int x = t * kJobs + j;
        if (pool.process(x) != (x ^ 0x5a5a)) wrong.fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  goro::WaitGroup wg;
  for (int g = 0; g < 4; ++g) {
    wg.go([&, g] {
      for (int j = 0; j < kJobs; ++j) {
        int x = 100'000 + g * kJobs + j;
        if (pool.process(x) != (x ^ 0x5a5a)) wrong.fetch_add(1);
      }
      done.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  wg.wait();  // on this plain thread
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(wrong.load(), 0);
  pool.close();
}

TEST(Pool, AnExceptionFromProcessReachesTheCallerAndTheWorkerKeepsServing) {
  goro::run([] {
    IntPool pool(1, [](int x) {
      if (x < 0) throw std::domain_error("negative payload " + std::to_string(x));
      return x + 1;
    });
    try {
      pool.process(-3);
      ADD_FAILURE() << "process(-3) did not throw";
    } catch (const std::domain_error& e) {
      EXPECT_STREQ(e.what(), "negative payload -3");
    }
    // The only worker survived it.
    EXPECT_EQ(pool.process(41), 42);
    EXPECT_THROW(pool.process(-1), std::domain_error);
    EXPECT_EQ(pool.process(1), 2);
    EXPECT_EQ(pool.queue_length(), 0);
  });
}

TEST(Pool, MoveOnlyPayloadsAndResults) {
  goro::run([] {
    goro::Pool<std::unique_ptr<int>, std::unique_ptr<std::string>> pool(
        2, [](std::unique_ptr<int> p) { return std::make_unique<std::string>(std::to_string(*p)); });
    auto r = pool.process(std::make_unique<int>(1234));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(*r, "1234");
  });
}

TEST(Pool, VoidResults) {
  goro::run([] {
    std::atomic<int> sum{0};
    goro::Pool<int, void> pool(2, [&sum](int x) { sum.fetch_add(x); });
    for (int i = 1; i <= 10; ++i) pool.process(i);
    EXPECT_EQ(sum.load(), 55);
    goro::Pool<int, void> failing(1, [](int) { throw std::runtime_error("void job failed"); });
    EXPECT_THROW(failing.process(1), std::runtime_error);
  });
}

// A type whose move may throw and that has no default constructor: it
// travels boxed.
struct Awkward {
  explicit Awkward(int x) : v(x) {}
  Awkward(const Awkward&) = default;
  Awkward(Awkward&& o) noexcept(false) : v(o.v) {}
  int v;
};

TEST(Pool, TypesWithThrowingMovesOrNoDefaultConstructorWork) {
  static_assert(!std::is_nothrow_move_constructible_v<Awkward>);
  static_assert(!std::is_default_constructible_v<Awkward>);
  goro::run([] {
    goro::Pool<Awkward, Awkward> pool(2, [](Awkward a) { return Awkward(a.v * 2); });
    EXPECT_EQ(pool.process(Awkward(21)).v, 42);
  });
}

TEST(Pool, NoPayloadOrResultIsLeakedOrDestroyedTwice) {
  using goro_test::Tracked;
  long before = Tracked::live.load();
  goro::run([] {
    goro::Pool<Tracked, Tracked> pool(2, [](Tracked t) { return Tracked(t.v + 1); });
    for (int i = 0; i < 100; ++i) EXPECT_EQ(pool.process(Tracked(i)).v, i + 1);
    // Including the results dropped by timeouts (below) and the payloads of
    // callers that gave up.
    goro::Pool<Tracked, Tracked> slow(1, [](Tracked t) {
      goro::sleep(2ms);
      return t;
    });
    for (int i = 0; i < 20; ++i) {
      try {
        slow.process_timeout(Tracked(i), 1ms);
      } catch (const goro::JobTimedOut&) {
      }
    }
  });
  EXPECT_EQ(Tracked::live.load(), before);
}

TEST(Pool, FactoryWorkersAreSeparateObjects) {
  goro::run([] {
    Counters c;
    Gate gate;
    {
      IntPool pool(3, factory(c, &gate));
      EXPECT_EQ(c.made.load(), 3);
      goro::WaitGroup wg;
      for (int i = 0; i < 3; ++i) wg.go([&pool, i] { EXPECT_EQ(pool.process(i), i * 10); });
      // Three jobs run at once: one per worker object.
      ASSERT_TRUE(eventually([&] { return c.in_process.load() == 3; }));
      gate.open();
      wg.wait();
    }
    EXPECT_EQ(c.terminated.load(), 3);
    EXPECT_EQ(c.destroyed.load(), 3);
  });
}

// --- wait reasons and queue length ------------------------------------------------------

TEST(Pool, IdleWorkersWaitInSelectAndCallersWaitingForOneInChanReceive) {
  goro::run([] {
    Counters c;
    Gate gate;
    auto worker_objects = std::make_shared<std::vector<TestWorker*>>();
    IntPool pool(1, [&c, &gate, worker_objects] {
      auto w = std::make_unique<TestWorker>(c, &gate);
      worker_objects->push_back(w.get());
      return w;
    });
    // A caller that keeps the only worker busy...
    std::uint64_t busy = go_with_id([&pool] { EXPECT_EQ(pool.process(1), 10); });
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 1; }));
    EXPECT_TRUE(parks_with(busy, "chan receive"));  // waiting for its result
    // ...so the next one waits for a worker, as tunny's `<-p.reqChan`.
    std::uint64_t queued = go_with_id([&pool] { EXPECT_EQ(pool.process(2), 20); });
    EXPECT_TRUE(parks_with(queued, "chan receive"));
    // A timed caller waits in a select with its timer.
    std::uint64_t timed = go_with_id([&pool] { EXPECT_EQ(pool.process_timeout(3, goro_test::kPatience), 30); });
    EXPECT_TRUE(parks_with(timed, "select"));
    EXPECT_EQ(pool.queue_length(), 3);
    gate.open();
    ASSERT_TRUE(eventually([&] { return c.finished.load() == 3 && pool.queue_length() == 0; }));
    // The worker goroutine, idle again, waits in tunny's select on reqChan
    // and closeChan.
    std::uint64_t worker_goroutine = worker_objects->at(0)->last_goroutine.load();
    ASSERT_NE(worker_goroutine, 0u);
    EXPECT_TRUE(parks_with(worker_goroutine, "select"));
  });
}

TEST(Pool, QueueLengthCountsCallersWaitingAndBeingServed) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(1, factory(c, &gate));
    EXPECT_EQ(pool.queue_length(), 0);
    goro::WaitGroup wg;
    for (int i = 0; i < 5; ++i) wg.go([&pool, i] { EXPECT_EQ(pool.process(i), 10 * i); });
    ASSERT_TRUE(eventually([&] { return pool.queue_length() == 5; }));
    EXPECT_EQ(c.in_process.load(), 1);
    gate.open();
    wg.wait();
    EXPECT_EQ(pool.queue_length(), 0);
  });
}

// --- process_timeout ------------------------------------------------------------------------

TEST(Pool, ProcessTimeoutGivesUpWhileWaitingForAWorkerWithoutInterrupting) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(1, factory(c, &gate));
    goro::WaitGroup wg;
    wg.go([&pool] { EXPECT_EQ(pool.process(7), 70); });  // holds the only worker
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 1; }));
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(goro_test::throws_go_error([&] { pool.process_timeout(8, 20ms); }, "job request timed out"));
    EXPECT_GE(goro_test::ms_since(start), 20.0);
    // The job never reached a worker: nobody was interrupted, the busy job
    // goes on undisturbed.
    EXPECT_EQ(c.interrupted.load(), 0);
    EXPECT_EQ(c.started.load(), 1);
    gate.open();
    wg.wait();
    EXPECT_EQ(c.started.load(), 1) << "the timed-out job ran after all";
    EXPECT_EQ(pool.queue_length(), 0);
  });
}

TEST(Pool, ProcessTimeoutInterruptsAStartedJobAndDropsItsLateResult) {
  goro::run([] {
    Counters c;
    IntPool pool(1, factory(c));
    // -1 runs until interrupted (then "returns" a late result). (On a
    // badly overloaded machine the timeout may even come between the
    // worker's offer and its taking the job: tunny interrupts then too.)
    EXPECT_THROW(pool.process_timeout(-1, 20ms), goro::JobTimedOut);
    EXPECT_EQ(c.interrupted.load(), 1);
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 0 && c.finished.load() == c.started.load(); }));
    // The same worker serves the next caller, who gets its own result, not
    // the late one.
    EXPECT_EQ(pool.process(5), 50);
    EXPECT_EQ(pool.process_timeout(6, goro_test::kPatience), 60);
    EXPECT_EQ(c.interrupted.load(), 1);
    EXPECT_EQ(pool.queue_length(), 0);
  });
}

TEST(Pool, ANonPositiveTimeoutFailsAtOnceWithoutTakingAWorker) {
  goro::run([] {
    Counters c;
    IntPool pool(1, factory(c));
    EXPECT_THROW(pool.process_timeout(1, 0ms), goro::JobTimedOut);
    EXPECT_THROW(pool.process_timeout(1, -5s), goro::JobTimedOut);
    EXPECT_EQ(c.started.load(), 0);
    EXPECT_EQ(c.interrupted.load(), 0);
  });
}

TEST(Pool, ProcessTimeoutRethrowsTheWorkersException) {
  goro::run([] {
    IntPool pool(1, [](int) -> int { throw std::logic_error("bad job"); });
    EXPECT_THROW(pool.process_timeout(1, goro_test::kPatience), std::logic_error);
  });
}

// --- process_ctx ------------------------------------------------------------------------------

TEST(Pool, ProcessCtxCancelledWhileWaitingForAWorkerRethrowsCtxErr) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(1, factory(c, &gate));
    goro::WaitGroup wg;
    wg.go([&pool] { EXPECT_EQ(pool.process(1), 10); });
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 1; }));
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    std::atomic<bool> threw_canceled{false};
    std::uint64_t caller = go_with_id([&, ctx = ctx] {
      try {
        pool.process_ctx(ctx, 2);
      } catch (...) {
        threw_canceled = std::current_exception() == goro::canceled();
      }
    });
    EXPECT_TRUE(parks_with(caller, "select"));
    cancel();
    ASSERT_TRUE(eventually([&] { return threw_canceled.load(); }));
    EXPECT_EQ(c.interrupted.load(), 0);
    gate.open();
    wg.wait();
    EXPECT_EQ(c.started.load(), 1);
  });
}

TEST(Pool, ProcessCtxCancelledWhileTheJobRunsInterruptsTheWorker) {
  goro::run([] {
    Counters c;
    IntPool pool(1, factory(c));
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    std::atomic<bool> threw_canceled{false};
    goro::WaitGroup wg;
    wg.go([&, ctx = ctx] {
      try {
        pool.process_ctx(ctx, -1);  // runs until interrupted
      } catch (const goro::ContextCanceled&) {
        threw_canceled = true;
      }
    });
    ASSERT_TRUE(eventually([&] { return c.started.load() == 1; }));
    cancel();
    wg.wait();
    EXPECT_TRUE(threw_canceled.load());
    EXPECT_EQ(c.interrupted.load(), 1);
    EXPECT_EQ(pool.process_ctx(goro::background(), 4), 40);  // the worker serves on
  });
}

TEST(Pool, ProcessCtxDeadlineRethrowsDeadlineExceeded) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(1, factory(c, &gate));
    goro::WaitGroup wg;
    wg.go([&pool] { pool.process(1); });
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 1; }));
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 20ms);
    try {
      pool.process_ctx(ctx, 2);
      ADD_FAILURE() << "did not throw";
    } catch (...) {
      EXPECT_EQ(std::current_exception(), goro::deadline_exceeded());
    }
    gate.open();
    wg.wait();
  });
}

TEST(Pool, ProcessCtxWithADoneContextFailsWithoutTakingAWorker) {
  goro::run([] {
    Counters c;
    IntPool pool(2, factory(c));
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    cancel();
    EXPECT_THROW(pool.process_ctx(ctx, 1), goro::ContextCanceled);
    EXPECT_EQ(c.started.load(), 0);
    EXPECT_EQ(pool.queue_length(), 0);
    // A context that can never end: a plain wait.
    EXPECT_EQ(pool.process_ctx(goro::background(), 3), 30);
  });
}

// --- set_size ---------------------------------------------------------------------------------

TEST(Pool, GrowingStartsWorkersForWaitingCallers) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(1, factory(c, &gate));
    goro::WaitGroup wg;
    for (int i = 0; i < 4; ++i) wg.go([&pool, i] { EXPECT_EQ(pool.process(i), 10 * i); });
    ASSERT_TRUE(eventually([&] { return pool.queue_length() == 4 && c.in_process.load() == 1; }));
    pool.set_size(4);
    EXPECT_EQ(pool.size(), 4u);
    EXPECT_EQ(c.made.load(), 4);
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 4; }));
    gate.open();
    wg.wait();
  });
}

TEST(Pool, ShrinkingTerminatesAndDestroysTheRemovedWorkers) {
  goro::run([] {
    Counters c;
    IntPool pool(4, factory(c));
    pool.set_size(1);
    EXPECT_EQ(pool.size(), 1u);
    EXPECT_EQ(c.terminated.load(), 3);
    EXPECT_EQ(c.destroyed.load(), 3);
    EXPECT_EQ(pool.process(2), 20);
    pool.set_size(1);  // no change
    EXPECT_EQ(c.made.load(), 4);
    pool.set_size(3);
    EXPECT_EQ(c.made.load(), 6);
    EXPECT_EQ(pool.process(3), 30);
  });
}

TEST(Pool, ARemovedWorkerFinishesItsJobBeforeItTerminates) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(2, factory(c, &gate));
    goro::WaitGroup wg;
    for (int i = 1; i <= 2; ++i) wg.go([&pool, i] { EXPECT_EQ(pool.process(i), 10 * i); });
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 2; }));
    std::atomic<bool> resized{false};
    std::uint64_t resizer = go_with_id([&] {
      pool.set_size(0);
      resized = true;
    });
    // tunny's join: `<-w.closedChan`, while both workers still work.
    EXPECT_TRUE(parks_with(resizer, "chan receive"));
    EXPECT_TRUE(still_parked_with(resizer, "chan receive"));
    EXPECT_EQ(c.terminated.load(), 0);
    gate.open();
    wg.wait();  // both callers got their results
    ASSERT_TRUE(eventually([&] { return resized.load(); }));
    EXPECT_EQ(c.finished.load(), 2);
    EXPECT_EQ(c.terminated.load(), 2);
    EXPECT_EQ(c.destroyed.load(), 2);
    EXPECT_EQ(pool.size(), 0u);
    // With no workers callers wait, until a worker comes back.
    std::uint64_t waiting = go_with_id([&pool] { EXPECT_EQ(pool.process(5), 50); });
    EXPECT_TRUE(parks_with(waiting, "chan receive"));
    pool.set_size(1);
    ASSERT_TRUE(eventually([&] { return c.finished.load() == 3; }));
  });
}

// A worker that is ready only when the test hands it a ticket.
class TicketWorker : public goro::PoolWorker<int, int> {
 public:
  TicketWorker(goro::Chan<Empty> tickets, std::atomic<int>& processed) : tickets_(tickets), processed_(processed) {}
  void block_until_ready() override { tickets_.recv(); }  // a closed channel: always ready
  int process(int x) override {
    processed_.fetch_add(1);
    return -x;
  }

 private:
  goro::Chan<Empty> tickets_;
  std::atomic<int>& processed_;
};

TEST(Pool, BlockUntilReadyIsHonouredBeforeEveryJob) {
  goro::run([] {
    auto tickets = goro::make_chan<Empty>(8);
    std::atomic<int> processed{0};
    IntPool pool(1, [&] { return std::make_unique<TicketWorker>(tickets, processed); });
    std::atomic<int> results{0};
    std::uint64_t caller = go_with_id([&] {
      EXPECT_EQ(pool.process(1), -1);
      results.fetch_add(1);
      EXPECT_EQ(pool.process(2), -2);
      results.fetch_add(1);
    });
    // The worker is not ready: the caller waits for one.
    EXPECT_TRUE(parks_with(caller, "chan receive"));
    EXPECT_TRUE(still_parked_with(caller, "chan receive"));
    EXPECT_EQ(processed.load(), 0);
    tickets.send(Empty{});
    ASSERT_TRUE(eventually([&] { return results.load() == 1; }));
    // Not ready again until the next ticket.
    EXPECT_TRUE(parks_with(caller, "chan receive"));
    EXPECT_EQ(processed.load(), 1);
    tickets.send(Empty{});
    ASSERT_TRUE(eventually([&] { return results.load() == 2; }));
    // A worker blocked in block_until_ready cannot leave the pool: let it go
    // (a closed channel is always ready) so that close() can stop it.
    tickets.close();
    pool.close();
  });
}

// --- close ------------------------------------------------------------------------------------

TEST(Pool, CloseWaitsForTheWorkersThenEveryCallThrowsPoolClosed) {
  goro::run([] {
    Counters c;
    Gate gate;
    IntPool pool(2, factory(c, &gate));
    goro::WaitGroup wg;
    wg.go([&pool] { EXPECT_EQ(pool.process(3), 30); });
    ASSERT_TRUE(eventually([&] { return c.in_process.load() == 1; }));
    std::atomic<bool> closed{false};
    std::uint64_t closer = go_with_id([&] {
      pool.close();
      closed = true;
    });
    EXPECT_TRUE(parks_with(closer, "chan receive"));  // joining the busy worker
    EXPECT_FALSE(closed.load());
    gate.open();
    wg.wait();
    ASSERT_TRUE(eventually([&] { return closed.load(); }));
    EXPECT_EQ(c.terminated.load(), 2);
    EXPECT_EQ(c.destroyed.load(), 2);
    EXPECT_EQ(pool.size(), 0u);

    using goro_test::throws_go_error;
    EXPECT_TRUE(throws_go_error([&] { pool.process(1); }, "the pool is not running"));
    EXPECT_TRUE(throws_go_error([&] { pool.process_timeout(1, 1s); }, "the pool is not running"));
    EXPECT_TRUE(throws_go_error([&] { pool.process_ctx(goro::background(), 1); }, "the pool is not running"));
    EXPECT_TRUE(throws_go_error([&] { pool.set_size(2); }, "the pool is not running"));
    EXPECT_THROW(pool.process(1), goro::PoolClosed);
    EXPECT_EQ(pool.queue_length(), 0);
    pool.close();  // idempotent
    EXPECT_EQ(c.made.load(), 2);
  });
}

TEST(Pool, CallersWaitingForAWorkerThrowPoolClosedWhenItCloses) {
  goro::run([] {
    IntPool pool(0, [](int x) { return x; });
    std::atomic<int> closed_errors{0};
    goro::WaitGroup wg;
    for (int i = 0; i < 3; ++i) {
      wg.go([&, i] {
        try {
          if (i == 0) pool.process(1);
          if (i == 1) pool.process_timeout(1, goro_test::kPatience);
          if (i == 2) pool.process_ctx(goro::background(), 1);
        } catch (const goro::PoolClosed&) {
          closed_errors.fetch_add(1);
        }
      });
    }
    ASSERT_TRUE(eventually([&] { return pool.queue_length() == 3; }));
    pool.close();
    wg.wait();
    EXPECT_EQ(closed_errors.load(), 3);
  });
}

TEST(Pool, TheDestructorClosesThePool) {
  Counters c;
  goro::run([&] {
    IntPool pool(3, factory(c));
    EXPECT_EQ(pool.process(1), 10);
  });
  EXPECT_EQ(c.terminated.load(), 3);
  EXPECT_EQ(c.destroyed.load(), 3);
}

TEST(Pool, AThrowingFactoryInTheConstructorStopsTheWorkersMadeSoFar) {
  goro::run([] {
    Counters c;
    int calls = 0;
    auto make = [&]() -> std::unique_ptr<IntPool::Worker> {
      if (++calls == 3) throw std::runtime_error("no more workers");
      return std::make_unique<TestWorker>(c, nullptr);
    };
    EXPECT_THROW(IntPool(4, make), std::runtime_error);
    EXPECT_EQ(c.made.load(), 2);
    EXPECT_EQ(c.terminated.load(), 2);
    EXPECT_EQ(c.destroyed.load(), 2);
  });
}

// --- stress ------------------------------------------------------------------------------------

// Goroutines and plain threads call process, process_timeout and
// process_ctx (some giving up, which interrupts workers), while a goroutine
// resizes the pool all the time. Every call that succeeds gets its own
// result; every worker made is terminated and destroyed exactly once. Meant
// for TSan as much as for correctness.
TEST(Pool, StressCallsOfEveryKindWhileResizing) {
  const int kGoroutines = static_cast<int>(scaled(16, 8, 6));
  const int kThreads = 2;
  const int kJobs = static_cast<int>(scaled(4000, 600, 300));
  Counters c;
  std::atomic<int> ok{0};
  std::atomic<int> gave_up{0};
  std::atomic<int> wrong{0};
  {
    IntPool pool(4, [&c] {
      struct Worker : TestWorker {
        explicit Worker(Counters& c) : TestWorker(c, nullptr) {}
        int process(int x) override {
          if (x % 5 == 0) goro::yield();  // gives timers a chance to fire mid-job
          return TestWorker::process(x);
        }
      };
      return std::make_unique<Worker>(c);
    });
    auto call = [&](int who, int j) {
      int x = who * kJobs + j + 1;  // positive: TestWorker returns x * 10
      try {
        int r = 0;
        switch (j % 4) {
          case 0:
          case 1:
            r = pool.process(x);
            break;
          case 2:
            r = pool.process_timeout(x, std::chrono::microseconds(50 + (j % 7) * 100));
            break;
          default: {
            auto [ctx, cancel] = goro::with_cancel(goro::background());
            if (j % 8 == 3) cancel();  // some are done before they start
            goro::go([cancel = cancel.release()] {
              goro::yield();
              cancel();
            });
            r = pool.process_ctx(ctx, x);
            break;
          }
        }
        if (r == x * 10) {
          ok.fetch_add(1);
        } else {
          wrong.fetch_add(1);
        }
      } catch (const goro::JobTimedOut&) {
        gave_up.fetch_add(1);
      } catch (const goro::ContextCanceled&) {
        gave_up.fetch_add(1);
      }
    };
    std::atomic<int> callers_left{kGoroutines + kThreads};
    goro::WaitGroup wg;
    for (int g = 0; g < kGoroutines; ++g) {
      wg.go([&, g] {
        for (int j = 0; j < kJobs; ++j) call(g, j);
        callers_left.fetch_sub(1);
      });
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int j = 0; j < kJobs / 4; ++j) call(kGoroutines + t, j);
        callers_left.fetch_sub(1);
      });
    }
    std::atomic<int> resizes{0};
    wg.go([&] {
      for (int i = 0; callers_left.load() > 0; ++i) {
        pool.set_size(static_cast<std::size_t>(1 + (i * 7) % 6));
        resizes.fetch_add(1);
        goro::sleep(100us);
      }
      pool.set_size(2);
    });
    for (auto& t : threads) t.join();
    wg.wait();
    EXPECT_GT(resizes.load(), 0);
    EXPECT_EQ(pool.queue_length(), 0);
    EXPECT_EQ(pool.size(), 2u);
    EXPECT_EQ(c.terminated.load(), c.made.load() - 2);
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ok.load() + gave_up.load(), kGoroutines * kJobs + kThreads * (kJobs / 4));
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(c.terminated.load(), c.made.load());
  EXPECT_EQ(c.destroyed.load(), c.made.load());
  EXPECT_EQ(c.in_process.load(), 0);
  RecordProperty("interrupted", c.interrupted.load());
  RecordProperty("gave_up", gave_up.load());
  RecordProperty("workers_made", c.made.load());
}

}  // namespace
