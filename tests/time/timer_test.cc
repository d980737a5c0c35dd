// Channels of time: goro::after, goro::tick, goro::Timer, goro::Ticker, with
// Go 1.23+ semantics (no value prepared before stop()/reset() returned is
// ever received after; len/cap of C are 0).
//
// Timing: a timer never fires early, so lower bounds are exact (a value is
// never earlier than its deadline; the k-th tick never before start + k*d).
// Upper bounds are seconds loose: machines are shared and noisy, and
// sanitizers are slow. Races between stop/reset and firing are asserted
// through what Go 1.23 guarantees whichever way the race goes.
#include <gtest/gtest.h>
#include <goro/detail/introspect.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace {

using namespace std::chrono_literals;
using goro::Time;
using goro_test::eventually;
using goro_test::scaled;
using Clock = std::chrono::steady_clock;
using TimeChan = goro::RecvChan<Time>;

// "Not absurdly late": anything past this is a lost wake-up, not noise.
constexpr auto kLate = goro_test::kSanitized ? 10s : 5s;

// The value ready on c right now, if any (never blocks).
std::optional<Time> ready_value(const TimeChan& c) {
  auto r = c.try_recv();
  if (!r) return std::nullopt;
  EXPECT_TRUE(r->ok) << "time channels are never closed";
  return r->value;
}

// True if nothing arrives on c within d (Go's select-with-timeout idiom).
// A value that does arrive is consumed.
bool stays_silent(const TimeChan& c, Clock::duration d) {
  return goro::select(goro::recv(c), goro::recv(goro::after(d))) == 1;
}

// Receives one value (blocking) and checks it is not earlier than `not_before`.
Time recv_not_before(const TimeChan& c, Time not_before) {
  auto [v, ok] = c.recv();
  EXPECT_TRUE(ok);
  EXPECT_GE(v, not_before) << "a time channel delivered before its deadline (or a stale value)";
  EXPECT_LE(v, Clock::now()) << "the value is the firing time, in the past";
  return v;
}

// Ticks go to a 1-slot mailbox: a receiver back from a long pause finds one
// tick, not one per missed period. Call after sleeping ~10 periods.
void expect_no_backlog(const TimeChan& c) {
  c.recv();  // the tick waiting since the pause (immediate)
  int more = 0;
  while (more < 20 && ready_value(c)) ++more;
  // One more may legitimately come due while we look; a queue would hold ~9.
  EXPECT_LE(more, 2) << "missed ticks were queued instead of dropped";
}

// Child-process scenarios, for races that can hang or corrupt the process
// (a lost timer, a timer in two heaps): the test binary survives them and
// says what happened. GoogleTest does not run in the child, which reports
// through its exit status: 0 fine, 3 hung (a lost timer), 4 an invariant
// broke (with a line on stderr), a signal for a crash.
constexpr auto kScenarioLimit = goro_test::kSanitized ? 30s : 10s;

void start_scenario_deadline(const char* what) {
  std::thread([what] {
    std::this_thread::sleep_for(kScenarioLimit);
    std::fprintf(stderr, "hang: %s\n", what);
    std::fflush(stderr);
    std::_Exit(3);
  }).detach();
}

[[noreturn]] void scenario_fail(int status, const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(status);
}

