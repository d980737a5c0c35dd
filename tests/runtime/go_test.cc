// goro::go and goroutine identity: spawning, nesting, what happens to the
// callable, IDs, in_goroutine() and num_goroutine().
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace {

using goro_test::eventually;
using goro_test::scaled;

// --- spawning ----------------------------------------------------------------

TEST(Go, ThousandsOfGoroutinesEachRunExactlyOnce) {
  const int n = static_cast<int>(scaled(20000, 10000, 5000));
  std::vector<std::atomic<int>> runs(static_cast<std::size_t>(n));
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&runs, &wg, i] {
        runs[static_cast<std::size_t>(i)].fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
  });
  int wrong = 0;
  for (int i = 0; i < n; ++i) {
    if (runs[static_cast<std::size_t>(i)].load() != 1) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "goroutines that did not run exactly once";
}

// Each node of the tree is a goroutine that starts its children and
// finishes without waiting for them.
void grow_tree(int depth, int fan_out, goro::WaitGroup& wg, std::atomic<int>& nodes) {
  nodes.fetch_add(1);
  if (depth > 0) {
    wg.add(fan_out);
    for (int i = 0; i < fan_out; ++i) {
      goro::go([=, &wg, &nodes] { grow_tree(depth - 1, fan_out, wg, nodes); });
    }
  }
  wg.done();
}

TEST(Go, NestedSpawnsOfATreeAllComplete) {
  // Depth 4, fan-out 10: 1 + 10 + 100 + 1000 + 10000 goroutines.
  std::atomic<int> nodes{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] { grow_tree(4, 10, wg, nodes); });
    wg.wait();
  });
  EXPECT_EQ(nodes.load(), 11111);
}

TEST(Go, WorksFromAPlainThreadWithoutRun) {
  // go() needs no goro::run: the scheduler starts on first use and the
  // goroutine runs on a worker, not on the creating thread.
  std::atomic<bool> ran{false};
  std::atomic<bool> on_goroutine{false};
  std::atomic<std::uint64_t> id{0};
  std::thread creator([&] {
    goro::go([&] {
      on_goroutine = goro::in_goroutine();
      id = goro::id();
      ran = true;
    });
  });
  creator.join();
  ASSERT_TRUE(eventually([&] { return ran.load(); }));
  EXPECT_TRUE(on_goroutine.load());
  EXPECT_NE(id.load(), 0u);
  // (That such a goroutine has no creator goroutine -- "created by F" with
  // no "in goroutine N" -- is checked by the panic tests' traceback.)
}

TEST(Go, CreatorKeepsRunningWhileItsGoroutinesBlock) {
  // go() only queues the new goroutine; goroutines that block park and
  // free their worker, so their creator (and the rest) keep running.
  constexpr int kN = 1000;
  std::atomic<int> started{0};
  goro::run([&] {
    goro::WaitGroup release;
    release.add(1);
    goro::WaitGroup done;
    done.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&] {
        started.fetch_add(1);
        release.wait();
        done.done();
      });
    }
    EXPECT_TRUE(eventually([&] { return started.load() == kN; }));
    release.done();
    done.wait();
  });
}

// --- the callable --------------------------------------------------------------

TEST(Go, MoveOnlyCapturesAreMovedIntoTheGoroutine) {
  std::atomic<int> seen{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    auto owned = std::make_unique<int>(42);
    goro::go([&, p = std::move(owned)] {
      seen = *p;
      wg.done();
    });
    EXPECT_EQ(owned, nullptr);
    wg.wait();
  });
  EXPECT_EQ(seen.load(), 42);
}

