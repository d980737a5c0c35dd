// goro::select, Go's select statement (runtime/select.go): which case is
// taken and what runs (index in argument order, only that case's callback,
// the recv callback forms), default_case, nil channels as disabled cases,
// closed channels, the wait reasons Go prints for blocked selects, fairness
// among ready cases (TestSelectFairness, TestPseudoRandomSend), withdrawal
// of the losing waits once one channel wakes a blocked select, a woken
// select reusing its stack while the worker that parked it still unlocks,
// Go's select regression tests (doubleselect.go, TestSelfSelect,
// TestSelectDuplicateChannel), timeouts with goro::after, plain OS threads
// on either side, large selects, and the panic of an uncaught "send on
// closed channel". Heavier concurrent mixes are in stress_test.cc.
#include <gtest/gtest.h>
#include <goro/detail/introspect.h>
#include <goro/goro.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"
#include "support/tracked.h"

namespace {

using namespace std::chrono_literals;
using goro_test::eventually;
using goro_test::parked_as;
using goro_test::parks_with;
using goro_test::scaled;
using ::testing::ExitedWithCode;

// A value that counts its live instances: a select must neither leak nor
// duplicate the values it moves (the send value of a case not taken, a
// value received by a callback that ignores it).
using goro_test::Tracked;

// --- which case, and what runs ---------------------------------------------------

TEST(Select, ReturnsTheIndexOfTheCaseTakenInArgumentOrder) {
  goro::run([] {
    auto empty = goro::make_chan<int>(1);
    auto ready = goro::make_chan<int>(1);
    ready.send(1);
    EXPECT_EQ(goro::select(goro::recv(empty), goro::recv(ready)), 1);
    ready.send(2);
    EXPECT_EQ(goro::select(goro::recv(ready), goro::recv(empty)), 0);
    // default_case counts as an argument like any other.
    EXPECT_EQ(goro::select(goro::default_case(), goro::recv(empty)), 0);
    EXPECT_EQ(goro::select(goro::recv(empty), goro::default_case(), goro::send(ready, 3)), 2);
    EXPECT_EQ(goro::select(goro::recv(empty), goro::default_case(), goro::send(empty, 4)), 2);
    EXPECT_EQ(ready.recv().value, 3);
    EXPECT_EQ(empty.recv().value, 4);
  });
}

TEST(Select, OnlyTheCallbackOfTheCaseTakenRuns) {
  goro::run([] {
    auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1), full = goro::make_chan<int>(1);
    full.send(0);
    b.send(5);
    int ran_a = 0, ran_b = 0, ran_send = 0, ran_default = 0, got = 0;
    int taken = goro::select(goro::recv(a, [&](int) { ++ran_a; }),
                             goro::send(full, 1, [&] { ++ran_send; }),
                             goro::recv(b, [&](int v) {
                               ++ran_b;
                               got = v;
                             }),
                             goro::default_case([&] { ++ran_default; }));
    EXPECT_EQ(taken, 2);
    EXPECT_EQ(ran_b, 1);
    EXPECT_EQ(got, 5);
    EXPECT_EQ(ran_a + ran_send + ran_default, 0);
  });
}

TEST(Select, RecvCallbackTakingValueAndOk) {
  goro::run([] {
    auto c = goro::make_chan<int>(1);
    c.send(9);
    int v = -1;
    bool ok = false;
    auto keep = [&](int x, bool o) {
      v = x;
      ok = o;
    };
    goro::select(goro::recv(c, keep), goro::default_case());
    EXPECT_EQ(v, 9);
    EXPECT_TRUE(ok);
    c.close();
    goro::select(goro::recv(c, keep), goro::default_case());
    EXPECT_EQ(v, 0) << "closed: Go's zero value";
    EXPECT_FALSE(ok);
  });
}

TEST(Select, RecvCallbackTakingOnlyTheValue) {
  goro::run([] {
    auto c = goro::make_chan<std::string>(1);
    c.send("hello");
    std::string got = "unset";
    goro::select(goro::recv(c, [&](std::string s) { got = std::move(s); }), goro::default_case());
    EXPECT_EQ(got, "hello");
    c.close();
    goro::select(goro::recv(c, [&](std::string s) { got = std::move(s); }), goro::default_case());
    EXPECT_EQ(got, "") << "closed: T{}";
  });
}

TEST(Select, RecvCallbackTakingNothingStillConsumesAndDestroysTheValue) {
  const int before = Tracked::live.load();
  goro::run([] {
    auto c = goro::make_chan<Tracked>(2);
    c.send(Tracked(1));
    c.send(Tracked(2));
    int calls = 0;
    goro::select(goro::recv(c, [&] { ++calls; }), goro::default_case());
    goro::select(goro::recv(c), goro::default_case());  // no callback at all
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(c.len(), 0u) << "both values were received";
  });
  EXPECT_EQ(Tracked::live.load(), before) << "a discarded received value leaked or was destroyed twice";
}