void expect_scenario_ok(const char* name) {
  auto r = goro_test::run_scenario(name);
  EXPECT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// --- after ------------------------------------------------------------------

TEST(After, ValueArrivesNoEarlierThanTheDuration) {
  goro::run([] {
    auto start = Clock::now();
    TimeChan c = goro::after(20ms);
    recv_not_before(c, start + 20ms);
    EXPECT_GE(Clock::now() - start, 20ms);
    EXPECT_LT(Clock::now() - start, 20ms + kLate);
  });
}

TEST(After, DeliversExactlyOneValue) {
  goro::run([] {
    TimeChan c = goro::after(1ms);
    c.recv();
    EXPECT_TRUE(stays_silent(c, 30ms)) << "after() delivered twice";
  });
}

TEST(After, ZeroAndNegativeDurationsFireAtOnce) {
  // Like time.After(d <= 0). The extremes must saturate, not wrap around
  // into huge positive waits.
  goro::run([] {
    auto start = Clock::now();
    recv_not_before(goro::after(0ms), start);
    recv_not_before(goro::after(-1ns), start);
    recv_not_before(goro::after(-1s), start);
    recv_not_before(goro::after(std::chrono::nanoseconds::min()), start);
    recv_not_before(goro::after(std::chrono::hours::min()), start);
    recv_not_before(goro::after(std::chrono::duration<double>(-1e300)), start);
    EXPECT_LT(Clock::now() - start, kLate);
  });
}

TEST(After, HugeDurationsDoNotOverflowIntoAnEarlyValue) {
  // These stay pending for the life of the process (as in Go before 1.23,
  // an unfired after() keeps its timer).
  goro::run([] {
    TimeChan a = goro::after(std::chrono::hours::max());
    TimeChan b = goro::after(std::chrono::duration<double>(1e300));
    TimeChan c = goro::after(std::chrono::nanoseconds::max());
    auto start = Clock::now();
    recv_not_before(goro::after(20ms), start + 20ms);  // a near timer behind the far ones
    EXPECT_TRUE(stays_silent(a, 10ms));
    EXPECT_TRUE(stays_silent(b, 10ms));
    EXPECT_TRUE(stays_silent(c, 10ms));
  });
}

TEST(After, TimesOutASelectOnASilentChannel) {
  goro::run([] {
    auto never = goro::make_chan<int>();
    auto start = Clock::now();
    int taken = goro::select(goro::recv(never), goro::recv(goro::after(30ms)));
    EXPECT_EQ(taken, 1);
    EXPECT_GE(Clock::now() - start, 30ms);
  });
}

TEST(After, LosesToAChannelThatDeliversFirst) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    goro::go([ch] {
      goro::sleep(5ms);
      ch.send(42);
    });
    int got = 0;
    auto start = Clock::now();
    int taken = goro::select(goro::recv(ch, [&](int v) { got = v; }), goro::recv(goro::after(1h)));
    EXPECT_EQ(taken, 0);
    EXPECT_EQ(got, 42);
    EXPECT_LT(Clock::now() - start, kLate);
  });
}

TEST(After, IsNotReadyBeforeItsDeadline) {
  goro::run([] {
    TimeChan c = goro::after(1h);
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(goro::select(goro::recv(c), goro::default_case()), 1);
    }
  });
}

TEST(After, ManyDroppedChannelsFireAndAreReleased) {
  // Nobody receives: each timer fires into a channel whose last handle is
  // gone (or going, racing with the firing) and frees itself. ASan's leak
  // check at exit catches states that are never freed; TSan the races.
  const int n = static_cast<int>(scaled(100000, 50000, 20000));
  goro::run([&] {
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> us(0, 2000);
    std::vector<TimeChan> held;
    for (int i = 0; i < n; ++i) {
      TimeChan c = goro::after(std::chrono::microseconds(us(rng)));
      if (i % 2 == 0) held.push_back(std::move(c));  // dropped a bit later
      if (i % 1000 == 0) held.clear();
    }
    held.clear();
    goro::sleep(20ms);  // past every deadline
    auto start = Clock::now();
    recv_not_before(goro::after(5ms), start + 5ms);  // timers still work
  });
}

TEST(After, ManyGoroutinesEachWaitOnTheirOwn) {
  const int n = static_cast<int>(scaled(20000, 10000, 4000));
  std::atomic<int> early{0}, done{0};
  goro::run([&] {
    std::mt19937 rng(2);
    std::uniform_int_distribution<int> ms(1, 200);
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      auto d = std::chrono::milliseconds(ms(rng));
      goro::go([&, d] {
        auto start = Clock::now();
        auto [v, ok] = goro::after(d).recv();
        if (!ok || v < start + d) early.fetch_add(1);
        done.fetch_add(1);
        wg.done();
      });
    }
    EXPECT_TRUE(eventually([&] { return done.load() == n; })) << done.load() << " of " << n;
    wg.wait();
  });
  EXPECT_EQ(early.load(), 0);
}

// --- tick -------------------------------------------------------------------

TEST(Tick, ReceivesRepeatedlyOnSchedule) {
  goro::run([] {
    auto start = Clock::now();
    TimeChan c = goro::tick(10ms);
    Time prev = start;
    for (int k = 1; k <= 5; ++k) {
      Time v = recv_not_before(c, start + k * 10ms);  // the k-th tick is never before start + k*d
      EXPECT_GT(v, prev);
      prev = v;
    }
    EXPECT_LT(Clock::now() - start, 50ms + kLate);
  });
}

TEST(Tick, NonPositiveDurationGivesTheNilChannel) {
  goro::run([] {
    EXPECT_FALSE(goro::tick(0ms));
    EXPECT_FALSE(goro::tick(-1ns));
    EXPECT_FALSE(goro::tick(std::chrono::hours::min()));
    EXPECT_TRUE(goro::tick(1h));
    // select never picks a nil channel.
    EXPECT_EQ(goro::select(goro::recv(goro::tick(0s)), goro::default_case()), 1);
    EXPECT_EQ(goro::select(goro::recv(goro::tick(0s)), goro::recv(goro::after(10ms))), 1);
  });
}

