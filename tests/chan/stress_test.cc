// Channels and select under load: many producers and consumers over
// unbuffered and buffered channels, a mesh of selects mixing send and
// receive cases with plain OS threads among the parties, close racing with
// blocked senders and receivers, Go's stress and race tests
// (TestSelectStress, TestMultiConsumer, TestNonblockRecvRace,
// TestNonblockSelectRace{,2}), and a live-instance count proving that no
// value is leaked or duplicated on any of those paths.
//
// Exactly-once delivery is checked value by value: every value sent is
// distinct, and a Ledger counts how often each one arrived.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.h"
#include "support/tracked.h"

namespace {

using namespace std::chrono_literals;
using goro_test::scaled;

// How often each value in [0, size) was received. Values arrive from many
// goroutines and threads at once.
class Ledger {
 public:
  explicit Ledger(std::size_t size) : hits_(size) {}
  void record(int v) {
    if (v < 0 || static_cast<std::size_t>(v) >= hits_.size()) {
      strays_.fetch_add(1);
      return;
    }
    hits_[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
  }
  int hits(int v) const { return hits_[static_cast<std::size_t>(v)].load(); }
  // Every value in [0, size) arrived exactly once, nothing else arrived.
  ::testing::AssertionResult each_exactly_once() const {
    for (std::size_t v = 0; v < hits_.size(); ++v) {
      if (int h = hits_[v].load(); h != 1) {
        return ::testing::AssertionFailure() << "value " << v << " received " << h << " times";
      }
    }
    if (strays_.load() != 0) return ::testing::AssertionFailure() << strays_.load() << " values out of range";
    return ::testing::AssertionSuccess();
  }

 private:
  std::vector<std::atomic<int>> hits_;
  std::atomic<long> strays_{0};
};

// A value that counts its live instances (see LiveInstancesBalance).
using goro_test::Tracked;

// --- many producers, many consumers --------------------------------------------------

class ProducersConsumers : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ProducersConsumers, EveryValueIsReceivedExactlyOnce) {
  // 8 producers send disjoint ranges; 8 consumers range over the channel
  // until the last producer's WaitGroup.done() lets a closer close it.
  constexpr int kProducers = 8, kConsumers = 8;
  const int per_producer = static_cast<int>(scaled(200000, 100000, 30000));
  const int total = kProducers * per_producer;
  Ledger ledger(static_cast<std::size_t>(total));
  std::atomic<long> count{0};
  std::atomic<std::uint64_t> sum{0};
  goro::run([&] {
    auto c = goro::make_chan<int>(GetParam());
    goro::WaitGroup producers, consumers;
    producers.add(kProducers);
    for (int p = 0; p < kProducers; ++p) {
      goro::go([&, p] {
        for (int v = p * per_producer; v < (p + 1) * per_producer; ++v) c.send(v);
        producers.done();
      });
    }
    goro::go([&] {
      producers.wait();
      c.close();
    });
    consumers.add(kConsumers);
    for (int k = 0; k < kConsumers; ++k) {
      goro::go([&] {
        long n = 0;
        std::uint64_t s = 0;
        for (int v : c) {
          ledger.record(v);
          ++n;
          s += static_cast<std::uint64_t>(v);
        }
        count.fetch_add(n);
        sum.fetch_add(s);
        consumers.done();
      });
    }
    consumers.wait();
  });
  EXPECT_EQ(count.load(), total);
  EXPECT_EQ(sum.load(), static_cast<std::uint64_t>(total) * static_cast<std::uint64_t>(total - 1) / 2);
  EXPECT_TRUE(ledger.each_exactly_once());
}

INSTANTIATE_TEST_SUITE_P(Capacities, ProducersConsumers, ::testing::Values(0, 1, 16, 1024),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return "cap" + std::to_string(info.param);
                         });

TEST(ChanStress, MultiConsumerWorkersFeedOneResultChannel) {
  // Go's TestMultiConsumer: 23 workers range over q and forward to r; the
  // feeder closes q, waits for the workers, then closes r.
  constexpr int kWorkers = 23;
  const int iterations = static_cast<int>(scaled(1000000, 500000, 150000));
  static constexpr int kPrimes[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  long expect = 0, n = 0, s = 0;
  goro::run([&] {
    auto q = goro::make_chan<int>(kWorkers * 3), r = goro::make_chan<int>(kWorkers * 3);
    goro::WaitGroup workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.add(1);
      goro::go([&, w] {
        for (int v : q) {
          // Mess with the FIFO-ish order of range, as Go does.
          if (kPrimes[w % 10] == v) goro::yield();
          r.send(v);
        }
        workers.done();
      });
    }
    goro::go([&] {
      for (int i = 0; i < iterations; ++i) {
        int v = kPrimes[i % 10];
        expect += v;
        q.send(v);
      }
      q.close();
      workers.wait();
      r.close();
    });
    for (int v : r) {
      ++n;
      s += v;
    }
  });
  EXPECT_EQ(n, iterations);
  EXPECT_EQ(s, expect);
}