TEST(Select, SendCaseWithAndWithoutCallback) {
  goro::run([] {
    auto c = goro::make_chan<int>(2);
    bool called = false;
    EXPECT_EQ(goro::select(goro::send(c, 1, [&] { called = c.len() == 1; }), goro::default_case()), 0);
    EXPECT_TRUE(called) << "the callback runs after the value is in the channel";
    EXPECT_EQ(goro::select(goro::send(c, 2), goro::default_case()), 0);
    EXPECT_EQ(c.recv().value, 1);
    EXPECT_EQ(c.recv().value, 2);
  });
}

TEST(Select, SendCaseMovesMoveOnlyValues) {
  goro::run([] {
    auto c = goro::make_chan<std::unique_ptr<int>>(1);
    EXPECT_EQ(goro::select(goro::send(c, std::make_unique<int>(42)), goro::default_case()), 0);
    std::unique_ptr<int> got;
    goro::select(goro::recv(c, [&](std::unique_ptr<int> p) { got = std::move(p); }));
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, 42);
  });
}

TEST(Select, TheValueOfASendCaseNotTakenIsDestroyedNotSent) {
  const int before = Tracked::live.load();
  goro::run([] {
    auto full = goro::make_chan<Tracked>(1);
    full.send(Tracked(1));
    EXPECT_EQ(goro::select(goro::send(full, Tracked(2)), goro::default_case()), 1);
    EXPECT_EQ(full.len(), 1u);
    EXPECT_EQ(full.recv().value.v, 1);
  });
  EXPECT_EQ(Tracked::live.load(), before);
}

TEST(Select, AcceptsDirectionalChannelViews) {
  goro::run([] {
    auto c = goro::make_chan<int>(1);
    goro::SendChan<int> out = c;
    goro::RecvChan<int> in = c;
    EXPECT_EQ(goro::select(goro::send(out, 7), goro::default_case()), 0);
    int got = 0;
    EXPECT_EQ(goro::select(goro::recv(in, [&](int v) { got = v; }), goro::default_case()), 0);
    EXPECT_EQ(got, 7);
  });
}

// --- default_case ------------------------------------------------------------------

TEST(Select, DefaultIsTakenWhenNoCaseIsReady) {
  goro::run([] {
    auto unbuffered = goro::make_chan<int>();
    auto empty = goro::make_chan<int>(3);
    auto full = goro::make_chan<int>(1);
    full.send(1);
    bool ran = false;
    int taken = goro::select(goro::recv(unbuffered), goro::send(unbuffered, 1), goro::recv(empty),
                             goro::send(full, 2), goro::default_case([&] { ran = true; }));
    EXPECT_EQ(taken, 4);
    EXPECT_TRUE(ran);
    EXPECT_EQ(goro::select(goro::default_case()), 0) << "a select of only a default case";
  });
}

TEST(Select, DefaultIsNotTakenWhenABlockedPartnerMakesACaseReady) {
  // Unbuffered channels are ready only through a parked partner: a waiting
  // sender makes the recv case ready, a waiting receiver the send case.
  goro::run([] {
    auto from_sender = goro::make_chan<int>();
    auto to_receiver = goro::make_chan<int>();
    std::atomic<std::uint64_t> sender{0}, receiver{0};
    std::atomic<int> received{0};
    goro::WaitGroup wg;
    wg.add(2);
    goro::go([&] {
      sender = goro::id();
      from_sender.send(11);
      wg.done();
    });
    goro::go([&] {
      receiver = goro::id();
      received = to_receiver.recv().value;
      wg.done();
    });
    ASSERT_TRUE(parks_with(sender, "chan send"));
    ASSERT_TRUE(parks_with(receiver, "chan receive"));
    int got = 0;
    EXPECT_EQ(goro::select(goro::recv(from_sender, [&](int v) { got = v; }), goro::default_case()), 0);
    EXPECT_EQ(got, 11);
    EXPECT_EQ(goro::select(goro::default_case(), goro::send(to_receiver, 22)), 1);
    wg.wait();
    EXPECT_EQ(received.load(), 22);
  });
}

// --- nil channels ----------------------------------------------------------------------

TEST(Select, ANilChannelCaseIsNeverTaken) {
  goro::run([] {
    goro::Chan<int> nil;
    auto ready = goro::make_chan<int>(1);
    for (int i = 0; i < 200; ++i) {
      ready.send(i);
      // Among ready cases the choice is random: 200 rounds would pick a
      // nil case that counted as ready.
      ASSERT_EQ(goro::select(goro::recv(nil), goro::send(nil, 1), goro::recv(ready), goro::recv(nil)), 2);
    }
  });
}

TEST(Select, OnlyNilCasesAndDefaultTakesDefault) {
  goro::run([] {
    goro::Chan<int> nil;
    EXPECT_EQ(goro::select(goro::recv(nil), goro::send(nil, 1), goro::default_case()), 2);
    EXPECT_EQ(goro::select(goro::send(nil, 1), goro::default_case()), 1) << "single nil case";
  });
}