TEST(Tick, SlowReceiverFindsOneTickNotABacklog) {
  goro::run([] {
    TimeChan c = goro::tick(50ms);
    goro::sleep(520ms);  // ~10 periods
    expect_no_backlog(c);
  });
}

// tick() channels with nanosecond periods, dropped while their tickers fire
// back to back (so a worker and the timer thread can run the same ticker's
// callback at once): each must stop and free itself, without deadlocking
// the two (in a child: a deadlock would hang the binary).
GORO_TEST_SCENARIO(dropped_fast_tickers) {
  start_scenario_deadline("dropped tick() channels never finished firing");
  goro::run([] {
    const int rounds = static_cast<int>(scaled(300, 60, 40));
    const int per_round = static_cast<int>(scaled(500, 200, 100));
    auto budget = Clock::now() + (goro_test::kSanitized ? 8s : 3s);
    for (int r = 0; r < rounds && Clock::now() < budget; ++r) {
      std::vector<TimeChan> v;
      for (int i = 0; i < per_round; ++i) v.push_back(goro::tick(std::chrono::nanoseconds(1 + i % 50)));
      for (auto& c : v) c.recv();
      v.clear();
      goro::sleep(5ms);
    }
  });
}

TEST(Tick, DroppedFastTickersStopAndAreFreed) { expect_scenario_ok("dropped_fast_tickers"); }

// --- Timer ------------------------------------------------------------------

TEST(Timer, FiresOnceNoEarlierThanTheDuration) {
  goro::run([] {
    auto start = Clock::now();
    goro::Timer t(20ms);
    recv_not_before(t.C, start + 20ms);
    EXPECT_LT(Clock::now() - start, 20ms + kLate);
    EXPECT_TRUE(stays_silent(t.C, 30ms)) << "a Timer fired twice";
    EXPECT_FALSE(t.stop()) << "stop() after the value was received";
  });
}

TEST(Timer, StopBeforeFiringPreventsTheValue) {
  goro::run([] {
    goro::Timer t(20ms);
    EXPECT_TRUE(t.stop());
    EXPECT_TRUE(stays_silent(t.C, 60ms));  // well past the deadline
    EXPECT_FALSE(ready_value(t.C));
    EXPECT_FALSE(t.stop()) << "second stop() must report the timer already stopped";
  });
}

TEST(Timer, StopAfterFiringDiscardsTheUnreceivedValue) {
  // Go 1.23: a fired but unreceived value counts as not delivered yet, so
  // stop() returns true and C then blocks. Whether the timer already fired
  // when stop() runs (almost surely, after 30 ms) does not change that.
  goro::run([] {
    goro::Timer t(1ms);
    goro::sleep(30ms);
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(ready_value(t.C)) << "a stale value survived stop()";
    EXPECT_TRUE(stays_silent(t.C, 20ms));
    EXPECT_FALSE(t.stop());
  });
}

TEST(Timer, StopAfterReceiveReturnsFalse) {
  goro::run([] {
    goro::Timer t(1ms);
    t.C.recv();
    EXPECT_FALSE(t.stop());
    EXPECT_FALSE(t.stop());
  });
}

TEST(Timer, ResetRearmsAPendingTimerEarlier) {
  // Like Go's TestTimerModifiedEarlier: the new, nearer deadline is honoured.
  goro::run([] {
    goro::Timer t(1h);
    auto reset_at = Clock::now();
    EXPECT_TRUE(t.reset(20ms));
    recv_not_before(t.C, reset_at + 20ms);
    EXPECT_LT(Clock::now() - reset_at, 20ms + kLate);
    EXPECT_TRUE(stays_silent(t.C, 30ms));
  });
}

TEST(Timer, ResetPostponesAPendingTimer) {
  goro::run([] {
    goro::Timer t(10ms);
    auto reset_at = Clock::now();
    EXPECT_TRUE(t.reset(60ms));
    recv_not_before(t.C, reset_at + 60ms);  // the 10 ms arming never delivers
    EXPECT_TRUE(stays_silent(t.C, 20ms));
  });
}

TEST(Timer, ResetDropsAFiredUnreceivedValue) {
  goro::run([] {
    goro::Timer t(1ms);
    goro::sleep(30ms);  // fired, nobody received
    auto reset_at = Clock::now();
    EXPECT_TRUE(t.reset(40ms)) << "an unreceived value means the timer was still active (Go 1.23)";
    // A stale value would be ready at once, dated before reset_at.
    recv_not_before(t.C, reset_at + 40ms);
    EXPECT_TRUE(stays_silent(t.C, 20ms));
  });
}