TEST(Go, LargeCapturesArriveIntact) {
  // Above 1 KiB the closure no longer fits the goroutine's stack slot and
  // lives on the heap: both paths must deliver the same bytes.
  std::atomic<int> intact{0};
  goro::run([&] {
    constexpr int kSizes = 2;
    goro::WaitGroup wg;
    wg.add(kSizes);
    std::array<char, 4096> big;
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 1);
    goro::go([&wg, &intact, big] {
      bool ok = true;
      for (std::size_t i = 0; i < big.size(); ++i) ok = ok && big[i] == static_cast<char>(i * 7 + 1);
      if (ok) intact.fetch_add(1);
      wg.done();
    });
    std::array<char, 1000> small;
    for (std::size_t i = 0; i < small.size(); ++i) small[i] = static_cast<char>(i * 3 + 5);
    goro::go([&wg, &intact, small] {
      bool ok = true;
      for (std::size_t i = 0; i < small.size(); ++i) ok = ok && small[i] == static_cast<char>(i * 3 + 5);
      if (ok) intact.fetch_add(1);
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(intact.load(), 2);
}

struct alignas(64) CacheLineAligned {
  char bytes[64];
};
struct alignas(256) OverAligned {  // beyond what the stack slot offers: heap
  char bytes[16];
};

TEST(Go, OverAlignedCapturesAreAligned) {
  std::atomic<std::uintptr_t> misaligned{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(2);
    CacheLineAligned a{};
    goro::go([&, a] {
      misaligned.fetch_or(reinterpret_cast<std::uintptr_t>(&a) % 64);
      wg.done();
    });
    OverAligned b{};
    goro::go([&, b] {
      misaligned.fetch_or(reinterpret_cast<std::uintptr_t>(&b) % 256);
      wg.done();
    });
    wg.wait();
  });
  EXPECT_EQ(misaligned.load(), 0u);
}

TEST(Go, TheCallablesResultIsDiscarded) {
  std::atomic<bool> ran{false};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      ran = true;
      wg.done();
      return std::string("ignored");
    });
    wg.wait();
  });
  EXPECT_TRUE(ran.load());
}

// Counts its instances and remembers, for the instance that ran, where its
// destructor ran.
struct Lifecycle {
  std::atomic<int> live{0};
  std::atomic<int> destroyed_after_running{0};
  std::atomic<int> destroyed_on_own_goroutine{0};
};

class Probe {
 public:
  Probe(Lifecycle& l, goro::WaitGroup& wg) : l_(&l), wg_(&wg) { l_->live.fetch_add(1); }
  Probe(const Probe& o) : l_(o.l_), wg_(o.wg_) { l_->live.fetch_add(1); }
  Probe(Probe&& o) noexcept : l_(o.l_), wg_(o.wg_) { l_->live.fetch_add(1); }
  ~Probe() {
    if (ran_on_ != 0) {
      l_->destroyed_after_running.fetch_add(1);
      if (goro::id() == ran_on_) l_->destroyed_on_own_goroutine.fetch_add(1);
    }
    l_->live.fetch_sub(1);
  }
  void operator()() {
    ran_on_ = goro::id();
    wg_->done();
  }

 private:
  Lifecycle* l_;
  goro::WaitGroup* wg_;
  std::uint64_t ran_on_ = 0;
};

TEST(Go, TheCallableIsDestroyedOnItsGoroutineAfterRunning) {
  constexpr int kN = 1000;
  Lifecycle l;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(2 * kN);
    for (int i = 0; i < kN; ++i) {
      Probe p(l, wg);
      goro::go(p);  // copied in
    }
    for (int i = 0; i < kN; ++i) goro::go(Probe(l, wg));  // moved in
    wg.wait();
  });
  // done() runs inside the callable, so destruction may still be under way.
  EXPECT_TRUE(eventually([&] { return l.live.load() == 0; })) << l.live.load() << " callables never destroyed";
  EXPECT_EQ(l.destroyed_after_running.load(), 2 * kN);
  EXPECT_EQ(l.destroyed_on_own_goroutine.load(), 2 * kN);
}

struct CopyBomb {
  std::atomic<int>* ran;
  char padding[16];
  CopyBomb(std::atomic<int>* r) : ran(r) {}
  CopyBomb(const CopyBomb&) { throw std::runtime_error("copy failed"); }
  void operator()() const { ran->fetch_add(1); }
};
struct BigCopyBomb : CopyBomb {  // heap-allocated closure path
  using CopyBomb::CopyBomb;
  char more[4096];
};

TEST(Go, WhenCopyingTheCallableThrowsNoGoroutineIsStarted) {
  std::atomic<int> ran{0};
  goro::run([&] {
    std::int64_t before = goro::num_goroutine();
    CopyBomb small(&ran);
    EXPECT_THROW(goro::go(small), std::runtime_error);
    BigCopyBomb big(&ran);
    EXPECT_THROW(goro::go(big), std::runtime_error);
    goro::sleep(std::chrono::milliseconds(20));  // give a wrongly started one time to run
    // <=, not ==: goroutines of earlier tests may still be finishing their
    // exit when this one starts (they only make the count drop).
    EXPECT_LE(goro::num_goroutine(), before);
    // The slots were given back cleanly: spawning still works.
    goro::WaitGroup wg;
    wg.add(100);
    for (int i = 0; i < 100; ++i) goro::go([&] { wg.done(); });
    wg.wait();
  });
  EXPECT_EQ(ran.load(), 0);
}