TEST(Select, OnlyNilCasesWithoutDefaultBlocksForeverAsSelect) {
  goro::run([] {
    std::atomic<std::uint64_t> gid{0};
    // Never resumed: goro::run abandons it at exit, as Go abandons it at
    // the end of main. It captures nothing that could dangle.
    goro::go([&gid] {
      gid = goro::id();
      goro::Chan<int> nil;
      goro::select(goro::recv(nil), goro::send(nil, 1));
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    goro::sleep(20ms);
    EXPECT_TRUE(parked_as(gid.load(), "select")) << "woken although no case can ever be ready";
  });
}

TEST(Select, ASingleNilCaseBlocksLikeThePlainOperationOnNil) {
  // Go compiles a one-case select to the plain channel operation, so the
  // goroutine shows as "chan receive (nil chan)" / "chan send (nil chan)".
  goro::run([] {
    std::atomic<std::uint64_t> receiver{0}, sender{0};
    goro::go([&receiver] {
      receiver = goro::id();
      goro::select(goro::recv(goro::Chan<int>{}));
    });
    goro::go([&sender] {
      sender = goro::id();
      goro::select(goro::send(goro::Chan<int>{}, 1));
    });
    EXPECT_TRUE(parks_with(receiver, "chan receive (nil chan)"));
    EXPECT_TRUE(parks_with(sender, "chan send (nil chan)"));
  });
}

TEST(Select, NoCasesBlocksForeverAsSelectNoCases) {
  goro::run([] {
    std::atomic<std::uint64_t> gid{0};
    goro::go([&gid] {
      gid = goro::id();
      goro::select();
    });
    ASSERT_TRUE(parks_with(gid, "select (no cases)"));
    goro::sleep(20ms);
    EXPECT_TRUE(parked_as(gid.load(), "select (no cases)"));
  });
}

// --- wait reasons of blocked selects -----------------------------------------------

TEST(Select, ABlockedSelectOverSeveralChannelsWaitsAsSelect) {
  goro::run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    std::atomic<std::uint64_t> gid{0};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      goro::select(goro::recv(a), goro::send(b, 1));
      wg.done();
    });
    EXPECT_TRUE(parks_with(gid, "select"));
    a.send(0);
    wg.wait();
  });
}

TEST(Select, OneLiveCasePlusANilCaseStillWaitsAsSelect) {
  // Go decides by the number of cases written, not by which are nil.
  goro::run([] {
    auto a = goro::make_chan<int>();
    std::atomic<std::uint64_t> gid{0};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      goro::select(goro::recv(a), goro::recv(goro::Chan<int>{}));
      wg.done();
    });
    EXPECT_TRUE(parks_with(gid, "select"));
    a.send(0);
    wg.wait();
  });
}

TEST(Select, ASingleChannelCaseWaitsAsThePlainOperation) {
  goro::run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    std::atomic<std::uint64_t> receiver{0}, sender{0};
    std::atomic<int> got{0};
    goro::WaitGroup wg;
    wg.add(2);
    goro::go([&] {
      receiver = goro::id();
      goro::select(goro::recv(a, [&](int v) { got = v; }));
      wg.done();
    });
    goro::go([&] {
      sender = goro::id();
      goro::select(goro::send(b, 5));
      wg.done();
    });
    EXPECT_TRUE(parks_with(receiver, "chan receive"));
    EXPECT_TRUE(parks_with(sender, "chan send"));
    a.send(3);
    EXPECT_EQ(b.recv().value, 5);
    wg.wait();
    EXPECT_EQ(got.load(), 3);
  });
}

// --- closed channels --------------------------------------------------------------------

TEST(Select, ARecvCaseOnAClosedChannelIsReadyWithOkFalseAfterTheBuffer) {
  goro::run([] {
    auto open = goro::make_chan<int>();
    auto closed = goro::make_chan<int>(2);
    closed.send(7);
    closed.close();
    std::vector<std::pair<int, bool>> got;
    for (int i = 0; i < 3; ++i) {
      int taken = goro::select(goro::recv(open), goro::recv(closed, [&](int v, bool ok) { got.emplace_back(v, ok); }),
                               goro::default_case());
      EXPECT_EQ(taken, 1) << "round " << i;
    }
    // The buffered value drains first, then the zero value with ok=false,
    // again and again.
    EXPECT_EQ(got, (std::vector<std::pair<int, bool>>{{7, true}, {0, false}, {0, false}}));
  });
}

TEST(Select, CloseWakesABlockedRecvCaseWithOkFalse) {
  goro::run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1};
    std::atomic<bool> ok{true};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = goro::select(goro::recv(a), goro::recv(b, [&](int, bool o) { ok = o; }));
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    b.close();
    wg.wait();
    EXPECT_EQ(taken.load(), 1);
    EXPECT_FALSE(ok.load());
  });
}

TEST(Select, ASendCaseOnAClosedChannelThrowsGosError) {
  goro::run([] {
    auto c = goro::make_chan<int>(1);
    c.close();
    bool callback_ran = false;
    try {
      // Even with a default case: a send on a closed channel is "ready"
      // and panics, as in Go.
      goro::select(goro::send(c, 1, [&] { callback_ran = true; }), goro::default_case());
      ADD_FAILURE() << "select did not throw";
    } catch (const goro::Error& e) {
      EXPECT_STREQ(e.what(), "send on closed channel");
    }
    EXPECT_FALSE(callback_ran);
    EXPECT_THROW(goro::select(goro::send(c, 1), goro::recv(goro::make_chan<int>())), goro::Error);
    EXPECT_EQ(c.len(), 0u) << "the failed sends put nothing in the buffer";
  });
}

