// Goroutine stacks: a million parked goroutines fit a default kernel
// (vm.max_map_count = 65530, no guard page for most of them), goroutines can
// use their whole stack, and overflowing it is a fatal error with Go's
// message -- with or without a guard page below the stack.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <stdexcept>

#include "support/test_support.h"

namespace {

using ::testing::ExitedWithCode;
using goro_test::scaled;

// --- a million parked goroutines ------------------------------------------------

TEST(Stacks, AMillionParkedGoroutinesAreReleasedAndAllFinish) {
  // Sanitizers keep per-goroutine state (TSan: a fiber each) that makes a
  // million impractical; the mechanism is the same at a smaller scale.
  long n = scaled(1'000'000, 100'000, 10'000);
  if (const char* v = std::getenv("GORO_TEST_PARKED"); v != nullptr && *v != '\0') n = std::atol(v);
  std::atomic<long> finished{0};
  std::int64_t live_while_parked = 0;
  auto t0 = std::chrono::steady_clock::now();
  double spawned_ms = 0, released_ms = 0;
  goro::run([&] {
    goro::WaitGroup started, release, done;
    started.add(n);
    release.add(1);
    done.add(n);
    for (long i = 0; i < n; ++i) {
      goro::go([&] {
        started.done();
        release.wait();  // parks: a million goroutines waiting at once
        finished.fetch_add(1, std::memory_order_relaxed);
        done.done();
      });
    }
    started.wait();
    live_while_parked = goro::num_goroutine();
    spawned_ms = goro_test::ms_since(t0);
    release.done();
    done.wait();
    released_ms = goro_test::ms_since(t0) - spawned_ms;
  });
  EXPECT_EQ(finished.load(), n);
  EXPECT_GE(live_while_parked, n);
  std::cout << "[ info ] " << n << " goroutines: spawned and parked in " << spawned_ms << " ms, released and joined in "
            << released_ms << " ms\n";
}

// --- using the stack ------------------------------------------------------------

// Each frame holds 256 bytes it reads after the recursive call returns, so
// the recursion can be neither flattened nor turned into a loop.
volatile int g_never = INT_MAX;

[[gnu::noinline]] std::uintptr_t lowest_frame(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  auto here = reinterpret_cast<std::uintptr_t>(&frame[0]);
  std::uintptr_t lowest = depth > 0 ? lowest_frame(depth - 1) : here;
  return lowest + static_cast<std::uintptr_t>(frame[0] - static_cast<char>(depth));
}

TEST(Stacks, AGoroutineCanUseMostOfItsStack) {
  // Stacks are reserved at full size and committed as they are touched: a
  // recursion through ~60% of the stack must just work.
  std::uintptr_t used = 0;
  const std::size_t size = goro::stack_size();
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      std::uintptr_t frame_bytes = lowest_frame(0) - lowest_frame(1);  // one frame's size
      int depth = static_cast<int>(size * 6 / 10 / frame_bytes);
      auto top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
      used = top - lowest_frame(depth);
      wg.done();
    });
    wg.wait();
  });
  EXPECT_GT(used, size / 2);
  EXPECT_LT(used, size);
}

TEST(Stacks, StackSizeCannotChangeOnceGoroutinesRun) {
  goro::run([] {});
  const std::size_t before = goro::stack_size();
  EXPECT_THROW(goro::set_stack_size(std::size_t{1} << 20), std::logic_error);
  EXPECT_EQ(goro::stack_size(), before);
}

