// Stacks: a million parked goroutines fit a default kernel
// (vm.max_map_count = 65530) and are released again.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <cstdlib>

#include "test_support.h"

namespace {

TEST(Stacks, AMillionParkedGoroutinesThenReleased) {
  // Sanitizers keep per-fiber state that makes a million impractical there.
  // CTest runs the full million once (GORO_TEST_PARKED), fewer elsewhere.
  int n = goro_test::kSanitized ? 20000 : 100000;
  if (const char* v = std::getenv("GORO_TEST_PARKED"); v != nullptr && !goro_test::kSanitized) n = std::atoi(v);
  std::atomic<int> finished{0};
  goro::run([&] {
    goro::WaitGroup started, release, done;
    started.add(n);
    release.add(1);
    done.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&] {
        started.done();
        release.wait();
        finished.fetch_add(1, std::memory_order_relaxed);
        done.done();
      });
    }
    started.wait();
    EXPECT_GE(goro::num_goroutine(), n);
    release.done();
    done.wait();
  });
  EXPECT_EQ(finished.load(), n);
}

TEST(Stacks, StackSizeCannotChangeOnceRunning) {
  goro::run([] {});
  EXPECT_THROW(goro::set_stack_size(1 << 20), std::logic_error);
  EXPECT_GE(goro::stack_size(), std::size_t{16} << 10);
}

}  // namespace
