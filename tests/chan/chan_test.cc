// goro::Chan, Go's channels without select (select: select_test.cc; heavy
// concurrency: stress_test.cc). Ports the behaviour Go checks in
// runtime/chan_test.go and test/chan/*.go:
//
//  - the nil channel: falsy, empty, blocks forever with Go's "(nil chan)"
//    wait reasons, and close() panics;
//  - unbuffered channels are rendezvous; buffered ones are FIFO with len/cap;
//  - close: receivers drain the buffer then get {T{}, false}, every blocked
//    receiver wakes, blocked senders throw, misuse throws Go's messages;
//  - every value is received exactly once and destroyed exactly once, also
//    move-only values and values left in a channel nobody drains;
//  - Go's memory-model guarantees for channel operations (TSan checks them);
//  - classic programs: the prime sieve, the daisy chain, nonblock.go;
//  - SendChan/RecvChan views, plain OS threads on either side;
//  - uncaught misuse in a goroutine is a Go panic (exit status 2).
//
// Goroutines blocked on the nil channel stay blocked forever; goro::run
// abandons them at exit, as a Go program does. Such goroutines hold no heap
// memory (LeakSanitizer cannot see goroutine stacks).
#include <gtest/gtest.h>
#include <goro/goro.h>
#include <goro/detail/introspect.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <ranges>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro::detail::goroutine_state;
using goro_test::eventually;
using goro_test::go_with_id;
using goro_test::parks_with;
using goro_test::still_parked_with;
using goro_test::throws_go_error;
using goro_test::scaled;
using ::testing::ExitedWithCode;

// --- helpers -----------------------------------------------------------------------

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// An element type that counts its live instances, and separately the live
// values (instances that were not moved from). Counting values catches what
// the instance count alone cannot: destroying a moved-from slot twice while
// leaking a real value elsewhere balances `live` but not `values`. The heap
// payload makes a leaked value visible to LeakSanitizer too.
struct Counted {
  static inline std::atomic<long> live{0};
  static inline std::atomic<long> values{0};
  int id = -1;
  std::unique_ptr<int> payload;

  Counted() noexcept { live.fetch_add(1); }
  explicit Counted(int i) : id(i), payload(std::make_unique<int>(i)) {
    live.fetch_add(1);
    values.fetch_add(1);
  }
  Counted(Counted&& o) noexcept : id(std::exchange(o.id, -1)), payload(std::move(o.payload)) { live.fetch_add(1); }
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    live.fetch_sub(1);
    if (payload != nullptr) values.fetch_sub(1);
  }
  static bool none_alive() { return live.load() == 0 && values.load() == 0; }
};

// An over-aligned element. Its move constructor checks both addresses, so
// a ring-buffer slot that does not honour alignof(Wide) is caught when a
// value moves in or out of it.
struct alignas(64) Wide {
  static inline std::atomic<int> misaligned{0};
  std::array<std::uint64_t, 8> words{};

  Wide() = default;
  Wide(const Wide&) = default;
  Wide(Wide&& o) noexcept : words(o.words) {
    if (!aligned(this) || !aligned(&o)) misaligned.fetch_add(1);
  }
  // The asm hides where p came from: the compiler may otherwise assume a
  // Wide* is aligned and fold the test to true.
  static bool aligned(const void* p) {
    asm volatile("" : "+r"(p));
    return reinterpret_cast<std::uintptr_t>(p) % alignof(Wide) == 0;
  }
};

// --- the nil channel -------------------------------------------------------------------

TEST(NilChan, DefaultConstructedHandlesAreNilFalsyAndEmpty) {
  goro::Chan<int> nil;
  goro::SendChan<int> nil_send;
  goro::RecvChan<int> nil_recv;
  EXPECT_FALSE(nil);
  EXPECT_FALSE(nil_send);
  EXPECT_FALSE(nil_recv);
  EXPECT_EQ(nil.len(), 0u);
  EXPECT_EQ(nil.cap(), 0u);
  // All nil channels are equal (Go: a nil chan == nil), and differ from any
  // made channel.
  EXPECT_TRUE(nil == nil_send);
  EXPECT_TRUE(nil_send == nil_recv);
  auto made = goro::make_chan<int>(3);
  EXPECT_TRUE(made);
  EXPECT_FALSE(made == nil);
}

TEST(NilChan, CloseThrowsCloseOfNilChannel) {
  goro::Chan<int> nil;
  EXPECT_TRUE(throws_go_error([&] { nil.close(); }, "close of nil channel"));
  goro::SendChan<int> nil_send;
  EXPECT_TRUE(throws_go_error([&] { nil_send.close(); }, "close of nil channel"));
}

TEST(NilChan, NonblockingOperationsNeverSucceed) {
  // Go: a select case on a nil channel is never ready, so default runs.
  goro::Chan<std::unique_ptr<int>> nil;
  auto p = std::make_unique<int>(5);
  EXPECT_FALSE(nil.try_send(std::move(p)));
  EXPECT_NE(p, nullptr) << "a value that was not sent must not be moved from";
  EXPECT_FALSE(nil.try_recv().has_value());
  EXPECT_FALSE(goro::RecvChan<std::unique_ptr<int>>(nil).try_recv().has_value());
}

TEST(NilChan, SendAndRecvBlockForeverWithGosNilWaitReasons) {
  // Nothing can ever ready these goroutines: they are abandoned when run()
  // returns. The flag is static so that it outlives this test either way.
  static std::atomic<bool> returned{false};
  goro::run([] {
    goro::Chan<int> nil;
    std::uint64_t sender = go_with_id([nil] {
      nil.send(1);
      returned = true;
    });
    std::uint64_t receiver = go_with_id([nil] {
      nil.recv();
      returned = true;
    });
    std::uint64_t ranger = go_with_id([nil] {
      for (int v : nil) (void)v;
      returned = true;
    });
    EXPECT_TRUE(parks_with(sender, "chan send (nil chan)"));
    EXPECT_TRUE(parks_with(receiver, "chan receive (nil chan)"));
    EXPECT_TRUE(parks_with(ranger, "chan receive (nil chan)"));
    EXPECT_TRUE(still_parked_with(sender, "chan send (nil chan)"));
    EXPECT_TRUE(still_parked_with(receiver, "chan receive (nil chan)"));
    EXPECT_FALSE(returned.load());
  });
}

// --- unbuffered channels: rendezvous -----------------------------------------------------