// --- a mesh of selects with plain threads ----------------------------------------------

// Stage 2 of the mesh: receives from `ins` until all are closed (a closed
// one is dropped from the select by setting it to nil, Go's idiom) and
// forwards to `out` through a small queue, in one select mixing the
// receive cases with a send case that is nil while the queue is empty.
void relay(std::array<goro::Chan<int>, 3> ins, const goro::Chan<int>& out) {
  constexpr std::size_t kQueue = 4;
  const goro::Chan<int> nil;
  std::deque<int> queue;
  int open = static_cast<int>(ins.size());
  auto on_recv = [&](std::size_t k) {
    return [&, k](int v, bool ok) {
      if (ok) {
        queue.push_back(v);
      } else {
        ins[k] = goro::Chan<int>{};
        --open;
      }
    };
  };
  while (open > 0 || !queue.empty()) {
    // A full queue disables the receive cases (backpressure), an empty one
    // the send case.
    bool room = queue.size() < kQueue;
    const goro::Chan<int>& to = queue.empty() ? nil : out;
    int next = queue.empty() ? 0 : queue.front();
    goro::select(goro::recv(room ? ins[0] : nil, on_recv(0)),
                 goro::send(to, next, [&] { queue.pop_front(); }),
                 goro::recv(room ? ins[1] : nil, on_recv(1)),
                 goro::recv(room ? ins[2] : nil, on_recv(2)));
  }
}

TEST(SelectStress, ProducersRelaysAndConsumersMeshThroughSelects) {
  // producers --select send--> ins[3] (caps 0, 1, 16) --relays--> out --> consumers
  // One producer, one relay and one consumer are plain OS threads.
  constexpr int kProducers = 6, kRelays = 4, kConsumers = 3;  // each +1 thread
  const int per_producer = static_cast<int>(scaled(150000, 75000, 20000));
  const int total = (kProducers + 1) * per_producer;
  Ledger ledger(static_cast<std::size_t>(total));
  goro::run([&] {
    std::array<goro::Chan<int>, 3> ins = {goro::make_chan<int>(0), goro::make_chan<int>(1), goro::make_chan<int>(16)};
    auto out = goro::make_chan<int>();
    goro::WaitGroup producers, relays, consumers;
    auto produce = [&](int p) {
      for (int v = p * per_producer; v < (p + 1) * per_producer; ++v) {
        goro::select(goro::send(ins[0], v), goro::send(ins[1], v), goro::send(ins[2], v));
      }
      producers.done();
    };
    auto forward = [&] {
      relay(ins, out);
      relays.done();
    };
    auto consume = [&] {
      for (int v : out) ledger.record(v);
      consumers.done();
    };
    producers.add(kProducers + 1);
    relays.add(kRelays + 1);
    consumers.add(kConsumers + 1);
    std::vector<std::thread> threads;
    threads.emplace_back(produce, kProducers);
    threads.emplace_back(forward);
    threads.emplace_back(consume);
    for (int p = 0; p < kProducers; ++p) goro::go([&, p] { produce(p); });
    for (int r = 0; r < kRelays; ++r) goro::go(forward);
    for (int k = 0; k < kConsumers; ++k) goro::go(consume);
    goro::go([&] {
      producers.wait();
      for (auto& c : ins) c.close();
      relays.wait();
      out.close();
    });
    consumers.wait();
    // The threads have called done(): they are finishing, joining does
    // not hold this worker for long.
    for (auto& t : threads) t.join();
  });
  EXPECT_TRUE(ledger.each_exactly_once());
}