TEST(Timer, ResetAfterReceiveOrStopReturnsFalseAndFiresAgain) {
  goro::run([] {
    goro::Timer t(1ms);
    t.C.recv();
    auto at = Clock::now();
    EXPECT_FALSE(t.reset(5ms));  // expired and received
    recv_not_before(t.C, at + 5ms);

    EXPECT_FALSE(t.reset(1h));
    EXPECT_TRUE(t.stop());
    at = Clock::now();
    EXPECT_FALSE(t.reset(5ms));  // stopped
    recv_not_before(t.C, at + 5ms);
    EXPECT_TRUE(stays_silent(t.C, 20ms));
  });
}

TEST(Timer, ZeroAndNegativeDurationsFireAtOnce) {
  goro::run([] {
    auto start = Clock::now();
    goro::Timer t(0ms);
    recv_not_before(t.C, start);
    EXPECT_FALSE(t.reset(-5s));
    recv_not_before(t.C, start);
    goro::Timer u(std::chrono::nanoseconds::min());
    recv_not_before(u.C, start);
    EXPECT_LT(Clock::now() - start, kLate);
  });
}

TEST(Timer, HugeDurationsSaturateAndNeverFire) {
  goro::run([] {
    goro::Timer t(std::chrono::hours::max());
    goro::Ticker tk(std::chrono::hours::max());
    EXPECT_TRUE(stays_silent(t.C, 20ms));
    EXPECT_FALSE(ready_value(tk.C));
    EXPECT_TRUE(t.reset(std::chrono::duration<double>(1e300))) << "still pending";
    EXPECT_TRUE(stays_silent(t.C, 10ms));
    EXPECT_TRUE(t.stop());
  });
}

TEST(Timer, ChannelsReportLenAndCapZero) {
  // Go 1.23's timer channels are synchronous: len and cap are 0 even while
  // a fired value waits to be received.
  goro::run([] {
    goro::Timer t(1ms);
    EXPECT_EQ(t.C.len(), 0u);
    EXPECT_EQ(t.C.cap(), 0u);
    goro::sleep(30ms);  // (almost surely) fired: its value waits unreceived
    EXPECT_EQ(t.C.len(), 0u);
    EXPECT_EQ(t.C.cap(), 0u);
    t.C.recv();  // and is there to receive

    TimeChan a = goro::after(1ms);
    TimeChan k = goro::tick(1ms);
    goro::Ticker tk(1ms);
    goro::sleep(20ms);
    for (const TimeChan* c : {&a, &k, &tk.C}) {
      EXPECT_EQ(c->len(), 0u);
      EXPECT_EQ(c->cap(), 0u);
    }
  });
}

TEST(Timer, DestructorStopsAPendingTimer) {
  goro::run([] {
    TimeChan c;
    {
      goro::Timer t(10ms);
      c = t.C;  // the channel outlives the Timer
    }
    EXPECT_TRUE(stays_silent(c, 50ms));
  });
}

TEST(Timer, DestructorDiscardsAFiredUnreceivedValue) {
  goro::run([] {
    TimeChan c;
    {
      goro::Timer t(0ms);
      goro::sleep(20ms);
      c = t.C;
    }
    EXPECT_FALSE(ready_value(c));
  });
}