TEST(Unbuffered, SendWaitsForAReceiver) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    std::atomic<bool> sent{false};
    goro::WaitGroup done;
    done.add(1);
    std::int64_t before = steady_now_ns();
    std::uint64_t sender = go_with_id([&, ch] {
      ch.send(42);
      sent = true;
      done.done();
    });
    ASSERT_TRUE(parks_with(sender, "chan send"));
    auto st = goroutine_state(sender);
    ASSERT_TRUE(st.has_value());
    // Stamped from the coarse monotonic clock, which lags by up to a tick
    // but never runs ahead: a loose lower bound, a strict upper one.
    EXPECT_GT(st->wait_since_ns, before - std::int64_t{1'000'000'000}) << "parked before it was started?";
    EXPECT_LE(st->wait_since_ns, steady_now_ns());
    EXPECT_TRUE(still_parked_with(sender, "chan send"));
    EXPECT_FALSE(sent.load()) << "send returned with nobody receiving";
    EXPECT_EQ(ch.len(), 0u) << "an unbuffered channel never holds a value";
    auto [v, ok] = ch.recv();
    EXPECT_EQ(v, 42);
    EXPECT_TRUE(ok);
    done.wait();
    EXPECT_TRUE(sent.load());
  });
}

TEST(Unbuffered, RecvWaitsForASender) {
  goro::run([] {
    auto ch = goro::make_chan<std::string>();
    std::atomic<bool> received{false};
    std::string got;  // written by the receiver, read after done.wait()
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t receiver = go_with_id([&, ch] {
      got = ch.recv().value;
      received = true;
      done.done();
    });
    ASSERT_TRUE(parks_with(receiver, "chan receive"));
    EXPECT_GT(goroutine_state(receiver).value_or(goro::detail::GoroutineState{}).wait_since_ns, 0);
    EXPECT_TRUE(still_parked_with(receiver, "chan receive"));
    EXPECT_FALSE(received.load());
    ch.send("hello");
    done.wait();
    EXPECT_EQ(got, "hello");
  });
}

TEST(Unbuffered, TrySendSucceedsOnlyWhenAReceiverIsWaiting) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    EXPECT_FALSE(ch.try_send(1)) << "nobody receives: a send would block";
    EXPECT_FALSE(ch.try_recv().has_value()) << "nobody sends: a receive would block";
    std::atomic<int> got{0};
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t receiver = go_with_id([&, ch] {
      got = ch.recv().value;
      done.done();
    });
    ASSERT_TRUE(parks_with(receiver, "chan receive"));
    EXPECT_TRUE(ch.try_send(7));
    done.wait();
    EXPECT_EQ(got.load(), 7);
  });
}

TEST(Unbuffered, TryRecvTakesTheValueOfAWaitingSender) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t sender = go_with_id([&, ch] {
      ch.send(9);
      done.done();
    });
    ASSERT_TRUE(parks_with(sender, "chan send"));
    auto r = ch.try_recv();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->value, 9);
    EXPECT_TRUE(r->ok);
    done.wait();  // the sender was released by the nonblocking receive
  });
}

TEST(Unbuffered, PingPongKeepsStrictAlternation) {
  // Two goroutines bounce a counter: each value arrives exactly once, in
  // order, whichever worker runs which side.
  int rounds = static_cast<int>(scaled(20000, 5000, 2000));
  goro::run([rounds] {
    auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
    goro::go([ping, pong] {
      for (int v : ping) pong.send(v + 1);
      pong.close();
    });
    int next = 0;
    for (int i = 0; i < rounds; ++i) {
      ping.send(next);
      auto [v, ok] = pong.recv();
      ASSERT_TRUE(ok);
      ASSERT_EQ(v, next + 1);
      next = v + 1;
    }
    ping.close();
    EXPECT_FALSE(pong.recv().ok);
    EXPECT_EQ(next, 2 * rounds);
  });
}

TEST(Unbuffered, DaisyChainOfGoroutinesPassesTheValueAlong) {
  // Go's test/chan/goroutines.go and the classic "daisy chain": n
  // goroutines each add one to what they receive from the right and send it
  // to the left. All of them park before the first value moves.
  int n = static_cast<int>(scaled(10000, 2000, 1000));
  int result = 0;
  goro::run([n, &result] {
    auto leftmost = goro::make_chan<int>();
    auto left = leftmost;
    for (int i = 0; i < n; ++i) {
      auto right = goro::make_chan<int>();
      goro::go([left, right] { left.send(right.recv().value + 1); });
      left = right;
    }
    goro::go([left] { left.send(0); });
    result = leftmost.recv().value;
  });
  EXPECT_EQ(result, n);
}

TEST(Unbuffered, ParkedReceiversAreServedInArrivalOrder) {
  // Go's waitq is a FIFO: the receiver that parked first gets the first
  // value. Each receiver parks before the next one starts.
  constexpr int kReceivers = 5;
  std::array<std::atomic<int>, kReceivers> got{};
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup done;
    done.add(kReceivers);
    for (int i = 0; i < kReceivers; ++i) {
      std::uint64_t id = go_with_id([&, ch, i] {
        got[i] = ch.recv().value;
        done.done();
      });
      ASSERT_TRUE(parks_with(id, "chan receive"));
    }
    for (int v = 0; v < kReceivers; ++v) ch.send(100 + v);
    done.wait();
  });
  for (int i = 0; i < kReceivers; ++i) EXPECT_EQ(got[i].load(), 100 + i) << "receiver " << i;
}

TEST(Unbuffered, ParkedSendersAreServedInArrivalOrder) {
  constexpr int kSenders = 5;
  std::vector<int> got;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup done;
    done.add(kSenders);
    for (int i = 0; i < kSenders; ++i) {
      std::uint64_t id = go_with_id([&, ch, i] {
        ch.send(i);
        done.done();
      });
      ASSERT_TRUE(parks_with(id, "chan send"));
    }
    for (int i = 0; i < kSenders; ++i) got.push_back(ch.recv().value);
    done.wait();
  });
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Unbuffered, SynchronousFifoThroughAChainOfTurns) {
  // Go's test/chan/fifo.go SynchFifo: goroutines take turns (each waits for
  // its predecessor's signal) receiving from one unbuffered channel; the
  // i-th to receive must get the i-th value sent.
  const int n = static_cast<int>(scaled(2000, 500, 300));
  std::atomic<int> wrong{0};
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    auto in = goro::make_chan<int>();
    auto start = in;
    for (int i = 0; i < n; ++i) {
      auto out = goro::make_chan<int>();
      goro::go([&wrong, ch, i, in, out] {
        in.recv();
        if (ch.recv().value != i) wrong.fetch_add(1);
        out.send(1);
      });
      in = out;
    }
    start.send(0);
    for (int i = 0; i < n; ++i) ch.send(i);
    in.recv();
  });
  EXPECT_EQ(wrong.load(), 0);
}

// --- buffered channels: FIFO, len and cap --------------------------------------------------

class Buffered : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Buffered, ValuesComeOutInTheOrderTheyWentIn) {
  // Go's test/chan/fifo.go (AsynchFifo): fill, then drain.
  const std::size_t cap = GetParam();
  auto ch = goro::make_chan<int>(cap);
  for (std::size_t i = 0; i < cap; ++i) ch.send(static_cast<int>(i));
  for (std::size_t i = 0; i < cap; ++i) {
    auto [v, ok] = ch.recv();
    ASSERT_TRUE(ok);
    ASSERT_EQ(v, static_cast<int>(i));
  }
}