// --- identity ------------------------------------------------------------------

TEST(Id, IsZeroOffGoroutines) {
  EXPECT_EQ(goro::id(), 0u);
  std::uint64_t on_thread = 1;
  std::thread([&] { on_thread = goro::id(); }).join();
  EXPECT_EQ(on_thread, 0u);
}

TEST(Id, IsUniqueAndNonZeroAcrossGoroutines) {
  const int n = static_cast<int>(scaled(10000, 5000, 2000));
  std::vector<std::uint64_t> ids(static_cast<std::size_t>(n) + 1);
  goro::run([&] {
    ids[0] = goro::id();
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 1; i <= n; ++i) {
      // Half of them start from other goroutines, on other workers.
      auto record = [&ids, &wg, i] {
        ids[static_cast<std::size_t>(i)] = goro::id();
        wg.done();
      };
      if (i % 2 == 0) {
        goro::go(record);
      } else {
        goro::go([record] { goro::go(record); });
      }
    }
    wg.wait();
  });
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 0u), 0);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "two goroutines share an ID";
}

TEST(Id, StaysTheSameAcrossBlockingAndWorkerChanges) {
  constexpr int kN = 50;
  std::atomic<int> changed{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; ++i) {
      goro::go([&] {
        std::uint64_t mine = goro::id();
        for (int j = 0; j < 20; ++j) {
          if (j % 2 == 0) {
            goro::yield();
          } else {
            goro::sleep(std::chrono::microseconds(100));
          }
          if (goro::id() != mine) changed.fetch_add(1);
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(changed.load(), 0);
}

TEST(InGoroutine, IsTrueOnGoroutinesAndFalseOnThreads) {
  EXPECT_FALSE(goro::in_goroutine());
  std::atomic<bool> in_main{false}, in_child{false};
  goro::run([&] {
    in_main = goro::in_goroutine();
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      in_child = goro::in_goroutine();
      wg.done();
    });
    wg.wait();
  });
  EXPECT_TRUE(in_main.load());
  EXPECT_TRUE(in_child.load());
  bool in_thread = true;
  std::thread([&] { in_thread = goro::in_goroutine(); }).join();
  EXPECT_FALSE(in_thread);
}

// --- num_goroutine -------------------------------------------------------------

TEST(NumGoroutine, CountsTheMainGoroutine) {
  std::int64_t inside = 0;
  goro::run([&] { inside = goro::num_goroutine(); });
  EXPECT_GE(inside, 1);
}

TEST(NumGoroutine, CountsLiveGoroutinesAndReturnsToTheBaselineWhenTheyEnd) {
  const int n = static_cast<int>(scaled(5000, 2000, 1000));
  goro::run([&] {
    // Earlier tests' goroutines may still be finishing: never above this.
    std::int64_t baseline = goro::num_goroutine();
    goro::WaitGroup started, release, done;
    started.add(n);
    release.add(1);
    done.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&] {
        started.done();
        release.wait();
        done.done();
      });
    }
    started.wait();
    EXPECT_GE(goro::num_goroutine(), baseline + n);
    release.done();
    done.wait();
    // A goroutine stops counting when its worker has retired it, just after
    // its last instruction: asynchronous, so poll with a bound.
    EXPECT_TRUE(eventually([&] { return goro::num_goroutine() <= baseline; }))
        << "num_goroutine() = " << goro::num_goroutine() << ", baseline " << baseline;
  });
}

TEST(NumGoroutine, IncludesGoroutinesStartedFromPlainThreads) {
  constexpr int kN = 100;
  std::atomic<int> started{0};
  goro::WaitGroup release;
  release.add(1);
  std::atomic<int> finished{0};
  std::int64_t baseline = goro::num_goroutine();
  std::thread creator([&] {
    for (int i = 0; i < kN; ++i) {
      goro::go([&] {
        started.fetch_add(1);
        release.wait();
        finished.fetch_add(1);
      });
    }
  });
  creator.join();
  ASSERT_TRUE(eventually([&] { return started.load() == kN; }));
  EXPECT_GE(goro::num_goroutine(), baseline + kN);
  release.done();  // from the test's plain thread
  ASSERT_TRUE(eventually([&] { return finished.load() == kN; }));
  EXPECT_TRUE(eventually([&] { return goro::num_goroutine() <= baseline; }))
      << "num_goroutine() = " << goro::num_goroutine() << ", baseline " << baseline;
}

}  // namespace