TEST(Select, CloseMakesABlockedSendCaseThrow) {
  const int before = Tracked::live.load();
  goro::run([] {
    auto a = goro::make_chan<Tracked>(), b = goro::make_chan<Tracked>();
    std::atomic<std::uint64_t> gid{0};
    std::string error;
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      try {
        goro::select(goro::send(a, Tracked(1)), goro::recv(b));
      } catch (const goro::Error& e) {
        error = e.what();
      }
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    a.close();
    wg.wait();
    EXPECT_EQ(error, "send on closed channel");
  });
  EXPECT_EQ(Tracked::live.load(), before) << "the value of the failed send leaked";
}

// --- fairness ---------------------------------------------------------------------------

// |count - expected| within 5 standard deviations of Binomial(n, p): a fair
// select fails this about once in two million runs.
::testing::AssertionResult binomially_plausible(long count, long n, double p) {
  double mean = n * p;
  double sigma = std::sqrt(n * p * (1 - p));
  if (std::abs(count - mean) <= 5 * sigma) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << count << " of " << n << " trials, expected " << mean << " +- "
                                       << 5 * sigma;
}

TEST(SelectFairness, TwoReadyChannelsAreChosenEquallyOften) {
  // Go's TestSelectFairness: two buffered channels always ready, two
  // unbuffered ones never; each ready case about half of the time.
  const long trials = scaled(100000, 50000, 20000);
  goro::run([&] {
    auto c1 = goro::make_chan<char>(trials), c2 = goro::make_chan<char>(trials);
    auto c3 = goro::make_chan<char>(), c4 = goro::make_chan<char>();
    for (long i = 0; i < trials; ++i) {
      c1.send(1);
      c2.send(2);
    }
    long count[4] = {};
    for (long i = 0; i < trials; ++i) {
      int taken = goro::select(goro::recv(c3), goro::recv(c4), goro::recv(c1), goro::recv(c2));
      ++count[taken];
    }
    EXPECT_EQ(count[0] + count[1], 0);
    EXPECT_TRUE(binomially_plausible(count[2], trials, 0.5));
    EXPECT_TRUE(binomially_plausible(count[3], trials, 0.5));
  });
}

TEST(SelectFairness, FourReadyCasesAreChosenEquallyOften) {
  // Mixed kinds: two receives with values waiting, two sends with room.
  const long trials = scaled(100000, 50000, 20000);
  goro::run([&] {
    auto in1 = goro::make_chan<int>(trials), in2 = goro::make_chan<int>(trials);
    auto out1 = goro::make_chan<int>(trials), out2 = goro::make_chan<int>(trials);
    for (long i = 0; i < trials; ++i) {
      in1.send(1);
      in2.send(2);
    }
    long count[4] = {};
    for (long i = 0; i < trials; ++i) {
      ++count[goro::select(goro::recv(in1), goro::send(out1, 0), goro::recv(in2), goro::send(out2, 0))];
    }
    for (int k = 0; k < 4; ++k) EXPECT_TRUE(binomially_plausible(count[k], trials, 0.25)) << "case " << k;
  });
}

TEST(SelectFairness, TwoSendCasesOnOneChannelAlternateRandomly) {
  // Go's TestPseudoRandomSend: the values received tell which case won.
  const long trials = scaled(100000, 50000, 20000);
  goro::run([&] {
    auto c = goro::make_chan<int>(trials);
    for (long i = 0; i < trials; ++i) goro::select(goro::send(c, 1), goro::send(c, 0));
    long ones = 0;
    for (long i = 0; i < trials; ++i) ones += c.recv().value;
    EXPECT_TRUE(binomially_plausible(ones, trials, 0.5));
  });
}

// --- a blocked select is woken by exactly one channel --------------------------------

TEST(SelectWakeup, OneSendWakesTheSelectAndItsOtherWaitsAreWithdrawn) {
  goro::run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>(), c = goro::make_chan<int>();
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1}, got{0};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = goro::select(goro::recv(a), goro::recv(b, [&](int v) { got = v; }), goro::recv(c));
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    b.send(2);
    wg.wait();
    EXPECT_EQ(taken.load(), 1);
    EXPECT_EQ(got.load(), 2);
    // Nobody waits on a and c any more: a non-blocking send finds no
    // receiver, and a new receiver gets the next value.
    EXPECT_FALSE(a.try_send(1));
    EXPECT_FALSE(c.try_send(3));
    std::atomic<int> late{0};
    wg.add(1);
    goro::go([&] {
      late = a.recv().value;
      wg.done();
    });
    a.send(10);
    wg.wait();
    EXPECT_EQ(late.load(), 10);
  });
}

TEST(SelectWakeup, ValuesSentLaterToTheOtherBufferedChannelsStayThere) {
  goro::run([] {
    auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1), c = goro::make_chan<int>(1);
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = goro::select(goro::recv(a), goro::recv(b), goro::recv(c));
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    c.send(3);
    wg.wait();
    EXPECT_EQ(taken.load(), 2);
    a.send(1);
    b.send(2);
    EXPECT_EQ(a.len(), 1u) << "taken by the finished select";
    EXPECT_EQ(b.len(), 1u) << "taken by the finished select";
    EXPECT_EQ(a.recv().value, 1);
    EXPECT_EQ(b.recv().value, 2);
  });
}