TEST_P(Buffered, LenAndCapTrackTheBufferAndTryOpsRespectIt) {
  const std::size_t cap = GetParam();
  auto ch = goro::make_chan<int>(cap);
  EXPECT_EQ(ch.cap(), cap);
  for (std::size_t i = 0; i < cap; ++i) {
    EXPECT_EQ(ch.len(), i);
    EXPECT_TRUE(ch.try_send(static_cast<int>(i)));
  }
  EXPECT_EQ(ch.len(), cap);
  EXPECT_FALSE(ch.try_send(-1)) << "the buffer is full";
  EXPECT_EQ(ch.len(), cap);
  for (std::size_t i = 0; i < cap; ++i) {
    auto r = ch.try_recv();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->value, static_cast<int>(i));
    EXPECT_EQ(ch.len(), cap - i - 1);
  }
  EXPECT_FALSE(ch.try_recv().has_value()) << "the buffer is empty";
  EXPECT_EQ(ch.cap(), cap) << "cap never changes";
}

TEST_P(Buffered, ConcurrentSenderAndReceiverKeepFifoOrder) {
  // runtime/chan_test.go TestChan: "Send 100 integers, ensure that we
  // receive them non-corrupted in FIFO order", with a goroutine on each side.
  const std::size_t cap = GetParam();
  int n = static_cast<int>(scaled(10000, 3000, 1000));
  goro::run([cap, n] {
    auto ch = goro::make_chan<int>(cap);
    goro::go([ch, n] {
      for (int i = 0; i < n; ++i) ch.send(i);
    });
    for (int i = 0; i < n; ++i) {
      auto [v, ok] = ch.recv();
      ASSERT_TRUE(ok);
      ASSERT_EQ(v, i) << "out of order";
      if (i % 97 == 0) goro::yield();  // let the buffer fill up now and then
    }
  });
}

TEST_P(Buffered, ASenderBlocksWhenFullAndItsValueQueuesBehindTheBuffer) {
  // A receiver that frees a slot takes the head and the waiting sender's
  // value goes to the tail at once (Go's recv with a parked sender): len
  // stays at cap, order stays FIFO.
  const std::size_t cap = GetParam();
  goro::run([cap] {
    auto ch = goro::make_chan<int>(cap);
    for (std::size_t i = 0; i < cap; ++i) ch.send(static_cast<int>(i));
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t sender = go_with_id([&, ch] {
      ch.send(static_cast<int>(cap));
      done.done();
    });
    ASSERT_TRUE(parks_with(sender, "chan send"));
    EXPECT_TRUE(still_parked_with(sender, "chan send"));
    EXPECT_EQ(ch.recv().value, 0);
    EXPECT_EQ(ch.len(), cap) << "the parked sender's value should have entered the buffer";
    done.wait();
    for (std::size_t i = 1; i <= cap; ++i) EXPECT_EQ(ch.recv().value, static_cast<int>(i));
    EXPECT_EQ(ch.len(), 0u);
  });
}

TEST_P(Buffered, AReceiverBlocksWhenEmpty) {
  const std::size_t cap = GetParam();
  goro::run([cap] {
    auto ch = goro::make_chan<int>(cap);
    std::atomic<int> got{-1};
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t receiver = go_with_id([&, ch] {
      got = ch.recv().value;
      done.done();
    });
    ASSERT_TRUE(parks_with(receiver, "chan receive"));
    EXPECT_TRUE(still_parked_with(receiver, "chan receive"));
    EXPECT_EQ(got.load(), -1);
    ch.send(5);  // handed straight to the waiting receiver
    done.wait();
    EXPECT_EQ(got.load(), 5);
    EXPECT_EQ(ch.len(), 0u);
  });
}

INSTANTIATE_TEST_SUITE_P(Capacities, Buffered, ::testing::Values(1, 10, 100),
                         [](const auto& info) { return "cap" + std::to_string(info.param); });

TEST(BufferedModel, RandomTryOpsMatchAQueue) {
  // The ring buffer wraps around many times; every nonblocking operation
  // must agree with a std::deque of capacity 7.
  constexpr std::size_t kCap = 7;
  auto ch = goro::make_chan<int>(kCap);
  std::deque<int> model;
  std::mt19937 rng(12345);
  for (int step = 0, next = 0; step < 20000; ++step) {
    if (rng() % 2 == 0) {
      bool sent = ch.try_send(next);
      ASSERT_EQ(sent, model.size() < kCap) << "step " << step;
      if (sent) model.push_back(next++);
    } else {
      auto r = ch.try_recv();
      ASSERT_EQ(r.has_value(), !model.empty()) << "step " << step;
      if (r) {
        ASSERT_EQ(r->value, model.front()) << "step " << step;
        model.pop_front();
      }
    }
    ASSERT_EQ(ch.len(), model.size()) << "step " << step;
  }
}

TEST(BufferedModel, OverAlignedAndLargeElementsSurviveTheBuffer) {
  auto ch = goro::make_chan<Wide>(5);
  for (std::uint64_t round = 0; round < 3; ++round) {  // wrap around the ring
    for (std::uint64_t i = 0; i < 4; ++i) {
      Wide w;
      w.words.fill(round * 10 + i);
      ch.send(w);
    }
    for (std::uint64_t i = 0; i < 4; ++i) {
      auto [w, ok] = ch.recv();
      ASSERT_TRUE(ok);
      for (std::uint64_t word : w.words) ASSERT_EQ(word, round * 10 + i);
    }
  }
  EXPECT_EQ(Wide::misaligned.load(), 0) << "a value moved from or to a misaligned slot";
  auto big = goro::make_chan<std::array<char, 4096>>(2);
  std::array<char, 4096> page;
  page.fill('x');
  big.send(page);
  EXPECT_EQ(big.recv().value, page);
}

// --- any capacity ------------------------------------------------------------------------

class AnyCapacity : public ::testing::TestWithParam<std::size_t> {};

TEST_P(AnyCapacity, ManySendersAndReceiversDeliverEveryValueOnce) {
  // TestChan's "Send 1000 integers in 4 goroutines, ensure that we receive
  // what we send" and TestMultiConsumer: per-value counts, not just a sum.
  const std::size_t cap = GetParam();
  constexpr int kSenders = 4, kReceivers = 4;
  const int per = static_cast<int>(scaled(5000, 1000, 500));
  std::vector<std::atomic<int>> seen(kSenders * per);
  goro::run([&] {
    auto ch = goro::make_chan<int>(cap);
    goro::WaitGroup sent, received;
    sent.add(kSenders);
    received.add(kReceivers);
    for (int s = 0; s < kSenders; ++s) {
      goro::go([&, ch, s] {
        for (int i = 0; i < per; ++i) ch.send(s * per + i);
        sent.done();
      });
    }
    for (int r = 0; r < kReceivers; ++r) {
      goro::go([&, ch] {
        for (int v : ch) seen[v].fetch_add(1);
        received.done();
      });
    }
    sent.wait();
    ch.close();
    received.wait();
  });
  for (int v = 0; v < kSenders * per; ++v) ASSERT_EQ(seen[v].load(), 1) << "value " << v;
}