TEST(Timer, ManyDestroyedWhileFiring) {
  // Timers and Tickers destroyed at random moments around their deadlines,
  // from several goroutines: after a destructor returns no callback may
  // touch the object (ASan: use after free; TSan: races), and nothing
  // arrives on a surviving handle of C.
  const int per_goroutine = static_cast<int>(scaled(1000, 400, 250));
  const int goroutines = 4;
  std::atomic<int> late_values{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(goroutines);
    for (int g = 0; g < goroutines; ++g) {
      goro::go([&, g] {
        std::mt19937 rng(100 + g);
        std::uniform_int_distribution<int> us(0, 400);
        std::vector<TimeChan> channels;
        for (int i = 0; i < per_goroutine; ++i) {
          auto d = std::chrono::microseconds(us(rng));
          if (i % 4 == 3) {
            goro::Ticker tk(d + 10us);
            channels.push_back(tk.C);
            goro_test::spin_for(std::chrono::microseconds(us(rng)));
          } else {
            goro::Timer t(d);
            channels.push_back(t.C);
            if (i % 2 == 0) goro_test::spin_for(std::chrono::microseconds(us(rng)));
          }
          if (i % 16 == 0) goro::yield();
        }
        goro::sleep(5ms);  // past every deadline
        for (auto& c : channels) {
          if (ready_value(c)) late_values.fetch_add(1);
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(late_values.load(), 0) << "values arrived after their Timer/Ticker was destroyed";
}

TEST(Timer, BlockedReceiverOfAStoppedTimerStaysBlockedUntilReset) {
  goro::run([] {
    goro::Timer t(1h);  // outlives the receiver: wg.wait() below
    std::atomic<std::uint64_t> gid{0};
    std::atomic<bool> got{false};
    Time value{};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      value = t.C.recv().value;
      got = true;
      wg.done();
    });
    ASSERT_TRUE(goro_test::parks_with(gid, "chan receive"));
    EXPECT_TRUE(t.stop());
    goro::sleep(30ms);
    EXPECT_FALSE(got.load());
    EXPECT_TRUE(goro_test::parked_as(gid, "chan receive")) << goro_test::describe(goro::detail::goroutine_state(gid));

    // Re-armed for a moment and stopped: whichever way that races, stop()'s
    // answer must match what the receiver saw.
    t.reset(15ms);
    bool stopped = t.stop();
    if (stopped) {
      goro::sleep(40ms);  // past the 15 ms deadline
      EXPECT_FALSE(got.load()) << "stop() returned true, yet the value was delivered";
    } else {
      EXPECT_TRUE(eventually([&] { return got.load(); })) << "stop() returned false, yet no value";
    }

    auto reset_at = Clock::now();
    t.reset(10ms);  // wakes it if it still waits
    wg.wait();
    if (stopped) {
      EXPECT_GE(value, reset_at + 10ms);
    }
  });
}

TEST(Timer, WorksOnAPlainThread) {
  // The test's own thread: no goro::run in progress.
  auto start = Clock::now();
  goro::Timer t(20ms);
  recv_not_before(t.C, start + 20ms);
  recv_not_before(goro::after(5ms), Clock::now());
  EXPECT_TRUE(stays_silent(t.C, 20ms));

  // A std::thread beside running goroutines: it blocks, a timer wakes it.
  goro::run([] {
    std::atomic<bool> done{false};
    std::thread th([&] {
      auto s = Clock::now();
      goro::Timer u(1h);
      EXPECT_TRUE(u.reset(10ms));
      recv_not_before(u.C, s + 10ms);
      recv_not_before(goro::after(10ms), Clock::now());
      // Taken before the ticker starts: its ticks are due k periods after
      // its creation, which a clock read after it would place too late.
      s = Clock::now();
      goro::Ticker tk(5ms);
      for (int k = 1; k <= 3; ++k) recv_not_before(tk.C, s + k * 5ms);
      done = true;
    });
    EXPECT_TRUE(eventually([&] { return done.load(); }));
    th.join();
  });
}

TEST(Timer, HundredThousandPendingTimersFireExactlyOnceUnlessStopped) {
  // Like Go's TestAdjustTimers at scale: many timers in the heaps at once;
  // odd ones are stopped (whether or not they fired: stop() is true either
  // way, nothing ever arrives), even ones deliver exactly once.
  const int n = static_cast<int>(scaled(100000, 50000, 20000));
  int early = 0, stop_false = 0, extra = 0;
  goro::run([&] {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> ms(1, 200);
    std::vector<std::unique_ptr<goro::Timer>> timers;
    std::vector<Time> deadline;
    timers.reserve(n);
    deadline.reserve(n);
    for (int i = 0; i < n; ++i) {
      auto d = std::chrono::milliseconds(ms(rng));
      deadline.push_back(Clock::now() + d);
      timers.push_back(std::make_unique<goro::Timer>(d));
    }
    for (int i = 1; i < n; i += 2) stop_false += !timers[i]->stop();
    for (int i = 0; i < n; i += 2) early += timers[i]->C.recv().value < deadline[i];
    goro::sleep(210ms);  // now every deadline has passed
    for (int i = 0; i < n; ++i) extra += ready_value(timers[i]->C).has_value();
    for (int i = 0; i < n; i += 2) stop_false += timers[i]->stop();  // received: false expected
  });
  EXPECT_EQ(early, 0);
  EXPECT_EQ(stop_false, 0) << "wrong stop() results";
  EXPECT_EQ(extra, 0) << "values after a receive or a stop";
}

// --- stop/reset racing with firing (TestTimerStopStress, TestReset) --------

struct RaceTally {
  std::atomic<int> wrong_stop{0};   // stop()/reset() answer contradicts the state
  std::atomic<int> stale{0};        // a value from before the last stop/reset
  std::atomic<int> iterations{0};
};

// Runs rounds(seed0 + g, n, tally) on 2 * maxprocs + 2 goroutines at once
// (more goroutines than workers, so the races also cross a park) and
// returns how many goroutines ran.
int race_on_goroutines(void (*rounds)(int, int, RaceTally&), int seed0, int n, RaceTally& tally) {
  const int goroutines = 2 * goro::maxprocs() + 2;
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(goroutines);
    for (int g = 0; g < goroutines; ++g) {
      goro::go([&, g] {
        rounds(seed0 + g, n, tally);
        wg.done();
      });
    }
    wg.wait();
  });
  return goroutines;
}

// One owner per timer. Each round arms with a tiny duration so the firing
// races with what follows. Go 1.23: an armed, never received timer always
// makes stop()/reset() return true (pending, or the fired value discarded)
// and nothing from that arming is received afterwards.
void stop_reset_rounds(int seed, int rounds, RaceTally& tally) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> us(0, 100);
  goro::Timer t(1h);
  t.stop();
  for (int i = 0; i < rounds; ++i) {
    if (t.reset(std::chrono::microseconds(us(rng)))) tally.wrong_stop++;  // was stopped
    if (i % 3 == 0) goro::yield();
    goro_test::spin_for(std::chrono::microseconds(us(rng)));
    if (i % 2 == 0) {
      if (!t.stop()) tally.wrong_stop++;
      if (ready_value(t.C)) tally.stale++;
    } else {
      auto d = std::chrono::microseconds(us(rng));
      auto reset_at = Clock::now();
      if (!t.reset(d)) tally.wrong_stop++;
      // Plain recv, no select (select has its own races to test elsewhere);
      // a lost timer hangs here and the per-test watchdog names the test.
      if (t.C.recv().value < reset_at + d) tally.stale++;
      if (t.stop()) tally.wrong_stop++;  // received: nothing left to stop
      if (ready_value(t.C)) tally.stale++;
    }
    tally.iterations++;
  }
}

