// goro::RWMutex, Go's sync.RWMutex. Ports Go's sync/rwmutex_test.go
// (TestParallelReaders, TestRWMutex's hammer, TestRLocker) and the RWMutex
// cases of TestMutexMisuse, and checks Go's documented rules:
//
//  - many readers hold the lock at once; a writer excludes everybody;
//  - writer preference: once a writer waits, new readers wait behind it
//    (and try_rlock fails), the readers already inside finish first, and a
//    stream of overlapping readers cannot starve a writer;
//  - wait reasons: readers blocked by a writer park as "sync.RWMutex.RLock",
//    a writer waiting for readers as "sync.RWMutex.Lock", a writer queued
//    behind another writer as "sync.Mutex.Lock";
//  - recursive read locking deadlocks once a writer waits (Go's warning);
//  - no owner: another goroutine or thread may unlock either lock;
//  - the std adaptors: shared_lock, unique_lock, lock_guard;
//  - Unlock/RUnlock of an unlocked RWMutex are Go's fatal errors.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
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
using goro_test::still_parked_with;
using ::testing::ExitedWithCode;

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
bool ready(const goro::Chan<bool>& ch) { return goro::select(goro::recv(ch), goro::default_case()) == 0; }

// --- basics ------------------------------------------------------------------------

constinit goro::RWMutex g_constant_initialized;

TEST(RWMutex, IsConstantInitializableAndNeitherCopyableNorMovable) {
  static_assert(std::is_nothrow_default_constructible_v<goro::RWMutex>);
  static_assert(!std::is_copy_constructible_v<goro::RWMutex>);
  static_assert(!std::is_move_constructible_v<goro::RWMutex>);
  static_assert(!std::is_copy_assignable_v<goro::RWMutex>);
  g_constant_initialized.rlock();
  g_constant_initialized.runlock();
  g_constant_initialized.lock();
  g_constant_initialized.unlock();
}

TEST(RWMutex, WorksOnAPlainThreadWithoutAnyGoroutine) {
  goro::RWMutex rw;
  rw.rlock();
  rw.rlock();  // two readers (no writer waits)
  EXPECT_FALSE(rw.try_lock());
  rw.runlock();
  rw.runlock();
  EXPECT_TRUE(rw.try_lock());
  EXPECT_FALSE(rw.try_rlock());
  rw.unlock();
}

TEST(RWMutex, TryLockAndTryRLockFollowTheState) {
  goro::run([] {
    goro::RWMutex rw;
    // Free: either succeeds.
    ASSERT_TRUE(rw.try_lock());
    // Write-locked: neither.
    EXPECT_FALSE(rw.try_lock());
    EXPECT_FALSE(rw.try_rlock());
    rw.unlock();
    // Read-locked: more readers, no writer.
    ASSERT_TRUE(rw.try_rlock());
    EXPECT_TRUE(rw.try_rlock());
    EXPECT_FALSE(rw.try_lock());
    rw.runlock();
    // A writer waits for the remaining reader: no new reader, no writer.
    auto written = goro::make_chan<bool>(1);
    std::uint64_t writer = go_with_id([&, written] {
      rw.lock();
      rw.unlock();
      written.send(true);
    });
    ASSERT_TRUE(parks_with(writer, "sync.RWMutex.Lock"));
    EXPECT_FALSE(rw.try_rlock()) << "a reader overtook a waiting writer";
    EXPECT_FALSE(rw.try_lock());
    bool thread_got_it = true;
    std::thread([&] { thread_got_it = rw.try_rlock(); }).join();
    EXPECT_FALSE(thread_got_it) << "a plain thread's reader overtook a waiting writer";
    rw.runlock();
    written.recv();
    EXPECT_TRUE(rw.try_rlock());
    rw.runlock();
  });
}

// --- Go's tests -----------------------------------------------------------------------

// Go's doTestParallelReaders: every reader holds the lock at the same time.
void parallel_readers(int num_readers) {
  goro::RWMutex m;
  auto clocked = goro::make_chan<bool>();
  auto cunlock = goro::make_chan<bool>();
  auto cdone = goro::make_chan<bool>();
  for (int i = 0; i < num_readers; ++i) {
    goro::go([&m, clocked, cunlock, cdone] {
      m.rlock();
      clocked.send(true);
      cunlock.recv();
      m.runlock();
      cdone.send(true);
    });
  }
  // Wait for all parallel rlock()s to succeed.
  for (int i = 0; i < num_readers; ++i) clocked.recv();
  for (int i = 0; i < num_readers; ++i) cunlock.send(true);
  for (int i = 0; i < num_readers; ++i) cdone.recv();
}