TEST(SelectStress, GosSelectStressWithSums) {
  // Go's TestSelectStress: per channel (unbuffered, unbuffered, cap 2,
  // cap 3) one plain sender and one plain receiver of N values, plus one
  // goroutine sending N values on each channel in a single select and one
  // receiving N from each in a single select, dropping a channel (nil)
  // once its N are done. Go checks for deadlock; the sums check that every
  // value arrived once.
  const int n = static_cast<int>(scaled(200000, 100000, 40000));
  std::atomic<std::uint64_t> received_sum{0};
  std::uint64_t sent_sum = 0;
  goro::run([&] {
    std::array<goro::Chan<int>, 4> c = {goro::make_chan<int>(), goro::make_chan<int>(), goro::make_chan<int>(2),
                                        goro::make_chan<int>(3)};
    goro::WaitGroup wg;
    wg.add(10);
    for (int k = 0; k < 4; ++k) {
      goro::go([&, k] {
        for (int i = 0; i < n; ++i) c[k].send(k * n + i + 1);
        wg.done();
      });
      goro::go([&, k] {
        std::uint64_t s = 0;
        for (int i = 0; i < n; ++i) s += static_cast<std::uint64_t>(c[k].recv().value);
        received_sum.fetch_add(s);
        wg.done();
      });
    }
    goro::go([&] {
      std::array<int, 4> done{};
      auto c1 = c;
      auto sent = [&](int k) {
        return [&, k] {
          if (++done[k] == n) c1[k] = goro::Chan<int>{};
        };
      };
      for (int i = 0; i < 4 * n; ++i) {
        goro::select(goro::send(c1[3], 3, sent(3)), goro::send(c1[2], 2, sent(2)), goro::send(c1[0], 0, sent(0)),
                     goro::send(c1[1], 1, sent(1)));
      }
      wg.done();
    });
    goro::go([&] {
      std::array<int, 4> done{};
      std::uint64_t s = 0;
      auto c1 = c;
      auto got = [&](int k) {
        return [&, k](int v) {
          s += static_cast<std::uint64_t>(v);
          if (++done[k] == n) c1[k] = goro::Chan<int>{};
        };
      };
      for (int i = 0; i < 4 * n; ++i) {
        goro::select(goro::recv(c1[0], got(0)), goro::recv(c1[1], got(1)), goro::recv(c1[2], got(2)),
                     goro::recv(c1[3], got(3)));
      }
      received_sum.fetch_add(s);
      wg.done();
    });
    wg.wait();
  });
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < n; ++i) sent_sum += static_cast<std::uint64_t>(k * n + i + 1);  // plain senders
    sent_sum += static_cast<std::uint64_t>(k) * static_cast<std::uint64_t>(n);         // the select sender
  }
  EXPECT_EQ(received_sum.load(), sent_sum);
}

// --- close racing with blocked parties ---------------------------------------------------

// One round: senders push their own values until the channel is closed
// under them; receivers drain it until closed. A send either returned
// (delivered) or threw "send on closed channel" -- then the value must
// never arrive.
void close_race_round(int round, std::size_t cap, std::atomic<long>& failures) {
  constexpr int kSenders = 6, kReceivers = 3, kPerSender = 16;
  auto c = goro::make_chan<int>(cap);
  auto never = goro::make_chan<int>();  // a case that is never ready
  Ledger ledger(kSenders * kPerSender);
  std::array<int, kSenders> delivered{};
  std::atomic<int> wrong_errors{0};
  goro::WaitGroup wg;
  wg.add(kSenders + kReceivers);
  for (int s = 0; s < kSenders; ++s) {
    goro::go([&, s] {
      try {
        for (int i = 0; i < kPerSender; ++i) {
          int v = s * kPerSender + i;
          if ((s + i) % 2 == 0) {
            c.send(v);
          } else {
            goro::select(goro::send(c, v), goro::recv(never));
          }
          ++delivered[static_cast<std::size_t>(s)];
        }
      } catch (const goro::Error& e) {
        if (std::string(e.what()) != "send on closed channel") wrong_errors.fetch_add(1);
      }
      wg.done();
    });
  }
  for (int r = 0; r < kReceivers; ++r) {
    goro::go([&, r] {
      if (r == 0) {
        for (int v : c) ledger.record(v);
      } else if (r == 1) {
        for (;;) {
          auto [v, ok] = c.recv();
          if (!ok) break;
          ledger.record(v);
        }
      } else {
        bool open = true;
        while (open) {
          goro::select(goro::recv(never), goro::recv(c, [&](int v, bool ok) {
                         if (ok) ledger.record(v);
                         open = ok;
                       }));
        }
      }
      wg.done();
    });
  }
  // Let a varying part of the traffic through, then close with parties
  // most likely blocked on both sides.
  for (int i = 0; i < round % 13; ++i) goro::yield();
  c.close();
  wg.wait();
  long bad = wrong_errors.load();
  for (int s = 0; s < kSenders; ++s) {
    for (int i = 0; i < kPerSender; ++i) {
      int expected = i < delivered[static_cast<std::size_t>(s)] ? 1 : 0;
      if (ledger.hits(s * kPerSender + i) != expected) ++bad;
    }
  }
  failures.fetch_add(bad);
}

