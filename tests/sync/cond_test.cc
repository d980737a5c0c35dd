// goro::Cond, Go's sync.Cond. Ports Go's sync/cond_test.go (TestCondSignal,
// TestCondSignalGenerations, TestCondBroadcast, TestRace,
// TestCondSignalStealing) and checks:
//
//  - a waiting goroutine parks with wait reason "sync.Cond.Wait";
//  - only a signal issued after wait() started wakes it: a signal nobody
//    waits for is not remembered;
//  - signal wakes exactly one waiter, the longest waiting; broadcast wakes
//    all; wait() holds the lock again before it returns;
//  - wait(pred) is the loop Go programs write;
//  - any Lockable works: goro::Mutex, goro::RWMutex (write or read side),
//    std::mutex on plain threads; goroutines and plain threads wait on the
//    same Cond;
//  - the waiter may destroy the Cond and its mutex right after it returns.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
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
using goro_test::still_parked_with;

// Go's RWMutex.RLocker(): the read lock as a Locker.
class ReadLocker {
 public:
  explicit ReadLocker(goro::RWMutex& rw) : rw_(rw) {}
  void lock() { rw_.rlock(); }
  void unlock() { rw_.runlock(); }

 private:
  goro::RWMutex& rw_;
};

// Whether a value is ready on ch now (Go's select with a default case).
template <class T>
bool ready(const goro::Chan<T>& ch) {
  return goro::select(goro::recv(ch), goro::default_case()) == 0;
}

// --- Go's tests -----------------------------------------------------------------------

TEST(Cond, IsNeitherCopyableNorMovable) {
  static_assert(!std::is_copy_constructible_v<goro::Cond>);
  static_assert(!std::is_move_constructible_v<goro::Cond>);
  static_assert(!std::is_copy_assignable_v<goro::Cond>);
  SUCCEED() << "checked at compile time";
}

TEST(Cond, GosTestCondSignal) {
  goro::run([] {
    goro::Mutex m;
    goro::Cond c(m);
    int n = 2;
    auto running = goro::make_chan<bool>(n);
    auto awake = goro::make_chan<bool>(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&m, &c, running, awake] {
        m.lock();
        running.send(true);
        c.wait();
        awake.send(true);
        m.unlock();
      });
    }
    for (int i = 0; i < n; ++i) running.recv();  // wait for everyone to run
    while (n > 0) {
      ASSERT_FALSE(ready(awake)) << "goroutine not asleep";
      m.lock();
      c.signal();
      m.unlock();
      awake.recv();  // hangs (watchdog) if no goroutine wakes up
      ASSERT_FALSE(ready(awake)) << "too many goroutines awake";
      --n;
    }
    c.signal();
  });
}

TEST(Cond, GosTestCondSignalGenerationsWakesInWaitingOrder) {
  goro::run([] {
    goro::Mutex m;
    goro::Cond c(m);
    constexpr int n = 100;
    auto running = goro::make_chan<bool>(n);
    auto awake = goro::make_chan<int>(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&m, &c, running, awake, i] {
        m.lock();
        running.send(true);
        c.wait();
        awake.send(i);
        m.unlock();
      });
      if (i > 0) {
        int a = awake.recv().value;
        ASSERT_EQ(a, i - 1) << "wrong goroutine woke up";
      }
      running.recv();
      m.lock();
      c.signal();
      m.unlock();
    }
    EXPECT_EQ(awake.recv().value, n - 1);
  });
}