TEST(RWMutex, GosTestParallelReaders) {
  goro::run([] {
    parallel_readers(1);
    parallel_readers(3);
    parallel_readers(4);
    parallel_readers(100);
  });
}

// Go's HammerRWMutex: activity counts active readers plus 10000 per active
// writer; a reader must see 1..9999, a writer exactly 10000. Critical
// sections yield now and then (goro has no preemption), so that the others
// run while the lock is held.
struct Hammer {
  goro::RWMutex rwm;
  std::atomic<std::int32_t> activity{0};
  std::atomic<int> violations{0};

  void reader(int iterations) {
    for (int i = 0; i < iterations; ++i) {
      rwm.rlock();
      std::int32_t n = activity.fetch_add(1) + 1;
      if (n < 1 || n >= 10000) violations.fetch_add(1);
      if (i % 8 == 0) goro::yield();
      activity.fetch_sub(1);
      rwm.runlock();
    }
  }

  void writer(int iterations) {
    for (int i = 0; i < iterations; ++i) {
      rwm.lock();
      std::int32_t n = activity.fetch_add(10000) + 10000;
      if (n != 10000) violations.fetch_add(1);
      if (i % 8 == 0) goro::yield();
      activity.fetch_sub(10000);
      rwm.unlock();
    }
  }
};

int hammer_rwmutex(int num_readers, int iterations) {
  Hammer h;
  goro::WaitGroup wg;
  wg.go([&] { h.writer(iterations); });
  int i = 0;
  for (; i < num_readers / 2; ++i) wg.go([&] { h.reader(iterations); });
  wg.go([&] { h.writer(iterations); });
  for (; i < num_readers; ++i) wg.go([&] { h.reader(iterations); });
  wg.wait();
  return h.violations.load();
}

TEST(RWMutex, GosTestRWMutexHammer) {
  const int n = static_cast<int>(scaled(1000, 300, 100));
  goro::run([&] {
    for (int readers : {1, 3, 10, 5}) {
      EXPECT_EQ(hammer_rwmutex(readers, n), 0) << readers << " readers";
    }
  });
}

TEST(RWMutex, HammeredByGoroutinesAndPlainThreadsTogether) {
  const int n = static_cast<int>(scaled(1000, 300, 100));
  Hammer h;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { h.writer(n); });
  threads.emplace_back([&] { h.reader(n); });
  threads.emplace_back([&] { h.reader(n); });
  goro::run([&] {
    goro::WaitGroup wg;
    for (int i = 0; i < 2; ++i) wg.go([&] { h.writer(n); });
    for (int i = 0; i < 8; ++i) wg.go([&] { h.reader(n); });
    wg.wait();
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.violations.load(), 0);
}

// Go's TestRLocker: the read lock, as a Locker, is a read lock (the writer
// waits for both), and respects the write lock.
TEST(RWMutex, GosTestRLocker) {
  goro::run([] {
    goro::RWMutex wl;
    ReadLocker rl(wl);
    auto wlocked = goro::make_chan<bool>(1);
    auto rlocked = goro::make_chan<bool>(1);
    constexpr int n = 10;
    goro::go([&wl, &rl, wlocked, rlocked] {
      for (int i = 0; i < n; ++i) {
        rl.lock();
        rl.lock();
        rlocked.send(true);
        wl.lock();
        wlocked.send(true);
      }
    });
    for (int i = 0; i < n; ++i) {
      rlocked.recv();
      rl.unlock();
      ASSERT_FALSE(ready(wlocked)) << "RLocker() didn't read-lock it";
      rl.unlock();
      wlocked.recv();
      ASSERT_FALSE(ready(rlocked)) << "RLocker() didn't respect the write lock";
      wl.unlock();
    }
  });
}

// --- writer preference ----------------------------------------------------------------