TEST_P(AnyCapacity, CloseRacingWithSendersLosesNothing) {
  // Senders send until the channel is closed under them. Every send that
  // returned normally must be received; every one that threw must not be.
  const std::size_t cap = GetParam();
  constexpr int kSenders = 4;
  std::atomic<long> sent{0}, received{0}, refused{0};
  goro::run([&] {
    auto ch = goro::make_chan<int>(cap);
    goro::WaitGroup senders, receiver;
    senders.add(kSenders);
    receiver.add(1);
    for (int s = 0; s < kSenders; ++s) {
      goro::go([&, ch] {
        try {
          for (;;) {
            ch.send(1);
            sent.fetch_add(1);
          }
        } catch (const goro::Error& e) {
          if (std::string(e.what()) == "send on closed channel") refused.fetch_add(1);
        }
        senders.done();
      });
    }
    goro::go([&, ch] {
      for (int v : ch) received.fetch_add(v);
      receiver.done();
    });
    eventually([&] { return received.load() >= 1000; });
    ch.close();
    senders.wait();
    receiver.wait();
  });
  EXPECT_EQ(refused.load(), kSenders);
  EXPECT_EQ(sent.load(), received.load());
}

TEST_P(AnyCapacity, ReceiveDrainsThenReportsClosedAndRangeEnds) {
  // Whatever the capacity, a closed channel yields what was sent before the
  // close, then {T{}, false} forever; range-for stops there.
  const std::size_t cap = GetParam();
  const int n = static_cast<int>(cap) + 20;
  std::vector<int> got;
  goro::run([&] {
    auto ch = goro::make_chan<int>(cap);
    goro::go([ch, n] {
      for (int i = 1; i <= n; ++i) ch.send(i);
      ch.close();
    });
    for (int v : ch) got.push_back(v);
    for (int again = 0; again < 3; ++again) {
      auto [v, ok] = ch.recv();
      EXPECT_EQ(v, 0);
      EXPECT_FALSE(ok);
    }
  });
  std::vector<int> want(n);
  std::iota(want.begin(), want.end(), 1);
  EXPECT_EQ(got, want);
}

TEST_P(AnyCapacity, NonblockingOperationsLikeNonblockGo) {
  // Go's test/chan/nonblock.go, for several element types: a try
  // operation succeeds once the other side is ready, never earlier.
  const std::size_t cap = GetParam();
  auto round = [cap](auto sent_by_main, auto sent_by_goroutine) {
    using T = decltype(sent_by_main);
    auto c = goro::make_chan<T>(cap);
    auto sync = goro::make_chan<bool>();
    EXPECT_FALSE(c.try_recv().has_value()) << "nothing to receive yet";
    goro::go([c, sync, sent_by_main] {
      EXPECT_EQ(c.recv().value, sent_by_main);
      sync.send(true);
    });
    EXPECT_TRUE(eventually([&] { return c.try_send(T(sent_by_main)); })) << "the receiver never became ready";
    sync.recv();
    goro::go([c, sync, sent_by_goroutine] {
      c.send(sent_by_goroutine);
      sync.send(true);
    });
    if (cap > 0) sync.recv();  // buffered: the send completed by itself
    std::optional<goro::Received<T>> r;
    EXPECT_TRUE(eventually([&] { return (r = c.try_recv()).has_value(); })) << "the sender never became ready";
    if (r) {
      EXPECT_EQ(r->value, sent_by_goroutine);
    }
    if (cap == 0) sync.recv();
  };
  goro::run([&] {
    round(std::int32_t{123}, std::int32_t{234});
    round(std::int64_t{123456}, std::int64_t{234567});
    round(true, true);
    round(std::string("hello"), std::string("hello again"));
  });
}

INSTANTIATE_TEST_SUITE_P(Capacities, AnyCapacity, ::testing::Values(0, 1, 10, 100),
                         [](const auto& info) { return "cap" + std::to_string(info.param); });

// --- close -----------------------------------------------------------------------------

TEST(Close, ReceiversDrainTheBufferThenGetTheZeroValueAndFalse) {
  auto ch = goro::make_chan<std::string>(3);
  ch.send("a");
  ch.send("b");
  ch.close();
  EXPECT_EQ(ch.len(), 2u) << "close keeps what is buffered";
  EXPECT_EQ(ch.recv().value, "a");
  auto r = ch.try_recv();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "b");
  EXPECT_TRUE(r->ok);
  auto [v, ok] = ch.recv();
  EXPECT_EQ(v, "");
  EXPECT_FALSE(ok);
  // Go: a receive case on a closed channel is always ready.
  auto closed = ch.try_recv();
  ASSERT_TRUE(closed.has_value()) << "try_recv on a closed, drained channel must not report 'would block'";
  EXPECT_FALSE(closed->ok);
  EXPECT_EQ(closed->value, "");
}

TEST(Close, WakesEveryBlockedReceiver) {
  const int n = static_cast<int>(scaled(200, 100, 50));
  std::atomic<int> woken_closed{0};
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup done;
    done.add(n);
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(go_with_id([&, ch] {
        auto [v, ok] = ch.recv();
        if (!ok && v == 0) woken_closed.fetch_add(1);
        done.done();
      }));
    }
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "chan receive"));
    ch.close();
    done.wait();
  });
  EXPECT_EQ(woken_closed.load(), n);
}

TEST(Close, WakesEveryBlockedReceiverOfABufferedChannel) {
  const int n = static_cast<int>(scaled(100, 50, 30));
  std::atomic<int> woken_closed{0};
  goro::run([&] {
    auto ch = goro::make_chan<int>(8);
    goro::WaitGroup done;
    done.add(n);
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(go_with_id([&, ch] {
        for (int v : ch) (void)v;  // range-for, ended by close
        woken_closed.fetch_add(1);
        done.done();
      }));
    }
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "chan receive"));
    ch.close();
    done.wait();
  });
  EXPECT_EQ(woken_closed.load(), n);
}