TEST(Cond, GosTestCondBroadcast) {
  goro::run([] {
    goro::Mutex m;
    goro::Cond c(m);
    constexpr int n = 200;
    auto running = goro::make_chan<int>(n);
    auto awake = goro::make_chan<int>(n);
    bool exit = false;  // guarded by m
    goro::WaitGroup exited;
    for (int i = 0; i < n; ++i) {
      exited.go([&m, &c, &exit, running, awake, i] {
        m.lock();
        while (!exit) {
          running.send(i);
          c.wait();
          awake.send(i);
        }
        m.unlock();
      });
    }
    for (int round = 0; round < n; ++round) {
      for (int i = 0; i < n; ++i) running.recv();  // hangs unless n are running
      if (round == n - 1) {
        m.lock();
        exit = true;
        m.unlock();
      }
      ASSERT_FALSE(ready(awake)) << "goroutine not asleep";
      m.lock();
      c.broadcast();
      m.unlock();
      std::vector<bool> seen(n);
      for (int i = 0; i < n; ++i) {
        int g = awake.recv().value;
        ASSERT_FALSE(seen[g]) << "goroutine woke up twice";
        seen[g] = true;
      }
    }
    exited.wait();
    EXPECT_FALSE(ready(running)) << "goroutine did not exit";
    c.broadcast();
  });
}

TEST(Cond, GosTestRace) {
  int x = 0;  // guarded by mu
  std::atomic<int> errors{0};
  goro::run([&] {
    goro::Mutex mu;
    goro::Cond c(mu);
    auto done = goro::make_chan<bool>();
    goro::go([&, done] {
      mu.lock();
      x = 1;
      c.wait();
      if (x != 2) errors.fetch_add(1);  // want 2
      x = 3;
      c.signal();
      mu.unlock();
      done.send(true);
    });
    goro::go([&, done] {
      mu.lock();
      for (;;) {
        if (x == 1) {
          x = 2;
          c.signal();
          break;
        }
        mu.unlock();
        goro::yield();
        mu.lock();
      }
      mu.unlock();
      done.send(true);
    });
    goro::go([&, done] {
      mu.lock();
      for (;;) {
        if (x == 2) {
          c.wait();
          if (x != 3) errors.fetch_add(1);  // want 3
          break;
        }
        if (x == 3) break;
        mu.unlock();
        goro::yield();
        mu.lock();
      }
      mu.unlock();
      done.send(true);
    });
    done.recv();
    done.recv();
    done.recv();
  });
  EXPECT_EQ(errors.load(), 0);
}

TEST(Cond, GosTestCondSignalStealing) {
  // A broadcast racing with a new waiter must still wake the waiter that
  // was already waiting: the newcomer may or may not get it, but cannot
  // steal it.
  const int iterations = static_cast<int>(scaled(1000, 500, 200));
  int completed = 0;
  goro::run([&] {
    for (int iter = 0; iter < iterations; ++iter, ++completed) {
      goro::Mutex m;
      goro::Cond cond(m);
      auto ch = goro::make_chan<bool>();
      goro::WaitGroup all;
      // Start a waiter.
      all.go([&m, &cond, ch] {
        m.lock();
        ch.send(true);
        cond.wait();
        m.unlock();
        ch.send(true);
      });
      ch.recv();
      m.lock();
      m.unlock();
      // The waiter is in cond.wait(): we synchronized with it, then took
      // and released the mutex it held. Now race a broadcast against a
      // second waiter.
      bool done = false;  // guarded by m
      all.go([&cond] { cond.broadcast(); });
      all.go([&m, &cond, &done] {
        m.lock();
        while (!done) cond.wait();
        m.unlock();
      });
      // The first waiter must be signalled.
      bool woken = goro::select(goro::recv(ch), goro::recv(goro::after(goro_test::kPatience))) == 0;
      ASSERT_TRUE(woken) << "first waiter didn't get the broadcast (iteration " << iter << ")";
      // Release the second waiter in case it didn't get the broadcast.
      m.lock();
      done = true;
      m.unlock();
      cond.broadcast();
      all.wait();
    }
  });
  EXPECT_EQ(completed, iterations);
}

// --- waking -------------------------------------------------------------------------