TEST(SelectWakeup, OneReceiveWakesABlockedSendSelectAndTheOtherValueIsNotSent) {
  const int before = Tracked::live.load();
  goro::run([] {
    auto a = goro::make_chan<Tracked>(), b = goro::make_chan<Tracked>();
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = goro::select(goro::send(a, Tracked(1)), goro::send(b, Tracked(2)));
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    EXPECT_EQ(b.recv().value.v, 2);
    wg.wait();
    EXPECT_EQ(taken.load(), 1);
    EXPECT_FALSE(a.try_recv().has_value()) << "the send case on a was not withdrawn";
  });
  EXPECT_EQ(Tracked::live.load(), before) << "the value of the send case not taken leaked";
}

TEST(SelectWakeup, TwoRacingSendersAreEachReceivedExactlyOnce) {
  // Both channels become ready at about the same time: exactly one wins
  // the blocked select, the other sender must stay pending for the next
  // select (never delivered twice, never lost).
  const int rounds = static_cast<int>(scaled(50000, 25000, 5000));
  goro::run([&] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    goro::WaitGroup senders;
    senders.add(2);
    goro::go([&] {
      for (int i = 0; i < rounds; ++i) a.send(2 * i);
      senders.done();
    });
    goro::go([&] {
      for (int i = 0; i < rounds; ++i) b.send(2 * i + 1);
      senders.done();
    });
    std::vector<int> seen(2 * rounds);
    auto note = [&](int v) { ++seen[v]; };
    for (int i = 0; i < 2 * rounds; ++i) goro::select(goro::recv(a, note), goro::recv(b, note));
    senders.wait();
    for (int v = 0; v < 2 * rounds; ++v) ASSERT_EQ(seen[v], 1) << "value " << v;
  });
}

// --- parking -------------------------------------------------------------------------

// Overwrites the stack below the caller, as any call made after select
// returns does, with bytes that make a stale count or pointer read from
// there fault at once instead of misbehaving quietly.
[[gnu::noinline]] void scribble_stack() {
  volatile unsigned char junk[4096];
  for (auto& b : junk) b = 0x01;
}

// A goroutine blocks in a select with two cases, a goroutine on the other
// worker wakes it, and it goes on using its stack. The worker that parked
// it may still be releasing the select's channel locks at that moment: it
// must not read the select's state (on the goroutine's stack) after
// releasing the last lock, because from then on the goroutine can run and
// reuse that memory (Go's selunlock/selparkcommit take the same care).
// With both cases on one channel, that channel's only unlock is the last.
void resume_select_while_its_worker_unlocks(bool same_channel) {
  goro::set_maxprocs(2);  // the race needs two workers, whatever GORO_MAXPROCS says
  const long rounds = scaled(300000, 300000, 100000);
  long wrong = 0;
  goro::run([&] {
    auto a = goro::make_chan<long>(), b = goro::make_chan<long>();
    goro::Chan<long> second = same_channel ? a : b;
    goro::WaitGroup wg;
    wg.add(2);
    goro::go([&] {
      for (long i = 0; i < rounds; ++i) {
        long got = -1;
        goro::select(goro::recv(a, [&](long v) { got = v; }), goro::recv(second, [&](long v) { got = v; }));
        scribble_stack();
        if (got != i) ++wrong;
      }
      wg.done();
    });
    goro::go([&] {
      for (long i = 0; i < rounds; ++i) (i % 2 == 0 ? a : second).send(i);
      wg.done();
    });
    wg.wait();
  });
  if (wrong != 0) {
    std::fprintf(stderr, "%ld values arrived out of order\n", wrong);
    std::exit(1);
  }
}

GORO_TEST_SCENARIO(select_resumed_while_its_worker_unlocks) { resume_select_while_its_worker_unlocks(false); }
GORO_TEST_SCENARIO(duplicate_select_resumed_while_its_worker_unlocks) { resume_select_while_its_worker_unlocks(true); }