TEST(TimerStress, StopAndResetRacingWithFiring) {
  const int rounds = static_cast<int>(scaled(3000, 800, 400));
  RaceTally tally;
  const int goroutines = race_on_goroutines(stop_reset_rounds, 10, rounds, tally);
  EXPECT_EQ(tally.iterations.load(), rounds * goroutines);
  EXPECT_EQ(tally.wrong_stop.load(), 0);
  EXPECT_EQ(tally.stale.load(), 0);
}

// One goroutine receives from t.C while another stops and resets t. Every
// arming ends exactly one way: its value is received, or a stop()/reset()
// returns true for it (Go 1.23: a value cannot be both discarded and
// received, nor lost). So received + true answers == armings.
struct ArmingCount {
  int armings = 1;  // the constructor's
  int prevented = 0;
};

ArmingCount control_timer(goro::Timer& t, int seed, int ops) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> us(0, 150);
  ArmingCount n;
  for (int i = 0; i < ops; ++i) {
    goro_test::spin_for(std::chrono::microseconds(us(rng)));
    if (i % 8 == 0) goro::yield();
    if (rng() % 3 == 0) {
      n.prevented += t.stop();
    } else {
      n.prevented += t.reset(std::chrono::microseconds(us(rng)));
      n.armings++;
    }
  }
  n.prevented += t.stop();  // the last arming: stopped, or already received
  return n;
}