TEST(RWMutex, OnceAWriterWaitsNewReadersWaitBehindIt) {
  std::atomic<int> seq{0};
  int writer_at = -1, reader_at = -1;
  goro::run([&] {
    goro::RWMutex rw;
    auto done = goro::make_chan<bool>(2);
    rw.rlock();  // a reader inside
    std::uint64_t writer = go_with_id([&, done] {
      rw.lock();
      writer_at = seq.fetch_add(1);
      rw.unlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(writer, "sync.RWMutex.Lock"));
    std::uint64_t reader = go_with_id([&, done] {
      rw.rlock();  // only readers hold the lock, but a writer waits
      reader_at = seq.fetch_add(1);
      rw.runlock();
      done.send(true);
    });
    EXPECT_TRUE(parks_with(reader, "sync.RWMutex.RLock"));
    EXPECT_TRUE(still_parked_with(writer, "sync.RWMutex.Lock"));
    rw.runlock();  // the last reader the writer waits for
    done.recv();
    done.recv();
  });
  EXPECT_EQ(writer_at, 0) << "the writer was not first";
  EXPECT_EQ(reader_at, 1);
}

TEST(RWMutex, AWriterWaitsOnlyForTheReadersAlreadyInside) {
  goro::run([] {
    goro::RWMutex rw;
    auto release1 = goro::make_chan<bool>();
    auto release2 = goro::make_chan<bool>();
    auto done = goro::make_chan<bool>(4);
    std::atomic<int> early_in{0};
    for (const auto& release : {release1, release2}) {
      goro::go([&rw, &early_in, release, done] {
        rw.rlock();
        early_in.fetch_add(1);
        release.recv();
        rw.runlock();
        done.send(true);
      });
    }
    ASSERT_TRUE(eventually([&] { return early_in.load() == 2; }));
    std::atomic<bool> writing{false};
    auto release_writer = goro::make_chan<bool>();
    std::uint64_t writer = go_with_id([&, release_writer, done] {
      rw.lock();
      writing = true;
      release_writer.recv();
      writing = false;
      rw.unlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(writer, "sync.RWMutex.Lock"));
    std::atomic<bool> late_reader_in{false};
    std::uint64_t late = go_with_id([&, done] {
      rw.rlock();
      late_reader_in = true;
      EXPECT_FALSE(writing.load());
      rw.runlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(late, "sync.RWMutex.RLock"));
    release1.send(true);
    EXPECT_TRUE(still_parked_with(writer, "sync.RWMutex.Lock")) << "a reader is still inside";
    release2.send(true);
    EXPECT_TRUE(eventually([&] { return writing.load(); })) << "the last early reader left, the writer should be in";
    EXPECT_TRUE(still_parked_with(late, "sync.RWMutex.RLock")) << "a late reader got in with the writer";
    EXPECT_FALSE(late_reader_in.load());
    release_writer.send(true);
    for (int i = 0; i < 4; ++i) done.recv();
    EXPECT_TRUE(late_reader_in.load());
  });
}

TEST(RWMutex, ReadersBlockedByAWriterAllGetInTogetherWhenItUnlocks) {
  constexpr int kReaders = 20;
  goro::run([] {
    goro::RWMutex rw;
    std::atomic<int> inside{0};
    auto gate = goro::make_chan<bool>();
    goro::WaitGroup wg;
    rw.lock();
    for (int i = 0; i < kReaders; ++i) {
      wg.add(1);
      std::uint64_t id = go_with_id([&, gate] {
        rw.rlock();
        inside.fetch_add(1);
        gate.recv();  // nobody leaves before all are in
        rw.runlock();
        wg.done();
      });
      ASSERT_TRUE(parks_with(id, "sync.RWMutex.RLock"));
    }
    EXPECT_EQ(inside.load(), 0);
    rw.unlock();
    EXPECT_TRUE(eventually([&] { return inside.load() == kReaders; })) << inside.load() << " readers inside";
    gate.close();
    wg.wait();
  });
}

TEST(RWMutex, ASecondWriterQueuesBehindTheFirstAsSyncMutexLock) {
  goro::run([] {
    goro::RWMutex rw;
    std::atomic<bool> second_in{false};
    auto done = goro::make_chan<bool>(1);
    rw.lock();
    std::uint64_t second = go_with_id([&, done] {
      rw.lock();
      second_in = true;
      rw.unlock();
      done.send(true);
    });
    EXPECT_TRUE(parks_with(second, "sync.Mutex.Lock"));
    EXPECT_FALSE(second_in.load());
    rw.unlock();
    done.recv();
    EXPECT_TRUE(second_in.load());
  });
}

TEST(RWMutex, AStreamOfOverlappingReadersDoesNotStarveAWriter) {
  // Readers on plain threads and goroutines keep the read lock held at all
  // times (each takes it again right after releasing it, and they overlap).
  // Without writer preference the writer would wait for a moment with no
  // reader inside, which never comes.
  goro::RWMutex rw;
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        rw.rlock();
        reads.fetch_add(1);
        goro_test::spin_for(50us);
        rw.runlock();
      }
    });
  }
  bool wrote = false;
  goro::run([&] {
    goro::WaitGroup wg;
    for (int g = 0; g < 4; ++g) {
      wg.go([&] {
        while (!stop.load()) {
          rw.rlock();
          reads.fetch_add(1);
          goro::sleep(100us);
          rw.runlock();
        }
      });
    }
    EXPECT_TRUE(eventually([&] { return reads.load() > 100; }));
    auto done = goro::make_chan<bool>(1);
    goro::go([&, done] {
      rw.lock();
      wrote = true;
      rw.unlock();
      done.send(true);
    });
    bool in_time = goro::select(goro::recv(done), goro::recv(goro::after(goro_test::kPatience))) == 0;
    EXPECT_TRUE(in_time) << "the writer starved";
    stop = true;
    wg.wait();
    if (!in_time) done.recv();
  });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(wrote);
}

