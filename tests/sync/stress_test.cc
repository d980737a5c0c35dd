// The sync primitives under load, as a target for TSan and ASan: Mutex,
// RWMutex, Cond, Once and WaitGroup used at the same time by many goroutines
// and some plain OS threads, every party checking invariants inside its
// critical sections. Every check counts violations instead of stopping, and
// every wait is bounded (WaitGroup waits by the watchdog), so a broken
// primitive shows as a count, a sanitizer report or a named hang.
//
//  - MixedWorkload: a bank (Mutex: transfers keep the total), a config
//    (RWMutex: readers never see a half-written snapshot), a bounded queue
//    (Mutex + two Conds: every item consumed exactly once) and lazily
//    initialised slots (Once: one run each, its writes seen by all callers),
//    all at once;
//  - CondBarrier: a reusable barrier from Mutex + Cond; no party passes
//    phase p before all arrived at p;
//  - DiningPhilosophers: a ring of mutexes taken in address order, with
//    std::scoped_lock for half the parties;
//  - RWMutexWithTryLocks: blocking and try_ variants of both locks mixed;
//  - ShortLivedPrimitives: Mutex/Cond/WaitGroup created, used by a few
//    parties and destroyed by the last, over and over.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro_test::scaled;

// A small deterministic generator per party (xorshift32).
class Rng {
 public:
  explicit Rng(unsigned seed) : x_(seed * 2654435761u + 0x9e3779b9u) {
    if (x_ == 0) x_ = 1;
  }
  unsigned next() {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 17;
    x_ ^= x_ << 5;
    return x_;
  }
  unsigned below(unsigned n) { return next() % n; }

 private:
  unsigned x_;
};

// Runs party(i) for i in [0, goroutines) on goroutines and for the next
// `threads` indices on plain threads, all at once; returns when all ended.
void run_parties(int goroutines, int threads, const std::function<void(int)>& party) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back(party, goroutines + t);
  goro::run([&] {
    goro::WaitGroup wg;
    for (int g = 0; g < goroutines; ++g) wg.go([&party, g] { party(g); });
    wg.wait();
  });
  for (auto& t : ts) t.join();
}

// --- the mixed workload ---------------------------------------------------------------

struct World {
  static constexpr long kTotal = 1'000'000;
  static constexpr int kAccounts = 16;
  static constexpr int kSlots = 64;
  static constexpr std::size_t kQueueCapacity = 8;

  // Bank: the accounts always sum to kTotal (under bank_mu).
  goro::Mutex bank_mu;
  std::array<long, kAccounts> accounts{};

  // Config: a == b == 2 * version whenever the read lock is held.
  goro::RWMutex config_mu;
  long version = 0, a = 0, b = 0;

  // Queue: items 0..N-1, each consumed exactly once.
  goro::Mutex queue_mu;
  goro::Cond not_empty{queue_mu}, not_full{queue_mu};
  std::deque<int> queue;
  int producers_left = 0;
  std::vector<int> consumed;  // count per item, under queue_mu

  // Lazily initialised slots: each Once runs once and sets value.
  std::array<goro::Once, kSlots> slot_once;
  std::array<std::atomic<int>, kSlots> slot_runs{};
  std::array<long, kSlots> slot_value{};

  std::atomic<long> violations{0};

  World() { accounts[0] = kTotal; }

  void transfer(Rng& rng) {
    int from = static_cast<int>(rng.below(kAccounts)), to = static_cast<int>(rng.below(kAccounts));
    long amount = static_cast<long>(rng.below(1000));
    std::lock_guard lock(bank_mu);
    if (accounts[static_cast<std::size_t>(from)] < amount) return;
    accounts[static_cast<std::size_t>(from)] -= amount;
    if (rng.below(8) == 0) goro::yield();  // others find the bank locked meanwhile
    accounts[static_cast<std::size_t>(to)] += amount;
  }

  void audit() {
    std::lock_guard lock(bank_mu);
    long sum = 0;
    for (long x : accounts) sum += x;
    if (sum != kTotal) violations.fetch_add(1);
  }

  void read_config(Rng& rng) {
    std::shared_lock lock(config_mu);
    long v = version;
    if (rng.below(4) == 0) goro::yield();
    if (a != 2 * v || b != 2 * v || version != v) violations.fetch_add(1);
  }

  void write_config(Rng& rng) {
    std::lock_guard lock(config_mu);
    ++version;
    a = 2 * version;
    if (rng.below(2) == 0) goro::yield();  // readers wait, not see it half done
    b = 2 * version;
  }

  void use_slot(Rng& rng) {
    auto i = static_cast<std::size_t>(rng.below(kSlots));
    slot_once[i].call([&] {
      slot_runs[i].fetch_add(1);
      if (rng.below(4) == 0) goro::yield();  // the other callers wait meanwhile
      slot_value[i] = static_cast<long>(i) * 7 + 1;
    });
    if (slot_value[i] != static_cast<long>(i) * 7 + 1) violations.fetch_add(1);
  }