TEST(TimerStress, ConcurrentReceiverAndStopResetAccountForEveryArming) {
  const int pairs = 4;
  const int ops = static_cast<int>(scaled(4000, 1000, 500));
  std::atomic<int> mismatches{0}, leftovers{0};
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(pairs);
    for (int p = 0; p < pairs; ++p) {
      goro::go([&, p] {
        goro::Timer t(50us);  // lives until both goroutines below are done
        auto done = goro::make_chan<int>();
        int received = 0;
        goro::WaitGroup receiver;
        receiver.add(1);
        goro::go([&] {
          for (bool more = true; more;) {
            goro::select(goro::recv(t.C, [&] { ++received; }), goro::recv(done, [&] { more = false; }));
          }
          receiver.done();
        });
        ArmingCount n = control_timer(t, 20 + p, ops);
        done.close();
        receiver.wait();
        if (received + n.prevented != n.armings) mismatches.fetch_add(1);
        goro::sleep(1ms);
        if (ready_value(t.C)) leftovers.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(mismatches.load(), 0) << "received + stop/reset trues != armings";
  EXPECT_EQ(leftovers.load(), 0) << "a value after the final stop()";
}

// Overwrites the stack below the caller, where a returned select's scratch
// data lived, so that anybody still reading it reads garbage.
[[gnu::noinline]] void scribble_stack() {
  volatile unsigned char junk[2048];
  for (auto& b : junk) b = 0xA5;
}

// A select parked on a timer channel is woken by the timer the moment it
// parks: the worker finishing the park (releasing the channel locks) races
// with the goroutine resuming on another worker. Nothing the select keeps
// on the goroutine's stack may be touched once it can resume (Go's
// selunlock: "We must be very careful here to not touch sel after we have
// unlocked the last lock"). In a child: a stale read can crash.
GORO_TEST_SCENARIO(select_woken_by_a_timer_as_it_parks) {
  start_scenario_deadline("select on timer channels never finished");
  const auto until = Clock::now() + (goro_test::kSanitized ? 4s : 2s);
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(4);
    for (int g = 0; g < 4; ++g) {
      goro::go([&] {
        goro::Ticker tk(1us);
        auto never = goro::make_chan<int>();
        TimeChan far = goro::after(1h);
        while (Clock::now() < until) {
          goro::select(goro::recv(tk.C), goro::recv(never), goro::recv(far));
          scribble_stack();
        }
        wg.done();
      });
    }
    wg.wait();
  });
}

TEST(TimerStress, SelectWokenByATimerAsItParks) { expect_scenario_ok("select_woken_by_a_timer_as_it_parks"); }

// Tickers whose period is shorter than a stop()/reset() call: the ticker is
// being re-armed by a firing at the very moment stop()/reset() take it out.
// It must end up armed exactly once (or not at all after stop): a ticker
// left in a heap, or in two, loses other timers or fires after being freed.
GORO_TEST_SCENARIO(ticker_stop_reset_while_firing) {
  // A lost ticker (or a lost timer of the runtime's) hangs a recv: the
  // deadline reports it. Plain receives, no select: this is about timers.
  start_scenario_deadline("a reset Ticker never ticked again (timers lost)");
  const auto until = Clock::now() + (goro_test::kSanitized ? 6s : 2s);
  goro::run([&] {
    goro::WaitGroup wg;
    wg.add(4);
    for (int g = 0; g < 4; ++g) {
      goro::go([&] {
        goro::Ticker tk(1us);
        while (Clock::now() < until) {
          tk.stop();
          tk.reset(1us);
          tk.C.recv();
        }
        wg.done();
      });
    }
    wg.wait();
  });
}

TEST(TimerStress, TickerStopAndResetWhileItIsBeingRearmed) { expect_scenario_ok("ticker_stop_reset_while_firing"); }

// Tickers: after stop() nothing arrives; after reset(d) the first tick is
// not earlier than d after the call (no tick of the old period survives).
void ticker_rounds(int seed, int rounds, RaceTally& tally) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> us(20, 200);
  goro::Ticker tk(std::chrono::microseconds(us(rng)));
  for (int i = 0; i < rounds; ++i) {
    tk.C.recv();  // a lost ticker hangs here: the scenario's deadline reports it
    goro_test::spin_for(std::chrono::microseconds(us(rng)));  // a tick may wait unreceived
    if (i % 2 == 0) {
      tk.stop();
      if (ready_value(tk.C)) tally.stale++;
      goro_test::spin_for(std::chrono::microseconds(us(rng)));
      if (ready_value(tk.C)) tally.stale++;
      tk.reset(std::chrono::microseconds(us(rng)));  // restarts it
    } else {
      auto d = std::chrono::microseconds(1000 + us(rng));
      auto reset_at = Clock::now();
      tk.reset(d);
      if (tk.C.recv().value < reset_at + d) tally.stale++;
      tk.reset(std::chrono::microseconds(us(rng)));
    }
    if (i % 4 == 0) goro::yield();
    tally.iterations++;
  }
}

// In a child: the race above (a ticker re-armed while stopped) can corrupt
// the timer heaps.
GORO_TEST_SCENARIO(ticker_stop_reset_stress) {
  start_scenario_deadline("Ticker stop/reset stress never finished");
  const int rounds = static_cast<int>(scaled(1000, 300, 200));
  RaceTally tally;
  const int goroutines = race_on_goroutines(ticker_rounds, 30, rounds, tally);
  if (tally.stale.load() != 0) scenario_fail(4, std::to_string(tally.stale.load()) + " stale ticks after stop/reset");
  if (tally.iterations.load() != rounds * goroutines) scenario_fail(4, "rounds missing");
}

TEST(TimerStress, TickerStopAndResetRacingWithTicks) { expect_scenario_ok("ticker_stop_reset_stress"); }

// --- Ticker -----------------------------------------------------------------