TEST(RWMutex, RecursiveReadLockingDeadlocksOnceAWriterWaits) {
  // Go's documented hazard: the second rlock waits for the writer, which
  // waits for the first. Here a third party breaks the cycle by releasing
  // the first read lock (allowed: the lock has no owner).
  goro::run([] {
    goro::RWMutex rw;
    auto first_taken = goro::make_chan<bool>(1);
    auto done = goro::make_chan<bool>(2);
    std::uint64_t reader = go_with_id([&, first_taken, done] {
      rw.rlock();
      first_taken.send(true);
      while (rw.try_rlock()) {  // until a writer is pending
        rw.runlock();
        goro::sleep(1ms);
      }
      rw.rlock();  // recursive: waits behind the writer
      rw.runlock();
      done.send(true);
    });
    first_taken.recv();
    std::uint64_t writer = go_with_id([&, done] {
      rw.lock();
      rw.unlock();
      done.send(true);
    });
    ASSERT_TRUE(parks_with(writer, "sync.RWMutex.Lock"));
    ASSERT_TRUE(parks_with(reader, "sync.RWMutex.RLock"));
    EXPECT_TRUE(still_parked_with(writer, "sync.RWMutex.Lock")) << "deadlocked, as Go documents";
    rw.runlock();  // the reader's first read lock
    done.recv();
    done.recv();
  });
}

// --- no owner ---------------------------------------------------------------------

TEST(RWMutex, AnotherGoroutineOrPlainThreadMayUnlockEitherLock) {
  goro::run([] {
    goro::RWMutex rw;
    auto done = goro::make_chan<bool>();
    rw.lock();
    goro::go([&rw, done] {
      rw.unlock();
      done.send(true);
    });
    done.recv();
    ASSERT_TRUE(rw.try_lock());
    std::thread([&] { rw.unlock(); }).join();
    rw.rlock();
    goro::go([&rw, done] {
      rw.runlock();
      done.send(true);
    });
    done.recv();
    ASSERT_TRUE(rw.try_rlock());
    std::thread([&] { rw.runlock(); }).join();
    EXPECT_TRUE(rw.try_lock()) << "no reader left";
    rw.unlock();
  });
}