// Runs a scenario in a child process (the failure it guards against is a
// crash) and expects a clean exit.
::testing::AssertionResult scenario_exits_cleanly(const std::string& name) {
  goro_test::ChildResult r = goro_test::run_scenario(name);
  if (r.exited && r.exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << (r.exited ? "exit code " + std::to_string(r.exit_code)
                                                    : "killed by signal " + std::to_string(r.signal))
                                       << "\n"
                                       << r.err;
}

TEST(SelectParking, AWokenSelectMayReuseItsStackWhileItsOldWorkerUnlocks) {
  EXPECT_TRUE(scenario_exits_cleanly("select_resumed_while_its_worker_unlocks"));
}

TEST(SelectParking, SameWithBothCasesOnOneChannel) {
  EXPECT_TRUE(scenario_exits_cleanly("duplicate_select_resumed_while_its_worker_unlocks"));
}

// --- Go's select regression tests --------------------------------------------------------

TEST(SelectGo, DoubleSelectDeliversEveryValueOnce) {
  // test/chan/doubleselect.go, with several select-senders: each sends its
  // own range through a select over four unbuffered channels; four muxes
  // forward to one channel; a receiver checks that no value arrives twice
  // (two cases of one select both firing) and none is lost.
  const int per_sender = static_cast<int>(scaled(100000, 50000, 10000));
  constexpr int kSenders = 3;
  goro::run([&] {
    std::array<goro::Chan<int>, 4> c;
    for (auto& ch : c) ch = goro::make_chan<int>();
    auto cmux = goro::make_chan<int>();
    goro::WaitGroup senders, muxes;
    senders.add(kSenders);
    for (int s = 0; s < kSenders; ++s) {
      goro::go([&, s] {
        for (int i = s * per_sender; i < (s + 1) * per_sender; ++i) {
          goro::select(goro::send(c[0], i), goro::send(c[1], i), goro::send(c[2], i), goro::send(c[3], i));
        }
        senders.done();
      });
    }
    goro::go([&] {
      senders.wait();
      for (auto& ch : c) ch.close();
    });
    muxes.add(4);
    for (int k = 0; k < 4; ++k) {
      goro::go([&, k] {
        for (int v : c[k]) cmux.send(v);
        muxes.done();
      });
    }
    goro::go([&] {
      muxes.wait();
      cmux.close();
    });
    std::vector<char> seen(kSenders * per_sender);
    long received = 0;
    for (int v : cmux) {
      ASSERT_EQ(seen[v], 0) << "duplicate value " << v;
      seen[v] = 1;
      ++received;
    }
    EXPECT_EQ(received, long{kSenders} * per_sender);
  });
}

void self_select(std::size_t cap) {
  // TestSelfSelect: two goroutines select send and receive on one channel.
  // On an unbuffered channel a select must never pair with itself.
  constexpr int kIterations = 1000;
  std::atomic<int> self_receives{0};
  goro::run([&] {
    auto c = goro::make_chan<int>(cap);
    goro::WaitGroup wg;
    wg.add(2);
    for (int p = 0; p < 2; ++p) {
      goro::go([&, p] {
        auto check = [&](int v) {
          if (cap == 0 && v == p) self_receives.fetch_add(1);
        };
        for (int i = 0; i < kIterations; ++i) {
          if (p == 0 || i % 2 == 0) {
            goro::select(goro::send(c, p), goro::recv(c, check));
          } else {
            goro::select(goro::recv(c, check), goro::send(c, p));
          }
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(self_receives.load(), 0);
}

TEST(SelectGo, SelfSelectUnbuffered) { self_select(0); }
TEST(SelectGo, SelfSelectBuffered) { self_select(10); }

TEST(SelectGo, ABlockedSelectNeverPairsWithItself) {
  // Alone on an unbuffered channel, send and receive cases of one select
  // stay blocked; a partner then completes exactly one of them.
  goro::run([] {
    auto c = goro::make_chan<int>();
    EXPECT_EQ(goro::select(goro::send(c, 1), goro::recv(c), goro::default_case()), 2);
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1}, got{0};
    goro::WaitGroup wg;
    for (int round = 0; round < 2; ++round) {
      gid = 0;
      wg.add(1);
      goro::go([&] {
        gid = goro::id();
        taken = goro::select(goro::send(c, 1), goro::recv(c, [&](int v) { got = v; }));
        wg.done();
      });
      ASSERT_TRUE(parks_with(gid, "select"));
      goro::sleep(5ms);
      EXPECT_TRUE(parked_as(gid.load(), "select")) << "the select completed with itself";
      if (round == 0) {
        EXPECT_EQ(c.recv().value, 1);
        wg.wait();
        EXPECT_EQ(taken.load(), 0);
      } else {
        c.send(7);
        wg.wait();
        EXPECT_EQ(taken.load(), 1);
        EXPECT_EQ(got.load(), 7);
      }
    }
  });
}

TEST(SelectGo, DuplicateChannelInOneSelect) {
  // TestSelectDuplicateChannel: A waits twice on c (and on d), B then
  // waits on c. d wakes A, which must withdraw both of its waits on c
  // without corrupting c's queue: the next send on c must reach B.
  goro::run([] {
    auto c = goro::make_chan<int>(), d = goro::make_chan<int>(), e = goro::make_chan<int>();
    std::atomic<std::uint64_t> a_id{0}, b_id{0};
    std::atomic<int> b_got{0};
    goro::WaitGroup b_done;
    goro::go([&] {
      a_id = goro::id();
      goro::select(goro::recv(c), goro::recv(c), goro::recv(d));
      e.send(9);
    });
    ASSERT_TRUE(parks_with(a_id, "select"));  // A queued on c first
    b_done.add(1);
    goro::go([&] {
      b_id = goro::id();
      b_got = c.recv().value;
      b_done.done();
    });
    ASSERT_TRUE(parks_with(b_id, "chan receive"));
    d.send(7);
    EXPECT_EQ(e.recv().value, 9);
    c.send(8);
    b_done.wait();
    EXPECT_EQ(b_got.load(), 8);
  });
}

TEST(SelectGo, DuplicateSendCasesOnOneChannelSendOnce) {
  goro::run([] {
    auto c = goro::make_chan<int>();
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = goro::select(goro::send(c, 0), goro::send(c, 1));
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    int v = c.recv().value;
    wg.wait();
    EXPECT_EQ(v, taken.load()) << "the value sent is the one of the case reported";
    EXPECT_FALSE(c.try_recv().has_value()) << "the other case was delivered too";
  });
}

TEST(SelectGo, DuplicateRecvCasesOnABufferedChannelTakeOneValue) {
  goro::run([] {
    auto c = goro::make_chan<int>(2);
    c.send(1);
    c.send(2);
    int calls = 0;
    auto count = [&](int) { ++calls; };
    goro::select(goro::recv(c, count), goro::recv(c, count), goro::default_case());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(c.len(), 1u);
  });
}

// --- timeouts ------------------------------------------------------------------------------

TEST(SelectTimeout, AfterFiresWhenNothingElseIsReady) {
  goro::run([] {
    auto never = goro::make_chan<int>();
    auto start = std::chrono::steady_clock::now();
    goro::Time fired{};
    int taken = goro::select(goro::recv(never), goro::recv(goro::after(10ms), [&](goro::Time t) { fired = t; }));
    EXPECT_EQ(taken, 1);
    // Timers never fire early; there is no upper bound on a busy machine.
    EXPECT_GE(goro_test::ms_since(start), 10.0);
    EXPECT_GE(fired - start, 10ms);
  });
}

TEST(SelectTimeout, AReadyCaseWinsOverAPendingTimeout) {
  goro::run([] {
    auto ready = goro::make_chan<int>(1);
    ready.send(1);
    EXPECT_EQ(goro::select(goro::recv(goro::after(1h)), goro::recv(ready)), 1);
  });
}

TEST(SelectTimeout, ASendBeforeTheTimeoutWins) {
  goro::run([] {
    auto c = goro::make_chan<int>();
    goro::go([c] { c.send(5); });
    int got = 0;
    EXPECT_EQ(goro::select(goro::recv(goro::after(1h)), goro::recv(c, [&](int v) { got = v; })), 1);
    EXPECT_EQ(got, 5);
  });
}

// --- plain OS threads ------------------------------------------------------------------------

TEST(SelectThreads, AThreadBlockedInSelectIsWokenByAGoroutineSend) {
  // This test's thread is not a goroutine: it blocks in select. The
  // goroutine sleeps first so that the thread is most likely blocked (the
  // outcome is the same if not: only the path differs).
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
  goro::go([b] {
    goro::sleep(20ms);
    b.send(42);
  });
  int got = 0;
  EXPECT_EQ(goro::select(goro::recv(a), goro::recv(b, [&](int v) { got = v; })), 1);
  EXPECT_EQ(got, 42);
}

TEST(SelectThreads, AThreadBlockedInASendSelectIsWokenByAGoroutineReceive) {
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
  std::atomic<int> got{0};
  goro::WaitGroup wg;
  wg.add(1);
  goro::go([&, a] {
    goro::sleep(20ms);
    got = a.recv().value;
    wg.done();
  });
  EXPECT_EQ(goro::select(goro::send(a, 1), goro::send(b, 2)), 0);
  wg.wait();
  EXPECT_EQ(got.load(), 1);
  EXPECT_FALSE(b.try_recv().has_value());
}

TEST(SelectThreads, AGoroutineBlockedInSelectIsWokenByAThreadSend) {
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
  std::atomic<std::uint64_t> gid{0};
  std::atomic<int> taken{-1}, got{0};
  goro::WaitGroup wg;
  wg.add(1);
  goro::go([&] {
    gid = goro::id();
    taken = goro::select(goro::recv(a, [&](int v) { got = v; }), goro::recv(b));
    wg.done();
  });
  ASSERT_TRUE(parks_with(gid, "select"));
  a.send(17);  // from this plain thread
  wg.wait();
  EXPECT_EQ(taken.load(), 0);
  EXPECT_EQ(got.load(), 17);
}

TEST(SelectThreads, ThreadsOnBothSidesOfSelectsPingPong) {
  // A thread and a goroutine bounce a counter through selects over two
  // channels each way: every round the thread blocks and is woken again
  // (its parker is reused, across select and plain operations).
  const int rounds = static_cast<int>(scaled(10000, 5000, 1000));
  auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
  // Never ready: nobody sends on `silent`, nobody receives from `deaf`.
  auto silent = goro::make_chan<int>(), deaf = goro::make_chan<int>();
  goro::WaitGroup wg;
  wg.add(1);
  goro::go([&] {
    for (int i = 0; i < rounds; ++i) {
      int v = 0;
      goro::select(goro::recv(ping, [&](int x) { v = x; }), goro::recv(silent));
      if (i % 2 == 0) {
        goro::select(goro::send(pong, v + 1), goro::recv(silent));
      } else {
        pong.send(v + 1);
      }
    }
    wg.done();
  });
  int v = 0;
  std::thread t([&] {
    for (int i = 0; i < rounds; ++i) {
      goro::select(goro::send(ping, v), goro::send(deaf, -1));
      goro::select(goro::recv(pong, [&](int x) { v = x; }), goro::recv(silent));
    }
  });
  t.join();
  wg.wait();
  EXPECT_EQ(v, rounds);
}

// --- large selects -------------------------------------------------------------------------

constexpr std::size_t kManyCases = 64;
using ManyChans = std::array<goro::Chan<int>, kManyCases>;

template <std::size_t... I>
int select_recv_over(const ManyChans& chans, int& got, std::index_sequence<I...>) {
  return goro::select(goro::recv(chans[I], [&got](int v) { got = v; })...);
}

template <std::size_t... I>
int select_recv_over_or_default(const ManyChans& chans, std::index_sequence<I...>) {
  return goro::select(goro::recv(chans[I])..., goro::default_case());
}

// 32 send cases (even indexes) interleaved with 32 receive cases.
template <std::size_t... I>
int select_mixed_over(const ManyChans& chans, std::index_sequence<I...>) {
  auto make_case = [&chans]<std::size_t K>(std::integral_constant<std::size_t, K>) {
    if constexpr (K % 2 == 0) {
      return goro::send(chans[K], static_cast<int>(K));
    } else {
      return goro::recv(chans[K]);
    }
  };
  return goro::select(make_case(std::integral_constant<std::size_t, I>{})...);
}

TEST(SelectMany, SixtyFourCasesReportTheRightIndex) {
  goro::run([] {
    ManyChans chans;
    for (auto& c : chans) c = goro::make_chan<int>(1);
    auto seq = std::make_index_sequence<kManyCases>{};
    EXPECT_EQ(select_recv_over_or_default(chans, seq), static_cast<int>(kManyCases));
    for (std::size_t k = 0; k < kManyCases; ++k) {
      chans[k].send(static_cast<int>(1000 + k));
      int got = 0;
      ASSERT_EQ(select_recv_over(chans, got, seq), static_cast<int>(k));
      EXPECT_EQ(got, static_cast<int>(1000 + k));
    }
  });
}

TEST(SelectMany, ABlockedSelectOverSixtyFourChannelsIsWokenByAnyOne) {
  goro::run([] {
    ManyChans chans;
    for (auto& c : chans) c = goro::make_chan<int>();
    for (std::size_t k : {std::size_t{0}, std::size_t{37}, kManyCases - 1}) {
      std::atomic<std::uint64_t> gid{0};
      std::atomic<int> taken{-1};
      int got = 0;
      goro::WaitGroup wg;
      wg.add(1);
      goro::go([&] {
        gid = goro::id();
        taken = select_recv_over(chans, got, std::make_index_sequence<kManyCases>{});
        wg.done();
      });
      ASSERT_TRUE(parks_with(gid, "select"));
      chans[k].send(static_cast<int>(k));
      wg.wait();
      EXPECT_EQ(taken.load(), static_cast<int>(k));
      EXPECT_EQ(got, static_cast<int>(k));
    }
  });
}

TEST(SelectMany, MixedSendAndRecvCasesTakeTheOnlyReadyOne) {
  goro::run([] {
    ManyChans chans;
    for (auto& c : chans) {
      c = goro::make_chan<int>(1);
      c.send(-1);  // every buffer full: sends blocked, receives ready
    }
    // Empty the odd (receive) channels: nothing is ready.
    for (std::size_t k = 1; k < kManyCases; k += 2) chans[k].recv();
    std::atomic<std::uint64_t> gid{0};
    std::atomic<int> taken{-1};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      taken = select_mixed_over(chans, std::make_index_sequence<kManyCases>{});
      wg.done();
    });
    ASSERT_TRUE(parks_with(gid, "select"));
    // Make room in channel 40: its send case fires with its own value.
    EXPECT_EQ(chans[40].recv().value, -1);
    wg.wait();
    EXPECT_EQ(taken.load(), 40);
    EXPECT_EQ(chans[40].recv().value, 40);
    for (std::size_t k = 0; k < kManyCases; ++k) {
      if (k != 40) {
        EXPECT_EQ(chans[k].len(), k % 2 == 0 ? 1u : 0u) << "channel " << k;
      }
    }
  });
}

// --- panics ------------------------------------------------------------------------------------

void select_send_on_closed() {
  auto c = goro::make_chan<int>(), d = goro::make_chan<int>();
  c.close();
  goro::select(goro::send(c, 1), goro::recv(d));
}

void select_send_then_closed() {
  auto c = goro::make_chan<int>(), d = goro::make_chan<int>();
  goro::go([c] {
    goro::sleep(20ms);  // most likely blocked in the select by now; either way it panics
    c.close();
  });
  goro::select(goro::send(c, 1), goro::recv(d));
}

TEST(SelectDeathTest, UncaughtSendOnClosedChannelInAGoroutineIsAPanic) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(select_send_on_closed), ExitedWithCode(2),
              goro_test::go_panic_pattern("send on closed channel"));
}

TEST(SelectDeathTest, CloseUnderABlockedSelectSendIsAPanicWhenUncaught) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(select_send_then_closed), ExitedWithCode(2),
              goro_test::go_panic_pattern("send on closed channel"));
}

}  // namespace
