// Failures end the process like Go: panics from exceptions, stack overflow.
// Death tests run in a re-executed child ("threadsafe" style: the parent has
// worker threads).
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <cstdlib>
#include <stdexcept>

namespace {

[[gnu::noinline]] void throw_boom_from_here() { throw std::runtime_error("boom"); }

void run_and_panic_in_goroutine() {
  goro::run([] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([] { throw_boom_from_here(); });
    wg.wait();  // never returns: the panic ends the process
  });
  std::exit(0);
}

class PanicDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(PanicDeathTest, ExceptionInGoroutineIsAPanicWithExitCode2) {
  EXPECT_EXIT(run_and_panic_in_goroutine(), ::testing::ExitedWithCode(2),
              "panic: \\(std::runtime_error\\) boom\n\ngoroutine [0-9]+ \\[running\\]:\n"
              "[^\n]*throw_boom_from_here\\(\\.\\.\\.\\)");
}

TEST_F(PanicDeathTest, TracebackSaysWhoCreatedTheGoroutine) {
  EXPECT_EXIT(run_and_panic_in_goroutine(), ::testing::ExitedWithCode(2), "created by .* in goroutine 1\n");
}

TEST_F(PanicDeathTest, GoroErrorsPrintGosMessageBare) {
  EXPECT_EXIT(
      {
        goro::run([] {
          goro::WaitGroup wg;
          wg.add(-1);
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(2), "panic: sync: negative WaitGroup counter\n\ngoroutine 1 \\[running\\]:");
}

TEST_F(PanicDeathTest, ExceptionInMainGoroutineIsAPanicToo) {
  EXPECT_EXIT(
      {
        goro::run([] { throw std::logic_error("bad main"); });
        std::exit(0);
      },
      ::testing::ExitedWithCode(2), "panic: \\(std::logic_error\\) bad main");
}

[[gnu::noinline]] int recurse_forever(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  int below = recurse_forever(depth + 1);  // not a tail call: frame is used after
  return below + frame[0];
}

TEST_F(PanicDeathTest, StackOverflowIsAFatalErrorWithTheGoroutine) {
  EXPECT_EXIT(
      {
        goro::run([] {
          goro::WaitGroup wg;
          wg.add(1);
          goro::go([] { recurse_forever(0); });
          wg.wait();
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(2),
      "runtime: goroutine stack exceeds [0-9]+-byte limit\n.*\nfatal error: stack overflow\n\n"
      "goroutine [0-9]+ \\[running\\]:\n[^\n]*recurse_forever");
}

// Beyond the guard-page budget (vm.max_map_count), stacks have no guard page:
// the overflow must still be reported, not corrupt a neighbour silently.
TEST_F(PanicDeathTest, StackOverflowOnAnUnguardedStackIsReported) {
  EXPECT_EXIT(
      {
        goro::run([] {
          constexpr int kParked = 20000;  // more than the ~16,000 guarded slots
          goro::WaitGroup started, never;
          started.add(kParked);
          never.add(1);
          for (int i = 0; i < kParked; ++i) {
            goro::go([&] {
              started.done();
              never.wait();
            });
          }
          started.wait();
          goro::WaitGroup wg;
          wg.add(1);
          goro::go([] { recurse_forever(0); });
          wg.wait();
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(2), "fatal error: stack overflow");
}

}  // namespace