TEST(Cond, WaitParksWithWaitReasonSyncCondWait) {
  goro::run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    bool go_on = false;  // guarded by mu
    auto done = goro::make_chan<bool>(1);
    std::uint64_t waiter = go_with_id([&, done] {
      std::unique_lock lock(mu);
      c.wait([&] { return go_on; });
      done.send(true);
    });
    EXPECT_TRUE(parks_with(waiter, "sync.Cond.Wait"));
    {
      std::lock_guard lock(mu);
      go_on = true;
    }
    c.signal();
    done.recv();
  });
}

TEST(Cond, ASignalOrBroadcastNobodyWaitsForIsNotRemembered) {
  goro::run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    c.signal();  // nobody waits: no effect, and it does not block
    c.broadcast();
    std::atomic<bool> woken{false};
    auto done = goro::make_chan<bool>(1);
    std::uint64_t waiter = go_with_id([&, done] {
      mu.lock();
      c.wait();
      woken = true;
      mu.unlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(waiter, "sync.Cond.Wait"));
    EXPECT_TRUE(still_parked_with(waiter, "sync.Cond.Wait")) << "woken by a signal sent before it waited";
    EXPECT_FALSE(woken.load());
    c.signal();
    done.recv();
    EXPECT_TRUE(woken.load());
  });
}

TEST(Cond, SignalWakesExactlyOneWaiterAndBroadcastWakesTheRest) {
  goro::run([] {
    constexpr int kWaiters = 10;
    goro::Mutex mu;
    goro::Cond c(mu);
    std::atomic<int> woken{0};
    goro::WaitGroup wg;
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < kWaiters; ++i) {
      wg.add(1);
      ids.push_back(go_with_id([&] {
        mu.lock();
        c.wait();
        woken.fetch_add(1);
        mu.unlock();
        wg.done();
      }));
    }
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "sync.Cond.Wait"));
    c.signal();
    EXPECT_TRUE(eventually([&] { return woken.load() == 1; }));
    goro::sleep(5ms);
    EXPECT_EQ(woken.load(), 1) << "one signal woke several waiters";
    c.signal();
    c.signal();
    EXPECT_TRUE(eventually([&] { return woken.load() == 3; }));
    c.broadcast();
    wg.wait();
    EXPECT_EQ(woken.load(), kWaiters);
  });
}

TEST(Cond, SignalWakesTheLongestWaitingFirst) {
  constexpr int kWaiters = 8;
  goro::run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    auto woke = goro::make_chan<int>(kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
      std::uint64_t id = go_with_id([&, woke, i] {
        mu.lock();
        c.wait();
        mu.unlock();
        woke.send(i);
      });
      ASSERT_TRUE(parks_with(id, "sync.Cond.Wait"));
    }
    for (int i = 0; i < kWaiters; ++i) {
      c.signal();
      EXPECT_EQ(woke.recv().value, i);
    }
  });
}

TEST(Cond, WaitHoldsTheLockAgainBeforeItReturns) {
  goro::run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    bool signaller_done = false;  // guarded by mu
    bool held_on_return = false;
    bool saw_signaller_done = false;
    auto done = goro::make_chan<bool>(1);
    std::uint64_t waiter = go_with_id([&, done] {
      mu.lock();
      c.wait();
      held_on_return = !mu.try_lock();
      saw_signaller_done = signaller_done;
      mu.unlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(waiter, "sync.Cond.Wait"));
    mu.lock();
    c.signal();        // wakes it, but it needs the mutex ...
    goro::sleep(5ms);  // ... which we keep a while
    signaller_done = true;
    mu.unlock();
    done.recv();
    EXPECT_TRUE(held_on_return);
    EXPECT_TRUE(saw_signaller_done) << "wait() returned before the signaller unlocked";
  });
}