TEST(RWMutex, APlainThreadWriterAndGoroutineReadersWakeEachOther) {
  goro::RWMutex rw;
  int x = 0, y = 0;  // x == y under the lock
  std::atomic<int> broken{0};
  const int rounds = static_cast<int>(scaled(500, 200, 100));
  std::thread writer([&] {
    for (int r = 0; r < rounds; ++r) {
      std::unique_lock lock(rw);
      ++x;
      std::this_thread::yield();
      ++y;
    }
  });
  goro::run([&] {
    goro::WaitGroup wg;
    for (int g = 0; g < 8; ++g) {
      wg.go([&] {
        for (int r = 0; r < rounds; ++r) {
          std::shared_lock lock(rw);
          if (x != y) broken.fetch_add(1);
          if (r % 4 == 0) goro::yield();
          if (x != y) broken.fetch_add(1);
        }
      });
    }
    // And a goroutine writer against plain-thread readers.
    std::thread reader([&] {
      for (int r = 0; r < rounds; ++r) {
        std::shared_lock lock(rw);
        if (x != y) broken.fetch_add(1);
      }
    });
    wg.go([&] {
      for (int r = 0; r < rounds; ++r) {
        std::lock_guard lock(rw);
        ++x;
        if (r % 4 == 0) goro::yield();
        ++y;
      }
    });
    wg.wait();
    reader.join();
  });
  writer.join();
  EXPECT_EQ(broken.load(), 0);
  EXPECT_EQ(x, 2 * rounds);
  EXPECT_EQ(y, 2 * rounds);
}

TEST(RWMutex, AThousandReadersAndSomeWritersKeepTheInvariant) {
  const int readers = 1000;
  const int writers = 10;
  const int rounds = static_cast<int>(scaled(20, 10, 5));
  long value = 0, mirror = 0;  // equal whenever a reader looks
  std::atomic<int> broken{0};
  goro::run([&] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    for (int i = 0; i < readers + writers; ++i) {
      bool is_writer = i % ((readers + writers) / writers) == 0;
      wg.go([&, is_writer] {
        for (int r = 0; r < rounds; ++r) {
          if (is_writer) {
            std::lock_guard lock(rw);
            ++value;
            goro::yield();
            ++mirror;
          } else {
            std::shared_lock lock(rw);
            if (value != mirror) broken.fetch_add(1);
            if (r % 3 == 0) goro::yield();
          }
        }
      });
    }
    wg.wait();
  });
  EXPECT_EQ(broken.load(), 0);
  EXPECT_EQ(value, long{writers} * rounds);
}

// --- the std adaptors ---------------------------------------------------------------

TEST(RWMutexRaii, SharedLockUniqueLockAndLockGuard) {
  goro::run([] {
    goro::RWMutex rw;
    {
      std::shared_lock read1(rw);
      std::shared_lock read2(rw);  // readers share
      EXPECT_TRUE(read1.owns_lock() && read2.owns_lock());
      std::unique_lock write(rw, std::try_to_lock);
      EXPECT_FALSE(write.owns_lock());
    }
    {
      std::unique_lock write(rw);
      std::shared_lock read(rw, std::try_to_lock);
      EXPECT_FALSE(read.owns_lock()) << "read lock taken under a write lock";
    }
    {
      std::lock_guard write(rw);
      EXPECT_FALSE(rw.try_rlock());
    }
    std::shared_lock read(rw, std::defer_lock);
    EXPECT_TRUE(read.try_lock());
    read.unlock();
    EXPECT_TRUE(rw.try_lock()) << "an adaptor left the lock held";
    rw.unlock();
  });
}

TEST(RWMutexRaii, ASharedLockMovedToAnotherGoroutineReleasesThere) {
  goro::run([] {
    goro::RWMutex rw;
    std::shared_lock read(rw);
    auto done = goro::make_chan<bool>();
    goro::go([l = std::move(read), done]() mutable {
      l.unlock();
      done.send(true);
    });
    done.recv();
    EXPECT_TRUE(rw.try_lock());
    rw.unlock();
  });
}

// --- misuse -------------------------------------------------------------------------

// Go's TestMutexMisuse RWMutex cases. Out of line so that tracebacks name them.
[[gnu::noinline]] void unlock_of_fresh() {
  goro::RWMutex mu;
  mu.unlock();
}
[[gnu::noinline]] void unlock_of_read_locked() {
  goro::RWMutex mu;
  mu.rlock();
  mu.unlock();
}
[[gnu::noinline]] void unlock_twice() {
  goro::RWMutex mu;
  mu.lock();
  mu.unlock();
  mu.unlock();
}
[[gnu::noinline]] void runlock_of_fresh() {
  goro::RWMutex mu;
  mu.runlock();
}
[[gnu::noinline]] void runlock_of_write_locked() {
  goro::RWMutex mu;
  mu.lock();
  mu.runlock();
}
[[gnu::noinline]] void runlock_twice() {
  goro::RWMutex mu;
  mu.rlock();
  mu.runlock();
  mu.runlock();
}