TEST(Close, MakesEveryBlockedSenderThrow) {
  // Unbuffered (nobody receives) and full buffered channels: close wakes
  // each parked sender with Go's panic; buffered values stay receivable.
  for (std::size_t cap : {0u, 3u}) {
    const int n = 20;
    std::atomic<int> threw{0};
    goro::run([&] {
      auto ch = goro::make_chan<int>(cap);
      for (std::size_t i = 0; i < cap; ++i) ch.send(100 + static_cast<int>(i));
      goro::WaitGroup done;
      done.add(n);
      std::vector<std::uint64_t> ids;
      for (int i = 0; i < n; ++i) {
        ids.push_back(go_with_id([&, ch] {
          if (throws_go_error([&] { ch.send(1); }, "send on closed channel")) threw.fetch_add(1);
          done.done();
        }));
      }
      for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "chan send"));
      ch.close();
      done.wait();
      for (std::size_t i = 0; i < cap; ++i) EXPECT_EQ(ch.recv().value, 100 + static_cast<int>(i));
      EXPECT_FALSE(ch.recv().ok);
    });
    EXPECT_EQ(threw.load(), n) << "cap " << cap;
  }
}

TEST(Close, SendOnAClosedChannelThrows) {
  for (std::size_t cap : {0u, 1u, 5u}) {
    auto ch = goro::make_chan<int>(cap);
    ch.close();
    EXPECT_TRUE(throws_go_error([&] { ch.send(1); }, "send on closed channel")) << "cap " << cap;
    // Go: `select { case ch <- v: default: }` panics too -- the send case
    // is "ready" and taking it panics.
    EXPECT_TRUE(throws_go_error([&] { ch.try_send(1); }, "send on closed channel")) << "cap " << cap;
    const int lvalue = 2;
    EXPECT_TRUE(throws_go_error([&] { ch.try_send(lvalue); }, "send on closed channel")) << "cap " << cap;
    EXPECT_TRUE(throws_go_error([&] { goro::SendChan<int>(ch).send(3); }, "send on closed channel"));
  }
}

TEST(Close, CloseOfAClosedChannelThrows) {
  auto ch = goro::make_chan<int>(2);
  ch.send(1);
  ch.close();
  EXPECT_TRUE(throws_go_error([&] { ch.close(); }, "close of closed channel"));
  EXPECT_TRUE(throws_go_error([&] { goro::SendChan<int>(ch).close(); }, "close of closed channel"));
  EXPECT_EQ(ch.recv().value, 1) << "the failed close must not disturb the buffer";
}

TEST(Close, GoroErrorIsARuntimeError) {
  // Generic handlers catch channel misuse too.
  goro::Chan<int> nil;
  EXPECT_THROW(nil.close(), std::runtime_error);
}

TEST(Close, NonblockingReceiveOfABufferedValueRacingWithCloseIsReady) {
  // runtime/chan_test.go TestNonblockRecvRace: a channel holding a value is
  // ready for a receive whether or not a close happens meanwhile.
  const int n = static_cast<int>(scaled(2000, 500, 200));
  std::atomic<int> not_ready{0};
  goro::run([&] {
    for (int i = 0; i < n; ++i) {
      auto c = goro::make_chan<int>(1);
      c.send(1);
      goro::WaitGroup done;
      done.add(1);
      goro::go([&, c] {
        if (!c.try_recv().has_value()) not_ready.fetch_add(1);
        done.done();
      });
      c.close();
      c.recv();
      done.wait();
    }
  });
  EXPECT_EQ(not_ready.load(), 0);
}

// --- move-only values ----------------------------------------------------------------------

TEST(MoveOnly, UniquePtrsTravelThroughUnbufferedAndBufferedChannels) {
  for (std::size_t cap : {0u, 4u}) {
    std::vector<int> got;
    goro::run([&] {
      auto ch = goro::make_chan<std::unique_ptr<int>>(cap);
      goro::go([ch] {
        for (int i = 0; i < 10; ++i) ch.send(std::make_unique<int>(i));
        ch.close();
      });
      for (;;) {
        auto [p, ok] = ch.recv();
        if (!ok) {
          EXPECT_EQ(p, nullptr) << "the zero value of a unique_ptr";
          break;
        }
        ASSERT_NE(p, nullptr);
        got.push_back(*p);
      }
    });
    std::vector<int> want(10);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(got, want) << "cap " << cap;
  }
}

TEST(MoveOnly, RangeForHandsOutEachValue) {
  std::vector<int> got;
  goro::run([&] {
    auto ch = goro::make_chan<std::unique_ptr<int>>(3);
    goro::go([ch] {
      for (int i = 0; i < 10; ++i) ch.send(std::make_unique<int>(i * i));
      ch.close();
    });
    for (auto& p : goro::RecvChan<std::unique_ptr<int>>(ch)) {
      std::unique_ptr<int> mine = std::move(p);  // the element is the loop's to keep
      got.push_back(*mine);
    }
  });
  EXPECT_EQ(got, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
}

// A channel is a C++20 input range (single pass, like Go's range over a
// channel), so std::ranges views compose with it.
static_assert(std::input_iterator<goro::ChanRange<int>::iterator>);
static_assert(std::ranges::input_range<goro::Chan<int>>);
static_assert(std::ranges::input_range<goro::RecvChan<std::unique_ptr<int>>>);

// clang before 15 cannot compile libstdc++'s range adaptors (its concept
// checks fail inside <ranges> itself, for any range); the concepts above
// hold there too.
#if !defined(__clang__) || __clang_major__ >= 15
TEST(Range, ComposesWithStdRangesViews) {
  std::vector<int> squares_of_evens;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::go([ch] {
      for (int i = 0; i < 10; ++i) ch.send(i);
      ch.close();
    });
    auto view = ch | std::views::filter([](int x) { return x % 2 == 0; }) |
                std::views::transform([](int x) { return x * x; });
    for (int v : view) squares_of_evens.push_back(v);  // ends at close
  });
  EXPECT_EQ(squares_of_evens, (std::vector<int>{0, 4, 16, 36, 64}));
}
#endif

TEST(MoveOnly, TrySendMovesTheValueOnlyWhenItWasSent) {
  auto ch = goro::make_chan<std::unique_ptr<int>>(1);
  auto first = std::make_unique<int>(1), second = std::make_unique<int>(2);
  EXPECT_TRUE(ch.try_send(std::move(first)));
  EXPECT_EQ(first, nullptr);
  EXPECT_FALSE(ch.try_send(std::move(second))) << "full";
  ASSERT_NE(second, nullptr) << "a refused value must stay with the caller";
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(*ch.recv().value, 1);
  EXPECT_TRUE(ch.try_send(std::move(second)));
  EXPECT_EQ(*ch.recv().value, 2);
}

TEST(MoveOnly, TrySendOfAnLvalueCopiesIt) {
  auto ch = goro::make_chan<std::string>(1);
  const std::string s = "kept";
  EXPECT_TRUE(ch.try_send(s));
  EXPECT_EQ(s, "kept");
  EXPECT_EQ(ch.recv().value, "kept");
}

// --- exactly once, destroyed once ------------------------------------------------------------

class ExactlyOnce : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override { ASSERT_TRUE(Counted::none_alive()) << "a previous test leaked Counted values"; }
};