TEST(CloseStress, EverySendEitherArrivesOnceOrThrows) {
  const int rounds = static_cast<int>(scaled(20000, 10000, 3000));
  std::atomic<long> failures{0};
  goro::run([&] {
    for (int round = 0; round < rounds; ++round) close_race_round(round, round % 3 == 0 ? 0 : round % 3 == 1 ? 1 : 4,
                                                                  failures);
  });
  EXPECT_EQ(failures.load(), 0) << "sends that arrived although they threw, were lost, or arrived twice";
}

TEST(CloseStress, CloseWakesEveryBlockedSelect) {
  // Many goroutines blocked in selects on the same channel a (half send
  // cases, half receive cases, each with a never-ready second case);
  // closing a must release all: unpaired senders throw, unpaired receivers
  // get ok=false, and the pairs that met before the close match up.
  const int pairs = static_cast<int>(scaled(2000, 1000, 500));
  const int rounds = static_cast<int>(scaled(50, 25, 15));
  goro::run([&] {
    for (int round = 0; round < rounds; ++round) {
      auto a = goro::make_chan<int>(), silent = goro::make_chan<int>();
      std::atomic<int> sent{0}, threw{0}, received{0}, closed{0};
      goro::WaitGroup wg;
      wg.add(2 * pairs);
      for (int i = 0; i < 2 * pairs; ++i) {
        goro::go([&, i] {
          if (i % 2 == 0) {
            try {
              goro::select(goro::send(a, i), goro::recv(silent));
              sent.fetch_add(1);
            } catch (const goro::Error&) {
              threw.fetch_add(1);
            }
          } else {
            goro::select(goro::recv(a, [&](int, bool ok) { (ok ? received : closed).fetch_add(1); }),
                         goro::recv(silent));
          }
          wg.done();
        });
      }
      for (int i = 0; i < round % 5; ++i) goro::yield();
      a.close();
      wg.wait();
      EXPECT_EQ(sent.load() + threw.load(), pairs);
      EXPECT_EQ(received.load() + closed.load(), pairs);
      EXPECT_EQ(sent.load(), received.load()) << "round " << round;
    }
  });
}

// --- non-blocking operations racing with close and sends -------------------------------

TEST(NonblockStress, TryRecvSeesAValueReadyBeforeClose) {
  // Go's TestNonblockRecvRace: a value is buffered before close, so a
  // non-blocking receive racing with the close (and with the main
  // goroutine draining it) is always ready: the value, or closed.
  const int n = static_cast<int>(scaled(100000, 50000, 20000));
  std::atomic<int> not_ready{0};
  goro::run([&] {
    goro::WaitGroup wg;
    for (int i = 0; i < n; ++i) {
      auto c = goro::make_chan<int>(1);
      c.send(1);
      wg.add(1);
      goro::go([&, c, i] {
        bool ready = true;
        if (i % 2 == 0) {
          ready = c.try_recv().has_value();
        } else {
          ready = goro::select(goro::recv(c), goro::default_case()) == 0;
        }
        if (!ready) not_ready.fetch_add(1);
        wg.done();
      });
      c.close();
      c.recv();
    }
    wg.wait();
  });
  EXPECT_EQ(not_ready.load(), 0);
}

void nonblock_select_race(bool close_c2) {
  // Go's TestNonblockSelectRace{,2}: c1 holds a value; the main goroutine
  // makes c2 ready (a send, or close) before taking c1's value, so at every
  // instant one of them is ready and select must not take default.
  const int n = static_cast<int>(scaled(100000, 50000, 20000));
  int defaults = 0;
  goro::run([&] {
    auto done = goro::make_chan<bool>(1);
    for (int i = 0; i < n; ++i) {
      auto c1 = goro::make_chan<int>(1);
      auto c2 = goro::make_chan<int>(close_c2 ? 0 : 1);
      c1.send(1);
      goro::go([c1, c2, done] {
        int taken = goro::select(goro::recv(c1), goro::recv(c2), goro::default_case());
        done.send(taken != 2);
      });
      if (close_c2) {
        c2.close();
      } else {
        c2.send(1);
      }
      goro::select(goro::recv(c1), goro::default_case());
      if (!done.recv().value) ++defaults;
    }
  });
  EXPECT_EQ(defaults, 0) << "select took default with a channel ready";
}