constexpr const char* kUnlockMessage = "sync: Unlock of unlocked RWMutex";
constexpr const char* kRUnlockMessage = "sync: RUnlock of unlocked RWMutex";

TEST(RWMutexDeathTest, UnlockOfAnUnlockedRWMutexIsFatalOnAGoroutine) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(unlock_of_fresh), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kUnlockMessage, "unlock_of_fresh"));
  EXPECT_EXIT(goro_test::panic_in_goroutine(unlock_of_read_locked), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kUnlockMessage, "unlock_of_read_locked"));
  EXPECT_EXIT(goro_test::panic_in_goroutine(unlock_twice), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kUnlockMessage, "unlock_twice"));
}

TEST(RWMutexDeathTest, UnlockOfAnUnlockedRWMutexIsFatalOnAPlainThread) {
  EXPECT_EXIT(unlock_of_fresh(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kUnlockMessage));
  EXPECT_EXIT(unlock_of_read_locked(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kUnlockMessage));
  EXPECT_EXIT(unlock_twice(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kUnlockMessage));
}

TEST(RWMutexDeathTest, RUnlockOfAnUnlockedRWMutexIsFatalOnAGoroutine) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(runlock_of_fresh), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kRUnlockMessage, "runlock_of_fresh"));
  EXPECT_EXIT(goro_test::panic_in_goroutine(runlock_of_write_locked), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kRUnlockMessage, "runlock_of_write_locked"));
  EXPECT_EXIT(goro_test::panic_in_goroutine(runlock_twice), ExitedWithCode(2),
              goro_test::go_fatal_pattern(kRUnlockMessage, "runlock_twice"));
}

TEST(RWMutexDeathTest, RUnlockOfAnUnlockedRWMutexIsFatalOnAPlainThread) {
  EXPECT_EXIT(runlock_of_fresh(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kRUnlockMessage));
  EXPECT_EXIT(runlock_of_write_locked(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kRUnlockMessage));
  EXPECT_EXIT(runlock_twice(), ExitedWithCode(2), goro_test::go_fatal_on_thread_pattern(kRUnlockMessage));
}

// --- lifetime ---------------------------------------------------------------------

// Regression: RWMutex::unlock releases the queued readers and then unlocks
// writer_; a released reader could run, drop the last reference and free the
// object before that, so writer_.unlock() wrote freed memory (ASan:
// heap-use-after-free; default build: heap corruption). Unlocks now count
// themselves in flight and ~RWMutex waits for them.
TEST(RWMutexLifetime, MayBeDestroyedByAReaderThatGotInAfterTheWriter) {
  // POSIX's "destroy right after unlock" rule, with a reference count
  // dropped inside each critical section: the writer drops its reference
  // and unlocks; the reader it let in drops the last one, unlocks and frees
  // the object. The writer may still be inside unlock() then (it lets the
  // readers in before it releases its writer mutex); it must not touch the
  // object after the point that let the reader in. Heap objects, so that
  // ASan sees a use after free; readers are goroutines and plain threads.
  struct Shared {
    goro::RWMutex rw;
    std::atomic<int> refs{2};
  };
  auto drop = [](Shared* s) { return s->refs.fetch_sub(1) == 1; };
  const int rounds = static_cast<int>(scaled(20000, 10000, 2000));
  goro::run([&] {
    goro::WaitGroup all;
    for (int r = 0; r < rounds; ++r) {
      auto* s = new Shared;
      s->rw.lock();
      auto reader = [s, drop] {
        s->rw.rlock();
        bool last = drop(s);
        s->rw.runlock();
        if (last) delete s;
      };
      if (r % 64 == 0) {
        all.add(1);
        std::thread([reader, &all] {
          reader();
          all.done();
        }).detach();
      } else {
        all.go(reader);
      }
      if (r % 2 == 0) goro::yield();  // usually queued behind the write lock
      all.go([s, drop] {
        bool last = drop(s);
        s->rw.unlock();
        if (last) delete s;
      });
    }
    all.wait();
  });
}

}  // namespace