TEST_P(ExactlyOnce, EveryValueIsReceivedOnceAndEveryInstanceDestroyed) {
  const std::size_t cap = GetParam();
  constexpr int kSenders = 6, kReceivers = 3;
  const int per = static_cast<int>(scaled(2000, 500, 200));
  std::vector<std::atomic<int>> seen(kSenders * per);
  std::atomic<int> bad{0};
  goro::run([&] {
    auto ch = goro::make_chan<Counted>(cap);
    goro::WaitGroup sent, received;
    sent.add(kSenders);
    received.add(kReceivers);
    for (int s = 0; s < kSenders; ++s) {
      goro::go([&, ch, s] {
        for (int i = 0; i < per; ++i) ch.send(Counted(s * per + i));
        sent.done();
      });
    }
    for (int r = 0; r < kReceivers; ++r) {
      goro::go([&, ch] {
        for (Counted& c : ch) {
          // A value that moved intact: its id and its payload agree.
          if (c.id < 0 || c.payload == nullptr || *c.payload != c.id) {
            bad.fetch_add(1);
            continue;
          }
          seen[c.id].fetch_add(1);
        }
        received.done();
      });
    }
    sent.wait();
    ch.close();
    received.wait();
    EXPECT_EQ(Counted::live.load(), 0) << "instances alive after all were received";
    EXPECT_EQ(Counted::values.load(), 0);
  });
  EXPECT_EQ(bad.load(), 0);
  for (int v = 0; v < kSenders * per; ++v) ASSERT_EQ(seen[v].load(), 1) << "value " << v;
  EXPECT_TRUE(eventually([] { return Counted::none_alive(); }));
}

INSTANTIATE_TEST_SUITE_P(Capacities, ExactlyOnce, ::testing::Values(0, 1, 16),
                         [](const auto& info) { return "cap" + std::to_string(info.param); });

class Lifetime : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Counted::none_alive()) << "a previous test leaked Counted values"; }
};

TEST_F(Lifetime, ValuesLeftInADestroyedChannelAreDestroyed) {
  {
    auto ch = goro::make_chan<Counted>(10);
    for (int i = 0; i < 7; ++i) ch.send(Counted(i));
    EXPECT_EQ(Counted::values.load(), 7);
    auto copy = ch;  // another handle: the channel lives on
    ch = goro::Chan<Counted>();
    EXPECT_EQ(Counted::values.load(), 7);
  }
  EXPECT_EQ(Counted::values.load(), 0) << "buffered values leaked with the channel";
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST_F(Lifetime, ValuesWrappingAroundTheRingAreDestroyedToo) {
  // With recvx past the middle, the buffered values occupy the end and the
  // start of the ring.
  {
    auto ch = goro::make_chan<Counted>(4);
    for (int i = 0; i < 3; ++i) ch.send(Counted(i));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ch.recv().value.id, i);
    for (int i = 3; i < 6; ++i) ch.send(Counted(i));
    EXPECT_EQ(Counted::values.load(), 3);
  }
  EXPECT_EQ(Counted::values.load(), 0) << "a buffered value leaked with the channel";
  EXPECT_EQ(Counted::live.load(), 0) << "a slot destroyed twice, or one leaked";
}

TEST_F(Lifetime, AChannelOwnedOnlyByAFinishedGoroutineIsFreed) {
  goro::run([] {
    goro::WaitGroup filled;
    filled.add(1);
    goro::go([&] {
      auto mine = goro::make_chan<Counted>(5);
      for (int i = 0; i < 5; ++i) mine.send(Counted(i));
      filled.done();
    });
    filled.wait();
    EXPECT_TRUE(eventually([] { return Counted::none_alive(); })) << Counted::values.load() << " values alive";
  });
}

TEST_F(Lifetime, TheValueOfASenderRefusedByCloseIsDestroyed) {
  goro::run([] {
    auto ch = goro::make_chan<Counted>();
    goro::WaitGroup done;
    done.add(1);
    std::uint64_t sender = go_with_id([&, ch] {
      try {
        ch.send(Counted(1));
      } catch (const goro::Error&) {
      }
      done.done();
    });
    ASSERT_TRUE(parks_with(sender, "chan send"));
    ch.close();
    done.wait();
    EXPECT_TRUE(Counted::none_alive());
  });
}

TEST_F(Lifetime, AChannelOfChannelsReleasesTheInnerOnes) {
  // Handles inside a destroyed channel are themselves destroyed, and with
  // them the inner channel and its buffered value.
  {
    auto outer = goro::make_chan<goro::Chan<Counted>>(2);
    auto inner = goro::make_chan<Counted>(1);
    inner.send(Counted(7));
    outer.send(inner);
    inner = goro::Chan<Counted>();
    EXPECT_EQ(Counted::values.load(), 1);
  }
  EXPECT_TRUE(Counted::none_alive());
}

// --- memory model (Go's "The Go Memory Model", channel rules) ------------------------------------
// Plain (non-atomic) variables: ThreadSanitizer reports a data race if a
// channel operation does not order the accesses as Go promises.

TEST(MemoryModel, ASendIsSynchronizedBeforeTheReceiveCompletes) {
  for (std::size_t cap : {0u, 10u}) {
    std::string a;
    goro::run([&] {
      auto c = goro::make_chan<int>(cap);
      goro::go([&a, c] {
        a = "hello, world";
        c.send(0);
      });
      c.recv();
      EXPECT_EQ(a, "hello, world");
    });
  }
}

TEST(MemoryModel, CloseIsSynchronizedBeforeAReceiveThatSeesIt) {
  std::string a;
  goro::run([&] {
    auto c = goro::make_chan<int>(10);
    goro::go([&a, c] {
      a = "hello, world";
      c.close();
    });
    EXPECT_FALSE(c.recv().ok);
    EXPECT_EQ(a, "hello, world");
  });
}

TEST(MemoryModel, AnUnbufferedReceiveIsSynchronizedBeforeTheSendCompletes) {
  // The program Go's memory model uses: main's send returns only after f
  // has received, and f's write happened before its receive.
  std::string a;
  goro::run([&] {
    auto c = goro::make_chan<int>();
    goro::go([&a, c] {
      a = "hello, world";
      c.recv();
    });
    c.send(0);
    EXPECT_EQ(a, "hello, world");
  });
}

TEST(MemoryModel, ABufferedChannelLimitsConcurrencyLikeASemaphore) {
  // "The kth receive on a channel with capacity C is synchronized before
  // the completion of the k+Cth send": a channel of capacity 3 admits at
  // most 3 goroutines into the section at once.
  constexpr int kLimit = 3;
  const int workers = static_cast<int>(scaled(200, 100, 50));
  std::atomic<int> inside{0}, most{0};
  goro::run([&] {
    auto limit = goro::make_chan<int>(kLimit);
    goro::WaitGroup done;
    done.add(workers);
    for (int i = 0; i < workers; ++i) {
      goro::go([&, limit] {
        limit.send(1);
        int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        goro::yield();
        inside.fetch_sub(1);
        limit.recv();
        done.done();
      });
    }
    done.wait();
  });
  EXPECT_LE(most.load(), kLimit);
  EXPECT_GE(most.load(), 1);
}