TEST(Cond, WaitWithAPredicateLoopsUntilItHolds) {
  goro::run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    int count = 0;  // guarded by mu
    // A predicate that already holds: no waiting, the lock stays held.
    {
      std::unique_lock lock(mu);
      c.wait([] { return true; });
      EXPECT_TRUE(lock.owns_lock());
      EXPECT_FALSE(mu.try_lock());
    }
    int seen = -1;
    int wakeups = 0;
    auto done = goro::make_chan<bool>(1);
    goro::go([&, done] {
      std::unique_lock lock(mu);
      c.wait([&] {
        ++wakeups;
        return count >= 5;
      });
      seen = count;
      done.send(true);
    });
    for (int i = 0; i < 10; ++i) {
      {
        std::lock_guard lock(mu);
        ++count;
      }
      c.broadcast();
      goro::sleep(100us);
    }
    done.recv();
    EXPECT_GE(seen, 5);
    EXPECT_GE(wakeups, 1);
  });
}

// --- lockables and parties ------------------------------------------------------------

TEST(Cond, WithStdMutexOnPlainThreads) {
  // A bounded queue between plain threads: goro::Cond over std::mutex,
  // no goroutine involved.
  const int items = static_cast<int>(scaled(20000, 5000, 2000));
  constexpr std::size_t kCapacity = 4;
  std::mutex mu;
  goro::Cond not_empty(mu), not_full(mu);
  std::deque<int> queue;  // guarded by mu
  long sum = 0;
  std::thread consumer([&] {
    for (int i = 0; i < items; ++i) {
      std::unique_lock lock(mu);
      not_empty.wait([&] { return !queue.empty(); });
      sum += queue.front();
      queue.pop_front();
      not_full.signal();
    }
  });
  std::thread producer([&] {
    for (int i = 0; i < items; ++i) {
      std::unique_lock lock(mu);
      not_full.wait([&] { return queue.size() < kCapacity; });
      queue.push_back(i);
      not_empty.signal();
    }
  });
  producer.join();
  consumer.join();
  EXPECT_EQ(sum, long{items} * (items - 1) / 2);
}

TEST(Cond, GoroutinesAndPlainThreadsWaitOnTheSameCond) {
  constexpr int kThreads = 3;
  constexpr int kGoroutines = 20;
  goro::Mutex mu;
  goro::Cond c(mu);
  int generation = 0;  // guarded by mu
  std::atomic<int> waiting{0}, released{0};
  auto waiter = [&] {
    std::unique_lock lock(mu);
    waiting.fetch_add(1);
    c.wait([&] { return generation == 1; });
    released.fetch_add(1);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(waiter);
  goro::run([&] {
    goro::WaitGroup wg;
    for (int g = 0; g < kGoroutines; ++g) wg.go(waiter);
    ASSERT_TRUE(eventually([&] { return waiting.load() == kThreads + kGoroutines; }));
    EXPECT_EQ(released.load(), 0);
    {
      std::lock_guard lock(mu);
      generation = 1;
    }
    c.broadcast();
    wg.wait();
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(released.load(), kThreads + kGoroutines);
}

TEST(Cond, APlainThreadSignalsAGoroutineAndBack) {
  // Ping-pong through one Cond: a turn variable decides who runs.
  const int rounds = static_cast<int>(scaled(2000, 1000, 300));
  goro::Mutex mu;
  goro::Cond c(mu);
  int turn = 0;  // 0: thread, 1: goroutine; guarded by mu
  int hits = 0;  // guarded by mu
  std::thread thread([&] {
    for (int r = 0; r < rounds; ++r) {
      std::unique_lock lock(mu);
      c.wait([&] { return turn == 0; });
      ++hits;
      turn = 1;
      c.signal();
    }
  });
  goro::run([&] {
    for (int r = 0; r < rounds; ++r) {
      std::unique_lock lock(mu);
      c.wait([&] { return turn == 1; });
      ++hits;
      turn = 0;
      c.signal();
    }
  });
  thread.join();
  EXPECT_EQ(hits, 2 * rounds);
}

TEST(Cond, OverTheWriteAndTheReadSideOfAnRWMutex) {
  goro::run([] {
    goro::RWMutex rw;
    ReadLocker read(rw);
    goro::Cond readers(read);  // Go's sync.NewCond(rw.RLocker())
    goro::Cond writers(rw);
    bool ready_flag = false;  // written under the write lock, read under the read lock
    constexpr int kReaders = 5;
    goro::WaitGroup wg;
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < kReaders; ++i) {
      wg.add(1);
      ids.push_back(go_with_id([&] {
        rw.rlock();
        while (!ready_flag) readers.wait();
        rw.runlock();
        wg.done();
      }));
    }
    wg.add(1);
    std::uint64_t writer = go_with_id([&] {
      rw.lock();
      while (!ready_flag) writers.wait();
      rw.unlock();
      wg.done();
    });
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "sync.Cond.Wait"));
    ASSERT_TRUE(parks_with(writer, "sync.Cond.Wait"));
    rw.lock();  // no reader holds the read lock while waiting
    ready_flag = true;
    rw.unlock();
    readers.broadcast();
    writers.signal();
    wg.wait();
  });
}