TEST(Ticker, TicksRepeatedlyOnSchedule) {
  goro::run([] {
    auto start = Clock::now();
    goro::Ticker t(10ms);
    Time prev = start;
    for (int k = 1; k <= 5; ++k) {
      Time v = recv_not_before(t.C, start + k * 10ms);
      EXPECT_GT(v, prev);
      prev = v;
    }
    EXPECT_LT(Clock::now() - start, 50ms + kLate);
  });
}

TEST(Ticker, StopEndsTheTicksAndDiscardsAnUnreceivedOne) {
  goro::run([] {
    goro::Ticker t(5ms);
    t.C.recv();
    goro::sleep(12ms);  // a tick is (almost surely) waiting
    t.stop();
    EXPECT_FALSE(ready_value(t.C)) << "a tick from before stop() was received after";
    EXPECT_TRUE(stays_silent(t.C, 30ms));
    t.stop();  // stopping again is harmless
  });
}

TEST(Ticker, ResetChangesThePeriod) {
  // Like Go's TestTicker: some ticks, then reset to a longer period.
  goro::run([] {
    goro::Ticker t(10ms);
    t.C.recv();
    t.C.recv();
    goro::sleep(15ms);  // leave a tick of the old period unreceived
    auto reset_at = Clock::now();
    t.reset(30ms);
    for (int k = 1; k <= 3; ++k) recv_not_before(t.C, reset_at + k * 30ms);
    EXPECT_LT(Clock::now() - reset_at, 90ms + kLate);
  });
}

TEST(Ticker, ResetToAShorterPeriodTakesEffectAtOnce) {
  goro::run([] {
    goro::Ticker t(1h);
    auto reset_at = Clock::now();
    t.reset(10ms);
    for (int k = 1; k <= 3; ++k) recv_not_before(t.C, reset_at + k * 10ms);
    EXPECT_LT(Clock::now() - reset_at, 30ms + kLate);
  });
}

TEST(Ticker, ResetRestartsAStoppedTicker) {
  goro::run([] {
    goro::Ticker t(5ms);
    t.stop();
    EXPECT_TRUE(stays_silent(t.C, 20ms));
    auto reset_at = Clock::now();
    t.reset(5ms);
    recv_not_before(t.C, reset_at + 5ms);
    recv_not_before(t.C, reset_at + 10ms);
  });
}

TEST(Ticker, NonPositiveIntervalThrowsGoPanicMessage) {
  goro::run([] {
    EXPECT_TRUE(goro_test::throws_go_error([] { goro::Ticker t(0ms); }, "non-positive interval for NewTicker"));
    EXPECT_TRUE(goro_test::throws_go_error([] { goro::Ticker t(-1ns); }, "non-positive interval for NewTicker"));
    EXPECT_TRUE(goro_test::throws_go_error([] { goro::Ticker t(std::chrono::hours::min()); }, "non-positive interval for NewTicker"));

    goro::Ticker t(10ms);
    EXPECT_TRUE(goro_test::throws_go_error([&] { t.reset(0ms); }, "non-positive interval for Ticker.Reset"));
    EXPECT_TRUE(goro_test::throws_go_error([&] { t.reset(-1ms); }, "non-positive interval for Ticker.Reset"));
    // The failed resets changed nothing: it still ticks.
    auto [v, ok] = t.C.recv();
    EXPECT_TRUE(ok);
  });
}

TEST(Ticker, DestructorStopsTheTicks) {
  goro::run([] {
    TimeChan c;
    {
      goro::Ticker t(2ms);
      c = t.C;
      c.recv();
      goro::sleep(5ms);  // a tick waits unreceived
    }
    EXPECT_FALSE(ready_value(c)) << "the destructor must discard the waiting tick";
    EXPECT_TRUE(stays_silent(c, 30ms));
  });
}

TEST(Ticker, SlowReceiverFindsOneTickNotABacklog) {
  goro::run([] {
    goro::Ticker t(50ms);
    goro::sleep(520ms);  // ~10 periods
    expect_no_backlog(t.C);
  });
}

TEST(Ticker, BlockedReceiverOfAStoppedTickerStaysBlocked) {
  goro::run([] {
    goro::Ticker t(1h);  // outlives the receiver: wg.wait() below
    std::atomic<std::uint64_t> gid{0};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      gid = goro::id();
      t.C.recv();
      wg.done();
    });
    ASSERT_TRUE(goro_test::parks_with(gid, "chan receive"));
    t.stop();
    goro::sleep(30ms);
    EXPECT_TRUE(goro_test::parked_as(gid, "chan receive")) << goro_test::describe(goro::detail::goroutine_state(gid));
    t.reset(5ms);  // releases it
    wg.wait();
  });
}

}  // namespace