// --- the prime sieve -----------------------------------------------------------------------

// Go's test/chan/sieve1.go, with directional channels as there. The
// generator stops at `limit` and closes, and each filter closes its output
// when its input ends, so the whole pipeline shuts down by itself.
void generate(goro::SendChan<int> out, int limit) {
  for (int i = 2; i <= limit; ++i) out.send(i);
  out.close();
}

void filter(goro::RecvChan<int> in, goro::SendChan<int> out, int prime) {
  for (int i : in) {
    if (i % prime != 0) out.send(i);
  }
  out.close();
}

std::vector<int> primes_by_trial_division(int limit) {
  std::vector<int> primes;
  for (int n = 2; n <= limit; ++n) {
    if (std::none_of(primes.begin(), primes.end(), [n](int p) { return n % p == 0; })) primes.push_back(n);
  }
  return primes;
}

TEST(Sieve, ProducesThePrimes) {
  int limit = static_cast<int>(scaled(3000, 1000, 1000));
  std::vector<int> primes;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::go([ch, limit] { generate(ch, limit); });
    for (;;) {
      goro::Received<int> r = ch.recv();
      if (!r.ok) break;
      int prime = r.value;
      primes.push_back(prime);
      auto next = goro::make_chan<int>();
      goro::go([ch, next, prime] { filter(ch, next, prime); });
      ch = next;
    }
  });
  EXPECT_EQ(primes, primes_by_trial_division(limit));
  EXPECT_GE(primes.size(), 168u);  // at least the primes below 1000
}

// --- direction views -------------------------------------------------------------------------

template <class C>
concept CanSend = requires(const C& c) { c.send(1); };
template <class C>
concept CanRecv = requires(const C& c) { c.recv(); };
template <class C>
concept CanClose = requires(const C& c) { c.close(); };

TEST(Directions, ViewsHaveOnlyTheirDirectionsOperations) {
  static_assert(CanSend<goro::Chan<int>> && CanRecv<goro::Chan<int>> && CanClose<goro::Chan<int>>);
  static_assert(CanSend<goro::SendChan<int>> && !CanRecv<goro::SendChan<int>> && CanClose<goro::SendChan<int>>);
  // Go: closing a receive-only channel is a compile error.
  static_assert(!CanSend<goro::RecvChan<int>> && CanRecv<goro::RecvChan<int>> && !CanClose<goro::RecvChan<int>>);
  static_assert(std::is_convertible_v<goro::Chan<int>, goro::SendChan<int>>);
  static_assert(std::is_convertible_v<goro::Chan<int>, goro::RecvChan<int>>);
  static_assert(!std::is_convertible_v<goro::SendChan<int>, goro::Chan<int>>);
  static_assert(!std::is_convertible_v<goro::RecvChan<int>, goro::Chan<int>>);
  static_assert(!std::is_convertible_v<goro::SendChan<int>, goro::RecvChan<int>>);
  SUCCEED() << "checked at compile time";
}

TEST(Directions, ViewsReferToTheSameChannel) {
  auto ch = goro::make_chan<int>(4);
  auto other = goro::make_chan<int>(4);
  goro::SendChan<int> tx = ch;
  goro::RecvChan<int> rx = ch;
  EXPECT_TRUE(tx == ch);
  EXPECT_TRUE(rx == ch);
  EXPECT_TRUE(tx == rx);
  EXPECT_FALSE(rx == other);
  EXPECT_TRUE(rx != other);
  EXPECT_EQ(tx.cap(), 4u);
  tx.send(1);
  EXPECT_TRUE(tx.try_send(2));
  EXPECT_EQ(ch.len(), 2u);
  EXPECT_EQ(rx.len(), 2u);
  EXPECT_EQ(rx.recv().value, 1);
  EXPECT_EQ(rx.try_recv()->value, 2);
  tx.send(3);
  tx.close();  // seen through the other handles
  std::vector<int> rest;
  for (int v : rx) rest.push_back(v);
  EXPECT_EQ(rest, std::vector<int>{3});
  EXPECT_FALSE(ch.recv().ok);
}

TEST(Directions, ProducerAndConsumerTakeTheirViews) {
  std::vector<int> got;
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    goro::go([tx = goro::SendChan<int>(ch)] {
      for (int i = 0; i < 5; ++i) tx.send(i);
      tx.close();
    });
    goro::RecvChan<int> rx = ch;
    for (int v : rx) got.push_back(v);
  });
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

// --- Received<T> ----------------------------------------------------------------------------------

TEST(Received, WorksWithStructuredBindings) {
  static_assert(std::is_aggregate_v<goro::Received<int>>);
  auto ch = goro::make_chan<int>(1);
  ch.send(11);
  auto [v, ok] = ch.recv();
  static_assert(std::is_same_v<decltype(v), int>);
  static_assert(std::is_same_v<decltype(ok), bool>);
  EXPECT_EQ(v, 11);
  EXPECT_TRUE(ok);
  ch.close();
  auto [zero, closed_ok] = ch.recv();
  EXPECT_EQ(zero, 0);
  EXPECT_FALSE(closed_ok);
  // The optional of a nonblocking receive unpacks the same way.
  auto maybe = ch.try_recv();
  ASSERT_TRUE(maybe.has_value());
  auto [v2, ok2] = *std::move(maybe);
  EXPECT_EQ(v2, 0);
  EXPECT_FALSE(ok2);
}

// --- plain OS threads --------------------------------------------------------------------------
// A thread that is not a goroutine blocks the thread itself; the goroutine
// on the other side parks and is woken normally. No goro::run: the test's
// own thread is a plain thread.

class PlainThreads : public ::testing::TestWithParam<std::size_t> {};

TEST_P(PlainThreads, ExchangeValuesWithAGoroutineBothWays) {
  // thread --to_g--> goroutine --to_t--> this thread, each side closing.
  const std::size_t cap = GetParam();
  int n = static_cast<int>(scaled(2000, 500, 300));
  auto to_g = goro::make_chan<int>(cap), to_t = goro::make_chan<int>(cap);
  goro::go([to_g, to_t] {
    for (int v : to_g) to_t.send(v * 2);
    to_t.close();
  });
  std::thread producer([to_g, n] {
    for (int i = 0; i < n; ++i) to_g.send(i);
    to_g.close();
  });
  std::vector<int> got;
  for (int v : to_t) got.push_back(v);
  producer.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], 2 * i);
}

TEST_P(PlainThreads, ThreadToThreadWithoutGoroutines) {
  const std::size_t cap = GetParam();
  const int n = static_cast<int>(scaled(2000, 500, 300));
  auto ch = goro::make_chan<int>(cap);
  long sum = 0;
  std::thread consumer([ch, &sum] {
    for (int v : ch) sum += v;
  });
  for (int i = 1; i <= n; ++i) ch.send(i);
  ch.close();
  consumer.join();
  EXPECT_EQ(sum, static_cast<long>(n) * (n + 1) / 2);
}