TEST(NonblockStress, SelectSeesOneOfTwoChannelsReady) { nonblock_select_race(false); }
TEST(NonblockStress, SelectSeesOneOfTwoChannelsReadyWhenOneIsClosed) { nonblock_select_race(true); }

// --- no value leaked or duplicated ------------------------------------------------------------

struct LiveRound {
  int seen = 0, discarded = 0, leftover = 0, failed_sends = 0;
};

// Tracked values through one channel of capacity `cap`: plain and select
// sends, every recv callback form (fn() discards the value), sends that
// fail on the closed channel, and with a buffer kLeftover values still
// buffered when the last handle goes.
LiveRound live_instances_round(std::size_t cap, Ledger& ledger, int per_producer) {
  constexpr int kProducers = 4, kConsumers = 4, kLeftover = 10;
  const int total = kProducers * per_producer;
  LiveRound out;
  std::atomic<int> discarded{0};
  auto c = goro::make_chan<Tracked>(cap);
  // Never ready: nobody sends on `silent`, nobody receives from `deaf`.
  auto silent = goro::make_chan<Tracked>(), deaf = goro::make_chan<Tracked>();
  // Consumers take a ticket per value; with a buffer, kLeftover values are
  // left in it (the producers still finish: they fit in the buffer).
  out.leftover = cap == 0 ? 0 : kLeftover;
  std::atomic<int> tickets{total - out.leftover};
  goro::WaitGroup producers, consumers;
  producers.add(kProducers);
  consumers.add(kConsumers);
  for (int p = 0; p < kProducers; ++p) {
    goro::go([&, p] {
      for (int v = p * per_producer; v < (p + 1) * per_producer; ++v) {
        if (v % 2 == 0) {
          c.send(Tracked(v));
        } else {
          goro::select(goro::send(c, Tracked(v)), goro::send(deaf, Tracked(-2)));
        }
      }
      producers.done();
    });
  }
  for (int k = 0; k < kConsumers; ++k) {
    goro::go([&, k] {
      auto keep = [&](Tracked t) { ledger.record(t.v); };
      for (int i = 0; tickets.fetch_sub(1) > 0; ++i) {
        switch ((k + i) % 4) {
          case 0: keep(c.recv().value); break;
          case 1: goro::select(goro::recv(c, [&](Tracked t, bool) { keep(std::move(t)); }), goro::recv(silent)); break;
          case 2: goro::select(goro::recv(silent), goro::recv(c, keep)); break;
          default: goro::select(goro::recv(c, [&] { discarded.fetch_add(1); }), goro::recv(silent)); break;
        }
      }
      consumers.done();
    });
  }
  producers.wait();
  consumers.wait();
  EXPECT_EQ(c.len(), static_cast<std::size_t>(out.leftover));
  c.close();
  for (int i = 0; i < 100; ++i) {
    try {
      goro::select(goro::send(c, Tracked(i)), goro::recv(silent));
    } catch (const goro::Error&) {
      ++out.failed_sends;
    }
  }
  for (int v = 0; v < total; ++v) out.seen += ledger.hits(v);
  out.discarded = discarded.load();
  return out;  // the last handles to c go: its buffered values are destroyed
}

TEST(LiveInstances, BalanceAfterSendsReceivesSelectsClosesAndDroppedBuffers) {
  // Afterwards no Tracked may be alive: each value was destroyed exactly
  // once wherever it ended (received, discarded, failed to send, or left
  // in a dropped buffer), and none was received twice.
  const long before = Tracked::live.load();
  const int per_producer = static_cast<int>(scaled(100000, 50000, 15000));
  const int total = 4 * per_producer;
  for (std::size_t cap : {std::size_t{0}, std::size_t{64}}) {
    Ledger ledger(static_cast<std::size_t>(total));
    LiveRound r;
    goro::run([&] { r = live_instances_round(cap, ledger, per_producer); });
    for (int v = 0; v < total; ++v) ASSERT_LE(ledger.hits(v), 1) << "value " << v << ", cap " << cap;
    EXPECT_EQ(r.seen + r.discarded + r.leftover, total) << "cap " << cap;
    EXPECT_EQ(r.failed_sends, 100);
    EXPECT_EQ(Tracked::live.load(), before) << "cap " << cap << ": Tracked instances leaked (>0) or destroyed twice (<0)";
  }
}

}  // namespace