TEST(Cond, ABoundedQueueBetweenManyGoroutinesAndThreadsLosesNothing) {
  const int producers = 8, consumers = 8;
  const int per_producer = static_cast<int>(scaled(2000, 1000, 200));
  constexpr std::size_t kCapacity = 16;
  goro::Mutex mu;
  goro::Cond not_empty(mu), not_full(mu);
  std::deque<int> queue;  // guarded by mu
  int produced_done = 0;  // producers finished; guarded by mu
  std::vector<int> seen(static_cast<std::size_t>(producers * per_producer));  // guarded by mu
  auto produce = [&](int p) {
    for (int i = 0; i < per_producer; ++i) {
      std::unique_lock lock(mu);
      not_full.wait([&] { return queue.size() < kCapacity; });
      queue.push_back(p * per_producer + i);
      not_empty.signal();
    }
    std::lock_guard lock(mu);
    if (++produced_done == producers) not_empty.broadcast();
  };
  auto consume = [&] {
    for (;;) {
      std::unique_lock lock(mu);
      not_empty.wait([&] { return !queue.empty() || produced_done == producers; });
      if (queue.empty()) return;
      ++seen[static_cast<std::size_t>(queue.front())];
      queue.pop_front();
      not_full.signal();
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(produce, 0);
  threads.emplace_back(consume);
  goro::run([&] {
    goro::WaitGroup wg;
    for (int p = 1; p < producers; ++p) wg.go([&produce, p] { produce(p); });
    for (int c = 1; c < consumers; ++c) wg.go(consume);
    wg.wait();
  });
  for (auto& t : threads) t.join();
  int missing = 0, duplicated = 0;
  for (int s : seen) {
    if (s == 0) ++missing;
    if (s > 1) ++duplicated;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
}

// --- lifetime ---------------------------------------------------------------------

TEST(Cond, MayBeDestroyedWithItsMutexAsSoonAsTheWaiterIsDone) {
  // The std::condition_variable pattern: the signaller sets the flag and
  // signals under the lock; the waiter, once it sees the flag, frees the
  // Cond and the mutex. Neither signal() nor unlock() may touch them after
  // the waiter can have returned (ASan: use after free).
  struct Shared {
    goro::Mutex mu;
    goro::Cond cond{mu};
    bool flag = false;  // guarded by mu
  };
  const int rounds = static_cast<int>(scaled(20000, 10000, 2000));
  goro::run([&] {
    goro::WaitGroup all;
    for (int r = 0; r < rounds; ++r) {
      auto* s = new Shared;
      all.go([s] {
        {
          std::unique_lock lock(s->mu);
          s->cond.wait([s] { return s->flag; });
        }
        delete s;
      });
      all.go([s, r] {
        if (r % 2 == 0) goro::yield();  // sometimes the waiter waits already, sometimes not
        std::lock_guard lock(s->mu);
        s->flag = true;
        if (r % 3 == 0) {
          s->cond.broadcast();
        } else {
          s->cond.signal();
        }
      });
    }
    all.wait();
  });
}

}  // namespace