TEST_P(PlainThreads, ThreadsAndGoroutinesShareOneChannel) {
  // Senders and receivers of both kinds on one channel: each value is
  // received exactly once, whoever sends and whoever receives it.
  const std::size_t cap = GetParam();
  constexpr int kThreadSenders = 2, kGoroutineSenders = 6, kThreadReceivers = 2, kGoroutineReceivers = 3;
  constexpr int kSenders = kThreadSenders + kGoroutineSenders;
  int per = static_cast<int>(scaled(1000, 300, 200));
  std::vector<std::atomic<int>> seen(kSenders * per);
  auto ch = goro::make_chan<int>(cap);
  goro::WaitGroup senders, receivers;
  senders.add(kSenders);
  receivers.add(kThreadReceivers + kGoroutineReceivers);
  auto send_range = [&, ch, per](int s) {
    for (int i = 0; i < per; ++i) ch.send(s * per + i);
    senders.done();
  };
  auto receive_all = [&, ch] {
    for (int v : ch) seen[v].fetch_add(1);
    receivers.done();
  };
  std::vector<std::thread> threads;
  for (int s = 0; s < kThreadSenders; ++s) threads.emplace_back(send_range, s);
  for (int s = kThreadSenders; s < kSenders; ++s) goro::go([send_range, s] { send_range(s); });
  for (int r = 0; r < kThreadReceivers; ++r) threads.emplace_back(receive_all);
  for (int r = 0; r < kGoroutineReceivers; ++r) goro::go(receive_all);
  senders.wait();
  ch.close();
  receivers.wait();
  for (auto& t : threads) t.join();
  for (int v = 0; v < kSenders * per; ++v) ASSERT_EQ(seen[v].load(), 1) << "value " << v;
}

INSTANTIATE_TEST_SUITE_P(Capacities, PlainThreads, ::testing::Values(0, 3),
                         [](const auto& info) { return "cap" + std::to_string(info.param); });

TEST(PlainThreadBlocking, AThreadBlockedInRecvIsWokenByAGoroutinesSend) {
  auto ch = goro::make_chan<int>();
  std::atomic<bool> receiving{false}, received{false};
  std::atomic<int> got{0};
  std::thread receiver([&] {
    receiving = true;
    got = ch.recv().value;
    received = true;
  });
  ASSERT_TRUE(eventually([&] { return receiving.load(); }));
  std::this_thread::sleep_for(10ms);  // most likely blocked by now
  EXPECT_FALSE(received.load()) << "recv returned with nobody sending";
  goro::go([ch] { ch.send(17); });
  receiver.join();
  EXPECT_EQ(got.load(), 17);
}

TEST(PlainThreadBlocking, AThreadBlockedInSendIsWokenByAGoroutinesRecv) {
  auto ch = goro::make_chan<int>(1);
  ch.send(1);  // full
  std::atomic<bool> sending{false}, sent{false};
  std::thread sender([&] {
    sending = true;
    ch.send(2);
    sent = true;
  });
  ASSERT_TRUE(eventually([&] { return sending.load(); }));
  std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(sent.load()) << "send into a full channel returned";
  std::atomic<int> first{0}, second{0};
  goro::WaitGroup done;
  done.add(1);
  goro::go([&, ch] {
    first = ch.recv().value;
    second = ch.recv().value;
    done.done();
  });
  sender.join();
  done.wait();
  EXPECT_EQ(first.load(), 1);
  EXPECT_EQ(second.load(), 2);
}

TEST(PlainThreadBlocking, CloseByAGoroutineWakesBlockedThreads) {
  auto in = goro::make_chan<int>();   // threads receive, nobody sends
  auto out = goro::make_chan<int>();  // a thread sends, nobody receives
  constexpr int kReceivers = 3;
  std::atomic<int> closed_seen{0}, blocked{0};
  std::atomic<bool> sender_threw{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kReceivers; ++i) {
    threads.emplace_back([&] {
      blocked.fetch_add(1);
      if (!in.recv().ok) closed_seen.fetch_add(1);
    });
  }
  threads.emplace_back([&] {
    blocked.fetch_add(1);
    sender_threw = throws_go_error([&] { out.send(1); }, "send on closed channel");
  });
  ASSERT_TRUE(eventually([&] { return blocked.load() == kReceivers + 1; }));
  std::this_thread::sleep_for(10ms);  // most likely all blocked by now
  goro::WaitGroup closed;
  closed.add(1);
  goro::go([&, in, out] {
    in.close();
    out.close();
    closed.done();
  });
  for (auto& t : threads) t.join();
  closed.wait();
  EXPECT_EQ(closed_seen.load(), kReceivers);
  EXPECT_TRUE(sender_threw.load());
}

TEST(PlainThreadBlocking, AGoroutineBlockedInRecvIsWokenByAThread) {
  std::atomic<int> got{0};
  goro::run([&] {
    auto ch = goro::make_chan<int>();
    std::uint64_t receiver = go_with_id([&, ch] { got = ch.recv().value; });
    ASSERT_TRUE(parks_with(receiver, "chan receive"));
    // The thread's send completes at the hand-off, without waiting for the
    // receiver to run, so joining here cannot deadlock with one worker.
    std::thread([ch] { ch.send(23); }).join();
    EXPECT_TRUE(eventually([&] { return got.load() == 23; }));
  });
}

// --- uncaught misuse is a panic ------------------------------------------------------------------

void send_on_closed() {
  auto ch = goro::make_chan<int>(1);
  ch.close();
  ch.send(1);
}

void close_closed() {
  auto ch = goro::make_chan<int>();
  ch.close();
  ch.close();
}

void close_nil() { goro::Chan<int>().close(); }

void blocked_send_then_closed() {
  auto ch = goro::make_chan<int>();
  goro::go([ch] {
    goro::sleep(10ms);  // usually after the send parked; either way it panics
    ch.close();
  });
  ch.send(1);
}

TEST(ChanDeathTest, SendOnClosedChannelPanics) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(send_on_closed), ExitedWithCode(2),
              goro_test::go_panic_pattern("send on closed channel"));
}

TEST(ChanDeathTest, ABlockedSenderPanicsWhenTheChannelIsClosed) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(blocked_send_then_closed), ExitedWithCode(2),
              goro_test::go_panic_pattern("send on closed channel"));
}

TEST(ChanDeathTest, CloseOfClosedChannelPanics) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(close_closed), ExitedWithCode(2),
              goro_test::go_panic_pattern("close of closed channel"));
}

TEST(ChanDeathTest, CloseOfNilChannelPanics) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(close_nil), ExitedWithCode(2),
              goro_test::go_panic_pattern("close of nil channel"));
}

}  // namespace