  void produce(int item) {
    std::unique_lock lock(queue_mu);
    not_full.wait([&] { return queue.size() < kQueueCapacity; });
    queue.push_back(item);
    not_empty.signal();
  }

  void producer_done() {
    std::lock_guard lock(queue_mu);
    if (--producers_left == 0) not_empty.broadcast();
  }

  // False once the queue is drained and every producer finished.
  bool consume_one() {
    std::unique_lock lock(queue_mu);
    not_empty.wait([&] { return !queue.empty() || producers_left == 0; });
    if (queue.empty()) return false;
    ++consumed[static_cast<std::size_t>(queue.front())];
    queue.pop_front();
    not_full.signal();
    return true;
  }
};

TEST(SyncStress, MixedWorkloadOfGoroutinesAndPlainThreads) {
  const int goroutines = static_cast<int>(scaled(128, 64, 32));
  constexpr int kThreads = 4;
  const int rounds = static_cast<int>(scaled(40000, 20000, 12000));
  const int per_producer = static_cast<int>(scaled(20000, 10000, 6000));
  World w;
  // Roles by index: a quarter each produce and consume; everybody banks,
  // reads the config and uses the slots; one in eight writes the config.
  const int parties = goroutines + kThreads;
  int producers = 0;
  for (int i = 0; i < parties; ++i) producers += i % 4 == 0 ? 1 : 0;
  w.producers_left = producers;
  std::vector<int> producer_index(static_cast<std::size_t>(parties), -1);
  for (int i = 0, k = 0; i < parties; ++i) {
    if (i % 4 == 0) producer_index[static_cast<std::size_t>(i)] = k++;
  }
  w.consumed.assign(static_cast<std::size_t>(producers * per_producer), 0);

  run_parties(goroutines, kThreads, [&](int id) {
    Rng rng(static_cast<unsigned>(id) + 1);
    int produced = 0;
    bool consuming = id % 4 == 1;
    for (int r = 0; r < rounds; ++r) {
      switch (rng.below(8)) {
        case 0:
        case 1:
        case 2: w.transfer(rng); break;
        case 3: w.audit(); break;
        case 4:
        case 5:
          if (id % 8 == 3 && rng.below(4) == 0) {
            w.write_config(rng);
          } else {
            w.read_config(rng);
          }
          break;
        case 6: w.use_slot(rng); break;
        case 7:
          if (id % 4 == 0 && produced < per_producer) {
            w.produce(producer_index[static_cast<std::size_t>(id)] * per_producer + produced++);
          } else if (consuming && !w.consume_one()) {
            consuming = false;
          }
          break;
      }
    }
    if (id % 4 == 0) {
      while (produced < per_producer) w.produce(producer_index[static_cast<std::size_t>(id)] * per_producer + produced++);
      w.producer_done();
    }
    while (consuming && w.consume_one()) {
    }
  });

  EXPECT_EQ(w.violations.load(), 0);
  long sum = 0;
  for (long x : w.accounts) sum += x;
  EXPECT_EQ(sum, World::kTotal);
  EXPECT_EQ(w.a, 2 * w.version);
  EXPECT_EQ(w.b, 2 * w.version);
  int missing = 0, duplicated = 0;
  for (int c : w.consumed) {
    missing += c == 0 ? 1 : 0;
    duplicated += c > 1 ? 1 : 0;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_TRUE(w.queue.empty());
  for (std::size_t i = 0; i < World::kSlots; ++i) {
    EXPECT_LE(w.slot_runs[i].load(), 1) << "slot " << i;
    EXPECT_EQ(w.slot_runs[i].load() == 1, w.slot_once[i].done()) << "slot " << i;
  }
}

// --- a barrier from Mutex + Cond ---------------------------------------------------------

class Barrier {
 public:
  explicit Barrier(int parties) : parties_(parties) {}
  void arrive_and_wait() {
    std::unique_lock lock(mu_);
    long gen = generation_;
    if (++arrived_ == parties_) {
      arrived_ = 0;
      ++generation_;
      cv_.broadcast();
      return;
    }
    cv_.wait([&] { return generation_ != gen; });
  }

 private:
  goro::Mutex mu_;
  goro::Cond cv_{mu_};
  const int parties_;
  int arrived_ = 0;
  long generation_ = 0;
};

TEST(SyncStress, CondBarrierLetsNobodyThroughBeforeAllArrived) {
  const int goroutines = static_cast<int>(scaled(64, 32, 16));
  constexpr int kThreads = 3;
  const int phases = static_cast<int>(scaled(6000, 3000, 2400));
  const int parties = goroutines + kThreads;
  Barrier barrier(parties);
  std::vector<std::atomic<int>> phase(static_cast<std::size_t>(parties));
  std::atomic<long> violations{0};
  run_parties(goroutines, kThreads, [&](int id) {
    Rng rng(static_cast<unsigned>(id) + 100);
    for (int p = 1; p <= phases; ++p) {
      if (rng.below(4) == 0) goro::yield();
      phase[static_cast<std::size_t>(id)].store(p);
      barrier.arrive_and_wait();
      // Everybody arrived at p; nobody can be past p + 1 (they need us at the next barrier).
      for (auto& other : phase) {
        int q = other.load();
        if (q < p || q > p + 1) violations.fetch_add(1);
      }
    }
  });
  EXPECT_EQ(violations.load(), 0);
}

// --- dining philosophers ---------------------------------------------------------------

TEST(SyncStress, DiningPhilosophersTakeForksInAddressOrder) {
  const int goroutines = static_cast<int>(scaled(30, 20, 10));
  constexpr int kThreads = 2;
  const int meals = static_cast<int>(scaled(40000, 20000, 12000));
  const int seats = goroutines + kThreads;
  std::vector<goro::Mutex> forks(static_cast<std::size_t>(seats));
  std::vector<int> fork_users(static_cast<std::size_t>(seats), 0);  // under the fork's mutex
  std::atomic<long> eaten{0}, violations{0};
  run_parties(goroutines, kThreads, [&](int id) {
    auto left = static_cast<std::size_t>(id), right = static_cast<std::size_t>((id + 1) % seats);
    for (int m = 0; m < meals; ++m) {
      auto eat = [&] {
        if (++fork_users[left] != 1 || ++fork_users[right] != 1) violations.fetch_add(1);
        if (m % 16 == 0) goro::yield();
        --fork_users[left];
        --fork_users[right];
        eaten.fetch_add(1);
      };
      if (id % 2 == 0) {
        std::scoped_lock lock(forks[left], forks[right]);  // std::lock's deadlock avoidance
        eat();
      } else {
        goro::Mutex* first = &forks[std::min(left, right)];
        goro::Mutex* second = &forks[std::max(left, right)];
        std::lock_guard l1(*first);  // a global order
        std::lock_guard l2(*second);
        eat();
      }
    }
  });
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(eaten.load(), long{seats} * meals);
}

// --- RWMutex with try_ variants ----------------------------------------------------------

TEST(SyncStress, RWMutexBlockingAndTryLocksMixed) {
  const int goroutines = static_cast<int>(scaled(48, 24, 12));
  constexpr int kThreads = 3;
  const int rounds = static_cast<int>(scaled(60000, 30000, 20000));
  goro::RWMutex rw;
  std::atomic<std::int32_t> activity{0};  // readers + 10000 per writer
  std::atomic<long> violations{0}, writes{0}, reads{0};
  long guarded = 0;  // written under the write lock, read under the read lock
  run_parties(goroutines, kThreads, [&](int id) {
    Rng rng(static_cast<unsigned>(id) + 7);
    for (int r = 0; r < rounds; ++r) {
      unsigned op = rng.below(16);
      if (op < 2 || (op == 2 && rw.try_lock())) {
        if (op < 2) rw.lock();
        std::int32_t n = activity.fetch_add(10000) + 10000;
        if (n != 10000) violations.fetch_add(1);
        ++guarded;
        if (rng.below(4) == 0) goro::yield();
        activity.fetch_sub(10000);
        writes.fetch_add(1);
        rw.unlock();
      } else if (op < 12 || (op >= 12 && rw.try_rlock())) {
        if (op < 12) rw.rlock();
        std::int32_t n = activity.fetch_add(1) + 1;
        if (n < 1 || n >= 10000) violations.fetch_add(1);
        long seen = guarded;
        if (rng.below(8) == 0) goro::yield();
        if (guarded != seen) violations.fetch_add(1);
        activity.fetch_sub(1);
        reads.fetch_add(1);
        rw.runlock();
      }
    }
  });
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(guarded, writes.load());
  EXPECT_GT(reads.load(), 0);
}

// --- short-lived primitives ------------------------------------------------------------

TEST(SyncStress, ShortLivedPrimitivesAreFreedByTheirLastUser) {
  // Each task makes a Mutex, a Cond and a WaitGroup on the heap, lets a few
  // goroutines hand a token around through them, and the last one out frees
  // everything at once (ASan: no use after free; TSan: no race with delete).
  struct Task {
    goro::Mutex mu;
    goro::Cond cv{mu};
    goro::WaitGroup wg;
    int turn = 0;  // under mu
    std::atomic<int> left{0};
  };
  const int tasks = static_cast<int>(scaled(60000, 30000, 20000));
  constexpr int kParties = 3;
  std::atomic<long> turns{0};
  goro::run([&] {
    goro::WaitGroup all;
    for (int t = 0; t < tasks; ++t) {
      auto* task = new Task;
      task->left = kParties + 1;
      auto release = [task] {
        if (task->left.fetch_sub(1) == 1) delete task;
      };
      for (int p = 0; p < kParties; ++p) {
        task->wg.add(1);
        all.go([task, p, &turns, release] {
          {
            std::unique_lock lock(task->mu);
            task->cv.wait([&] { return task->turn == p; });
            ++task->turn;
            turns.fetch_add(1);
            task->cv.broadcast();
          }
          task->wg.done();
          release();
        });
      }
      all.go([task, release] {
        task->wg.wait();
        release();
      });
    }
    all.wait();
  });
  EXPECT_EQ(turns.load(), long{tasks} * kParties);
}

}  // namespace
