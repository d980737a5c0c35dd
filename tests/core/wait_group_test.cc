// goro::WaitGroup.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <string>
#include <thread>

namespace {

TEST(WaitGroup, WaitWithZeroCounterReturns) {
  goro::WaitGroup wg;
  wg.wait();
  goro::run([&] { wg.wait(); });
}

TEST(WaitGroup, NegativeCounterIsGosError) {
  goro::WaitGroup wg;
  try {
    wg.add(-1);
    FAIL() << "expected goro::Error";
  } catch (const goro::Error& e) {
    EXPECT_EQ(std::string(e.what()), "sync: negative WaitGroup counter");
  }
  // The counter is unchanged: the group still works.
  wg.add(1);
  wg.done();
  wg.wait();
}

TEST(WaitGroup, PlainThreadWaitsForGoroutines) {
  goro::WaitGroup wg;
  std::atomic<int> done{0};
  wg.add(100);
  for (int i = 0; i < 100; ++i) {
    goro::go([&] {
      goro::sleep(std::chrono::milliseconds(1));
      done.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(done.load(), 100);
}

TEST(WaitGroup, ReleasesEveryWaiter) {
  goro::run([] {
    goro::WaitGroup gate, waiting, released;
    gate.add(1);
    waiting.add(50);
    released.add(50);
    for (int i = 0; i < 50; ++i) {
      goro::go([&] {
        waiting.done();
        gate.wait();
        released.done();
      });
    }
    std::thread thread_waiter([&] { gate.wait(); });
    waiting.wait();
    gate.done();
    released.wait();
    thread_waiter.join();
  });
}

}  // namespace