TEST(StackSizeDeathTest, SetBeforeTheFirstGoroutineTakesEffectRoundedToPages) {
  EXPECT_EXIT(
      {
        goro::set_stack_size(100'000);  // a fresh process: nothing started yet
        bool ok = goro::stack_size() == 102'400;
        std::uintptr_t used = 0;
        goro::run([&] {
          goro::WaitGroup wg;
          wg.add(1);
          goro::go([&] {
            auto top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
            used = top - lowest_frame(100);  // ~30 KiB: fits
            wg.done();
          });
          wg.wait();
        });
        std::exit(ok && used > 0 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

TEST(StackSizeDeathTest, SizesOutsideSixteenKiBToOneGiBAreRejected) {
  EXPECT_EXIT(
      {
        int rejected = 0;
        for (std::size_t bad : {std::size_t{0}, std::size_t{16 << 10} - 1, (std::size_t{1} << 30) + 1}) {
          try {
            goro::set_stack_size(bad);
          } catch (const std::invalid_argument&) {
            ++rejected;
          }
        }
        goro::set_stack_size(16 << 10);  // the bounds themselves are fine
        goro::set_stack_size(std::size_t{1} << 30);
        std::exit(rejected == 3 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

// --- overflow ---------------------------------------------------------------------

// Frames of 2 KiB: an overflow of an unguarded stack runs through up to a
// whole arena of slots below it (64 MiB) before it reaches a guard page, and
// TSan's shadow call stack holds only 64Ki frames; small frames would
// overflow TSan's stack first and crash inside TSan.
[[gnu::noinline]] int recurse_forever(int depth) {
  char frame[2048];
  frame[0] = static_cast<char>(depth);
  // The array escapes: the compiler must keep all 2 KiB of it (clang splits
  // a volatile array into the elements actually used).
  asm volatile("" : : "r"(frame) : "memory");
  if (depth == g_never) return 0;             // never true; the compiler cannot know
  int below = recurse_forever(depth + 1);     // not a tail call: frame is read after
  asm volatile("" : : "r"(frame) : "memory");
  return below + frame[0];
}

[[gnu::noinline]] void overflow_saying_who() {
  std::fprintf(stderr, "overflowing goroutine is %llu\n", static_cast<unsigned long long>(goro::id()));
  recurse_forever(0);
}

// Child-process scenario: park `parked` goroutines first (keeping their
// stack slots in use), then overflow the stack of a new goroutine.
[[noreturn]] void overflow_after_parking(long parked) {
  goro::run([parked] {
    goro::WaitGroup started, forever;
    started.add(parked);
    forever.add(1);
    for (long i = 0; i < parked; ++i) {
      goro::go([&] {
        started.done();
        forever.wait();
      });
    }
    started.wait();
    goro::go([] { overflow_saying_who(); });
    forever.wait();
  });
  std::fprintf(stderr, "the overflow did not end the process\n");
  std::exit(0);
}

// Guard pages exist only while vm.max_map_count allows (about a quarter of
// it: ~16,000 slots by default); later stacks have none, and an overflow
// runs into the slot below. Parking this many goroutines first uses up the
// guarded slots.
long parked_to_exhaust_guard_pages() {
  long max_map_count = 65530;
  std::ifstream("/proc/sys/vm/max_map_count") >> max_map_count;
  return max_map_count / 4 + 4000;
}

GORO_TEST_SCENARIO(overflow_guarded) { overflow_after_parking(0); }
GORO_TEST_SCENARIO(overflow_unguarded) { overflow_after_parking(parked_to_exhaust_guard_pages()); }

// Go's report: the limit, "fatal error: stack overflow", then the
// overflowing goroutine's traceback.
void expect_overflow_report(const goro_test::ChildResult& r) {
  EXPECT_TRUE(r.exited && r.exit_code == 2) << "exit " << r.exit_code << " signal " << r.signal << "\n" << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("overflowing goroutine is ([0-9]+)\n"))) << r.err;
  std::size_t limit = r.err.find("runtime: goroutine stack exceeds ");
  std::size_t fatal = r.err.find("\nfatal error: stack overflow\n\n");
  std::size_t header = r.err.find("\ngoroutine " + m[1].str() + " [running]:\n");
  EXPECT_NE(limit, std::string::npos) << r.err;
  EXPECT_NE(fatal, std::string::npos) << r.err;
  EXPECT_NE(header, std::string::npos) << "no traceback header for the overflowing goroutine\n" << r.err;
  EXPECT_TRUE(limit < fatal && fatal < header) << "out of order:\n" << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("runtime: goroutine stack exceeds [0-9]+-byte limit\n"))) << r.err;
}

TEST(StackOverflowDeathTest, UnboundedRecursionIsAFatalErrorWithExitStatus2) {
  expect_overflow_report(goro_test::run_scenario("overflow_guarded"));
}

TEST(StackOverflowDeathTest, TracebackShowsTheRecursingFunction) {
  EXPECT_EXIT(overflow_after_parking(0), ExitedWithCode(2),
              "fatal error: stack overflow\n\ngoroutine [0-9]+ \\[running\\]:\n"
              "[^\n]*recurse_forever\\(\\.\\.\\.\\)\n");
}

TEST(StackOverflowDeathTest, OverflowOfAnUnguardedStackIsReportedToo) {
  // It must be reported, not corrupt the neighbours silently.
  if (parked_to_exhaust_guard_pages() > 400'000) {
    GTEST_SKIP() << "vm.max_map_count is raised: too many goroutines to park to get past the guarded stacks";
  }
  expect_overflow_report(goro_test::run_scenario("overflow_unguarded"));
}

}  // namespace
