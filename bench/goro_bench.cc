// goro_bench: the C++ half of the goro-vs-Go benchmark harness.
//
// Its twin is bench/go/main.go; both do the same work, take the same flags and
// print the same lines. bench/run.sh builds and runs both and joins the
// results; docs/performance.md says what each case measures.
//
//   goro_bench [--case NAME] [--reps R] [--n N]
//
//   --case   a timing case: spawn | yield | skynet (runtime) | pingpong |
//            buffered | select2 | after (channels and timers) | mutex |
//            rwmutex | wgfan | ctxtree | ctxbuild | pool (sync, context and
//            pools); a group of timing cases: runtime | chan | sync | all
//            (all three, default);
//            or rss100k | rss1m (parked-goroutine RSS, one per process: run
//            each in a fresh process, as run.sh does, so earlier cases do
//            not pollute the baseline);
//            or dump1m1 | dump1m2 (write_goroutine_profile debug=1 / debug=2
//            of a million parked goroutines, with a probe goroutine's
//            latency; one per process, not in "all"; run.sh's group "dump")
//   --reps   measured repetitions of a timing case after one warm-up (default 5;
//            run.sh passes 3 for the dump cases unless --reps is given)
//   --n      override the case's size (goroutines, yields per goroutine,
//            skynet leaves (a power of 10), round trips, messages, timers,
//            iterations per goroutine (mutex, rwmutex), goroutines per round
//            (wgfan), trees per repetition (ctxtree, ctxbuild), jobs per
//            submitter (pool) or parked goroutines (dump1m1, dump1m2)); for
//            quick checks only
//
// Parallelism comes from GORO_MAXPROCS (run.sh sets it equal to GOMAXPROCS).
//
// Output, one line per case (two for the dump cases: <case> and <case>probe):
//   RESULT <case> <median> <unit> min=<min> reps=<R> samples=<s1,s2,...>
// plus INFO lines. A failed check prints "FAIL ..." to stderr and exits 1.
#include <goro/context.h>
#include <goro/goro.h>
#include <goro/pool.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const std::string& msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "FAIL %s\n", msg.c_str());
  std::exit(1);
}

// VmRSS of this process in KiB, from /proc/self/status (the Go twin reads the
// same field the same way).
std::int64_t vm_rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) fail("cannot open /proc/self/status");
  char line[256];
  std::int64_t kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtoll(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  if (kib < 0) fail("no VmRSS in /proc/self/status");
  return kib;
}

// Fixed-point with a precision by magnitude, never exponent notation (the Go
// twin's num() formats identically).
std::string num(double v) {
  const double a = v < 0 ? -v : v;
  const int prec = a >= 100 ? 1 : a >= 1 ? 2 : 3;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

struct Options {
  std::string which = "all";
  int reps = 5;
  std::int64_t n = 0;  // 0: the case's default
};

void print_result(const char* name, const char* unit, const std::vector<double>& samples);

// Runs one warm-up and `reps` measured repetitions of `once` (which returns
// the per-repetition value in `unit`) and prints the RESULT line.
void report_timing(const char* name, const char* unit, int reps,
                   const std::function<double()>& once) {
  (void)once();  // warm-up: stack pools, heap arenas, worker threads
  std::vector<double> samples;
  for (int i = 0; i < reps; ++i) samples.push_back(once());
  print_result(name, unit, samples);
}

// Prints `RESULT <name> <median> <unit> min=<min> reps=<R> samples=<...>`.
void print_result(const char* name, const char* unit, const std::vector<double>& samples) {
  const int reps = static_cast<int>(samples.size());
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted.size() % 2 == 1
                      ? sorted[sorted.size() / 2]
                      : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  std::printf("RESULT %s %s %s min=%s reps=%d samples=", name, num(median).c_str(), unit,
              num(sorted.front()).c_str(), reps);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::printf("%s%s", i == 0 ? "" : ",", num(samples[i]).c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
}

// --- spawn: N goroutines started and joined ---------------------------------
// The main goroutine runs `wg.add(1); go(fn)` N times, fn being `wg.done()`,
// then wg.wait(). Value: elapsed wall time / N, in ns per goroutine.
double spawn_once(std::int64_t n) {
  goro::WaitGroup wg;
  Clock::time_point t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    wg.add(1);
    goro::go([&wg] { wg.done(); });
  }
  wg.wait();
  return seconds_since(t0) * 1e9 / static_cast<double>(n);
}

// --- yield: two goroutines each yielding K times ----------------------------
// Two goroutines each call goro::yield() K times; the main goroutine waits for
// both on a WaitGroup. Value: elapsed wall time / (2 K), in ns per yield.
double yield_once(std::int64_t k) {
  goro::WaitGroup wg;
  wg.add(2);
  Clock::time_point t0 = Clock::now();
  for (int g = 0; g < 2; ++g) {
    goro::go([&wg, k] {
      for (std::int64_t i = 0; i < k; ++i) goro::yield();
      wg.done();
    });
  }
  wg.wait();
  return seconds_since(t0) * 1e9 / static_cast<double>(2 * k);
}

// --- skynet: 10-ary tree of goroutines down to `size` leaves -----------------
// Each inner node has a results array of 10 slots and a WaitGroup (add(10)),
// starts 10 children, waits, sums its slots, writes its parent's slot and
// calls the parent's done(). Leaves write their number. Value: wall time of
// the whole tree, in ms; the sum is checked.
void skynet(std::int64_t* out, goro::WaitGroup* parent, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    *out = num;
    parent->done();
    return;
  }
  std::int64_t results[10];
  goro::WaitGroup wg;
  wg.add(10);
  const std::int64_t sub = size / 10;
  for (int i = 0; i < 10; ++i) {
    goro::go([&results, &wg, i, num, sub] { skynet(&results[i], &wg, num + i * sub, sub); });
  }
  wg.wait();
  std::int64_t sum = 0;
  for (std::int64_t r : results) sum += r;
  *out = sum;
  parent->done();
}

double skynet_once(std::int64_t leaves) {
  std::int64_t result = -1;
  goro::WaitGroup wg;
  wg.add(1);
  Clock::time_point t0 = Clock::now();
  goro::go([&result, &wg, leaves] { skynet(&result, &wg, 0, leaves); });
  wg.wait();
  double ms = seconds_since(t0) * 1e3;
  const std::int64_t want = leaves * (leaves - 1) / 2;
  if (result != want) {
    fail("skynet: sum " + std::to_string(result) + ", want " + std::to_string(want));
  }
  return ms;
}

// Channel elements are std::int64_t in the cases below because Go's int is
// 64 bits wide on the twin's platform: both sides move 8-byte values.
using Int = std::int64_t;

void check_sum(const char* name, Int got, Int want) {
  if (got != want) {
    fail(std::string(name) + ": sum " + std::to_string(got) + ", want " + std::to_string(want));
  }
}

// --- pingpong: unbuffered round trips between two goroutines ----------------
// Goroutine A sends i on ping and receives on pong, K times; goroutine B
// receives on ping and sends the value back on pong, K times. Both channels
// are unbuffered, so every round trip is two rendezvous. A sums what comes
// back (checked), so neither side can skip work. Value: elapsed / K, in ns
// per round trip.
double pingpong_once(Int k) {
  goro::Chan<Int> ping = goro::make_chan<Int>();
  goro::Chan<Int> pong = goro::make_chan<Int>();
  goro::WaitGroup wg;
  wg.add(2);
  Int sum = 0;
  Clock::time_point t0 = Clock::now();
  goro::go([ping, pong, &wg, &sum, k] {  // A
    for (Int i = 0; i < k; ++i) {
      ping.send(i);
      sum += pong.recv().value;
    }
    wg.done();
  });
  goro::go([ping, pong, &wg, k] {  // B
    for (Int i = 0; i < k; ++i) pong.send(ping.recv().value);
    wg.done();
  });
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(k);
  check_sum("pingpong", sum, k * (k - 1) / 2);
  return ns;
}

// --- buffered: one producer, one consumer, buffer of 128 --------------------
// The producer sends 0..N-1 on a channel of capacity 128 and closes it; the
// consumer receives with a range-for until the channel is closed and drained,
// summing (checked). Value: elapsed / N, in ns per message.
constexpr std::size_t kChanCap = 128;

double buffered_once(Int n) {
  goro::Chan<Int> ch = goro::make_chan<Int>(kChanCap);
  goro::WaitGroup wg;
  wg.add(2);
  Int sum = 0;
  Clock::time_point t0 = Clock::now();
  goro::go([ch, &wg, n] {
    for (Int i = 0; i < n; ++i) ch.send(i);
    ch.close();
    wg.done();
  });
  goro::go([ch, &wg, &sum] {
    for (Int v : ch) sum += v;
    wg.done();
  });
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(n);
  check_sum("buffered", sum, n * (n - 1) / 2);
  return ns;
}

// --- select2: one consumer selecting over two buffered channels -------------
// Producer 1 sends 0..N/2-1 on c1, producer 2 sends N/2..N-1 on c2 (both
// capacity 128, never closed); the consumer runs a two-case select until it
// has N values, summing them (checked: a lost or duplicated value on either
// channel changes the sum). N is even. Value: elapsed / N, in ns per message.
double select2_once(Int n) {
  const Int half = n / 2;
  goro::Chan<Int> c1 = goro::make_chan<Int>(kChanCap);
  goro::Chan<Int> c2 = goro::make_chan<Int>(kChanCap);
  goro::WaitGroup wg;
  wg.add(3);
  Int sum = 0;
  Clock::time_point t0 = Clock::now();
  goro::go([c1, &wg, half] {
    for (Int i = 0; i < half; ++i) c1.send(i);
    wg.done();
  });
  goro::go([c2, &wg, half] {
    for (Int i = half; i < 2 * half; ++i) c2.send(i);
    wg.done();
  });
  goro::go([c1, c2, &wg, &sum, n] {
    for (Int got = 0; got < n; ++got) {
      goro::select(goro::recv(c1, [&sum](Int v) { sum += v; }),
                   goro::recv(c2, [&sum](Int v) { sum += v; }));
    }
    wg.done();
  });
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(n);
  check_sum("select2", sum, n * (n - 1) / 2);
  return ns;
}

// --- after: many one-shot timers in flight ----------------------------------
// The main goroutine creates N timer channels with after(1 ms), keeping them
// in a vector, then receives from each in creation order. Every timer must
// deliver a time at least 1 ms after the start (checked). All N are pending
// at once, so this measures create + fire + receive with a large timer heap;
// the 1 ms wait itself adds at most 1 ms / N to the value (10 ns at 100k).
// Value: elapsed / N, in ns per timer.
constexpr auto kAfterDelay = std::chrono::milliseconds(1);

double after_once(Int n) {
  std::vector<goro::RecvChan<goro::Time>> chans;
  Clock::time_point t0 = Clock::now();
  chans.reserve(static_cast<std::size_t>(n));
  for (Int i = 0; i < n; ++i) chans.push_back(goro::after(kAfterDelay));
  Int early = 0;
  for (const auto& c : chans) {
    goro::Received<goro::Time> r = c.recv();
    if (!r.ok || r.value - t0 < kAfterDelay) ++early;
  }
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(n);
  if (early != 0) fail("after: " + std::to_string(early) + " timers fired early or not at all");
  return ns;
}

// --- mutex: contended goro::Mutex ------------------------------------------
// Four goroutines each run K iterations of lock; ++counter; unlock on one
// mutex; the main goroutine waits for them on a WaitGroup. The counter is a
// plain integer, so a mutex that lets two holders in loses increments:
// counter must be 4 K (checked). Value: elapsed / (4 K), in ns per
// lock/unlock pair.
constexpr int kSyncGoroutines = 4;

double mutex_once(std::int64_t k) {
  goro::Mutex mu;
  std::int64_t counter = 0;
  goro::WaitGroup wg;
  wg.add(kSyncGoroutines);
  Clock::time_point t0 = Clock::now();
  for (int g = 0; g < kSyncGoroutines; ++g) {
    goro::go([&mu, &counter, &wg, k] {
      for (std::int64_t i = 0; i < k; ++i) {
        mu.lock();
        ++counter;
        mu.unlock();
      }
      wg.done();
    });
  }
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(kSyncGoroutines * k);
  if (counter != kSyncGoroutines * k) {
    fail("mutex: counter " + std::to_string(counter) + ", want " +
         std::to_string(kSyncGoroutines * k));
  }
  return ns;
}

// --- rwmutex: 90% readers, 10% writers on one goro::RWMutex -----------------
// Four goroutines each run K iterations (K a multiple of 10); iteration i
// takes the write lock when i % 10 == 0 and increments two plain integers a
// and b, else it takes the read lock, reads a and b, counts a != b (a writer
// let in beside a reader) and adds a to a private sum. Checked: a == b ==
// 4 K / 10 and no reader saw a != b. Value: elapsed / (4 K), in ns per lock
// (read or write) and unlock.
struct alignas(64) RWShared {
  std::int64_t a = 0;
  std::int64_t b = 0;
};

double rwmutex_once(std::int64_t k) {
  goro::RWMutex mu;
  RWShared shared;
  std::int64_t torn = 0;  // written under the write lock only
  std::int64_t reads_sum[kSyncGoroutines] = {};
  goro::WaitGroup wg;
  wg.add(kSyncGoroutines);
  Clock::time_point t0 = Clock::now();
  for (int g = 0; g < kSyncGoroutines; ++g) {
    goro::go([&mu, &shared, &torn, &reads_sum, &wg, g, k] {
      std::int64_t sum = 0, bad = 0;
      for (std::int64_t i = 0; i < k; ++i) {
        if (i % 10 == 0) {
          mu.lock();
          ++shared.a;
          ++shared.b;
          mu.unlock();
        } else {
          mu.rlock();
          const std::int64_t a = shared.a;
          const std::int64_t b = shared.b;
          mu.runlock();
          bad += a != b;
          sum += a;
        }
      }
      mu.lock();
      torn += bad;
      mu.unlock();
      reads_sum[g] = sum;
      wg.done();
    });
  }
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(kSyncGoroutines * k);
  const std::int64_t writes = kSyncGoroutines * (k / 10);
  if (shared.a != writes || shared.b != writes || torn != 0) {
    fail("rwmutex: a=" + std::to_string(shared.a) + " b=" + std::to_string(shared.b) +
         " torn reads=" + std::to_string(torn) + ", want a=b=" + std::to_string(writes) +
         " and no torn reads");
  }
  std::int64_t total = 0;
  for (std::int64_t s : reads_sum) total += s;
  if (total < 0) fail("rwmutex: negative read sum");  // keeps the reads observable
  return ns;
}

// --- wgfan: WaitGroup fan-out / fan-in, rounds of N goroutines ---------------
// Per round the main goroutine runs `wg.add(1); go(fn)` N = 1000 times (Go
// 1.19 has no WaitGroup.Go, so both twins use the classic form), fn writing
// a small hash of its index into its own slot and calling wg.done(); then
// wg.wait() and the main goroutine sums the slots (checked against the sum
// computed directly). R rounds per repetition. Value: elapsed / (R N), in ns
// per goroutine.
std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::int64_t kFanRounds = 500;

double wgfan_once(std::int64_t n) {
  std::vector<std::uint64_t> slots(static_cast<std::size_t>(n));
  std::uint64_t want = 0;
  for (std::int64_t i = 0; i < n; ++i) want += mix64(static_cast<std::uint64_t>(i));
  std::uint64_t bad_rounds = 0;
  Clock::time_point t0 = Clock::now();
  for (std::int64_t r = 0; r < kFanRounds; ++r) {
    goro::WaitGroup wg;
    std::uint64_t* s = slots.data();
    for (std::int64_t i = 0; i < n; ++i) {
      wg.add(1);
      goro::go([&wg, s, i] {
        s[i] = mix64(static_cast<std::uint64_t>(i));
        wg.done();
      });
    }
    wg.wait();
    std::uint64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      sum += s[i];
      s[i] = 0;
    }
    bad_rounds += sum != want;
  }
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(kFanRounds * n);
  if (bad_rounds != 0) fail("wgfan: " + std::to_string(bad_rounds) + " rounds with a wrong sum");
  return ns;
}

// --- ctxtree, ctxbuild: a tree of 11111 cancellable contexts ----------------
// The tree: a root with_cancel(background()) and kCtxDepth levels below it,
// every node of a level getting kCtxFanout children from with_cancel(node):
// 1 + 10 + 100 + 1000 + 10000 = 11111 contexts. Built level by level
// (breadth first); the contexts and their ScopedCancel handles are kept in
// two vectors in creation order (a dropped ScopedCancel would cancel its
// context). ctxtree_once builds and cancels `trees` trees one after the
// other and returns both parts:
//   build  (ctxbuild, ns per context): the with_cancel calls of one tree;
//   cancel (ctxtree, µs per tree): cancel() of the root, then a receive
//          from every node's done channel in creation order (a channel not
//          yet closed would be waited for, so the time covers every close).
// Untimed: done() on every node before the cancel, so every done channel
// exists; the channels are kept in a third vector, as waiters would hold
// them, and the timed receives use those (done() is not called again while
// timed). Afterwards every node's err() must be goro::canceled() (checked)
// and the vectors are destroyed (every ScopedCancel cancels its
// already-cancelled context again; the Go twin calls every cancel function).
constexpr int kCtxFanout = 10;
constexpr int kCtxDepth = 4;

std::size_t ctx_tree_nodes() {
  std::size_t n = 0, level = 1;
  for (int d = 0; d <= kCtxDepth; ++d) {
    n += level;
    level *= kCtxFanout;
  }
  return n;
}

struct CtxTreeTimes {
  double build_ns_per_node;
  double cancel_us_per_tree;
};

CtxTreeTimes ctxtree_once(std::int64_t trees) {
  const std::size_t nodes = ctx_tree_nodes();
  double build_s = 0, cancel_s = 0;
  for (std::int64_t t = 0; t < trees; ++t) {
    std::vector<goro::Context> ctxs;
    std::vector<goro::ScopedCancel> cancels;
    ctxs.reserve(nodes);
    cancels.reserve(nodes);
    Clock::time_point t0 = Clock::now();
    {
      auto [root, root_cancel] = goro::with_cancel(goro::background());
      ctxs.push_back(std::move(root));
      cancels.push_back(std::move(root_cancel));
    }
    std::size_t begin = 0, end = 1;  // the previous level is ctxs[begin, end)
    for (int d = 0; d < kCtxDepth; ++d) {
      for (std::size_t p = begin; p < end; ++p) {
        for (int c = 0; c < kCtxFanout; ++c) {
          auto [ctx, cancel] = goro::with_cancel(ctxs[p]);
          ctxs.push_back(std::move(ctx));
          cancels.push_back(std::move(cancel));
        }
      }
      begin = end;
      end = ctxs.size();
    }
    build_s += seconds_since(t0);
    if (ctxs.size() != nodes) {
      fail("ctxtree: built " + std::to_string(ctxs.size()) + " contexts, want " +
           std::to_string(nodes));
    }
    std::vector<goro::RecvChan<goro::Empty>> dones;  // what waiters would hold
    dones.reserve(nodes);
    for (const goro::Context& ctx : ctxs) {
      dones.push_back(ctx.done());
      if (!dones.back()) fail("ctxtree: done() is the nil channel");
    }
    t0 = Clock::now();
    cancels[0]();
    for (const goro::RecvChan<goro::Empty>& done : dones) (void)done.recv();
    cancel_s += seconds_since(t0);
    std::size_t bad = 0;
    for (const goro::Context& ctx : ctxs) bad += ctx.err() != goro::canceled();
    if (bad != 0) {
      fail("ctxtree: " + std::to_string(bad) + " of " + std::to_string(nodes) +
           " contexts not canceled");
    }
  }
  return {build_s * 1e9 / static_cast<double>(static_cast<std::size_t>(trees) * nodes),
          cancel_s * 1e6 / static_cast<double>(trees)};
}

// --- pool: a goro::Pool of P workers, 4 P submitters -------------------------
// A goro::Pool<int, std::uint64_t> of P workers (P = GORO_MAXPROCS), each
// running pool_work on its payload; M = 4 P submitter goroutines each call
// process(x) J times (submitter s sends x = s J + j) and add up the results;
// the main goroutine waits for them on a WaitGroup. The total must equal the
// sum of pool_work over all M J payloads computed directly (checked,
// untimed). The pool is created before and closed after the timed part.
// The Go twin is a faithful copy of tunny (bench/go/tunny.go). Value:
// elapsed / (M J), in ns per job.
constexpr std::uint64_t kPoolHashInts = 64;

// An FNV-1a-style hash, word by word, of the 64 integers mix64(x*64 + i).
std::uint64_t pool_work(int x) {
  std::uint64_t h = 14695981039346656037ULL;
  const std::uint64_t base = static_cast<std::uint64_t>(static_cast<std::int64_t>(x)) * kPoolHashInts;
  for (std::uint64_t i = 0; i < kPoolHashInts; ++i) {
    h ^= mix64(base + i);
    h *= 1099511628211ULL;
  }
  return h;
}

double pool_once(int procs, int j) {
  const int m = 4 * procs;
  goro::Pool<int, std::uint64_t> pool(static_cast<std::size_t>(procs),
                                      [](int x) { return pool_work(x); });
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(m));
  goro::WaitGroup wg;
  wg.add(m);
  Clock::time_point t0 = Clock::now();
  for (int s = 0; s < m; ++s) {
    goro::go([&pool, &sums, &wg, s, j] {
      std::uint64_t sum = 0;
      for (int i = 0; i < j; ++i) sum += pool.process(s * j + i);
      sums[static_cast<std::size_t>(s)] = sum;
      wg.done();
    });
  }
  wg.wait();
  const double ns = seconds_since(t0) * 1e9 / (static_cast<double>(m) * j);
  pool.close();
  std::uint64_t got = 0, want = 0;
  for (std::uint64_t v : sums) got += v;
  for (int x = 0; x < m * j; ++x) want += pool_work(x);
  if (got != want) {
    fail("pool: sum of results " + std::to_string(got) + ", want " + std::to_string(want));
  }
  return ns;
}

// --- rss: parked goroutines ---------------------------------------------------
// Reads VmRSS, starts N goroutines that each call started.done() and then
// block in release.wait(), waits on `started` until all N have run, reads
// VmRSS again, prints (after - before) / N in KiB per goroutine, then
// releases them and waits for all to finish.
void rss_case(const char* name, std::int64_t n) {
  goro::WaitGroup started, release, finished;
  release.add(1);
  started.add(n);
  finished.add(n);
  const std::int64_t before = vm_rss_kib();
  Clock::time_point t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    goro::go([&started, &release, &finished] {
      started.done();
      release.wait();
      finished.done();
    });
  }
  started.wait();
  const double start_s = seconds_since(t0);
  const std::int64_t after = vm_rss_kib();
  const std::int64_t live = goro::num_goroutine();
  t0 = Clock::now();
  release.done();
  finished.wait();
  const double release_s = seconds_since(t0);
  std::printf("INFO %s n=%lld rss_before_kib=%lld rss_after_kib=%lld goroutines=%lld "
              "start_s=%.3f release_s=%.3f\n",
              name, static_cast<long long>(n), static_cast<long long>(before),
              static_cast<long long>(after), static_cast<long long>(live), start_s, release_s);
  if (live < n) fail(std::string(name) + ": only " + std::to_string(live) + " goroutines alive");
  const double per = static_cast<double>(after - before) / static_cast<double>(n);
  const std::string v = num(per);
  std::printf("RESULT %s %s KiB/goroutine min=%s reps=1 samples=%s\n", name, v.c_str(), v.c_str(),
              v.c_str());
  std::fflush(stdout);
}

// --- dump1m1, dump1m2: the goroutine profile of a million parked goroutines --
// Setup (untimed): the main goroutine locks a Mutex it never unlocks and
// starts N goroutines (default 1,000,000), goroutine i taking shape i % 10:
//   0-3  recv:   dump_recv_worker -> dump_recv_serve -> dump_recv_wait,
//                receiving from an unbuffered channel nobody sends on;
//   4-5  send:   dump_send_worker -> dump_send_emit, sending on an
//                unbuffered channel nobody receives from;
//   6-7  mutex:  dump_lock_worker -> dump_lock_update, locking the Mutex;
//   8-9  select: dump_select_worker -> dump_select_poll -> dump_select_wait,
//                a two-case select receiving from two channels nobody sends on.
// Every function is noinline and does work after its call (no tail call), so
// each frame shows; the innermost calls started.done() just before blocking
// and the main goroutine waits on `started`. So the dump sees four distinct
// stacks (debug=1: four groups plus main and the probe).
// Timed: write_goroutine_profile(out, debug) into an ostream whose streambuf
// discards everything and counts bytes. Value: wall time of one dump, in ms.
// Meanwhile a probe goroutine loops sleep(1 ms); each wake-up's gap beyond
// the 1 ms it asked for is its scheduling latency. Second value (RESULT
// <case>probe, ms): the largest latency of a wake-up during the dump,
// including the first wake-up after it ends (a gap that spans the end of the
// dump began during it): a probe that could not run during the dump shows
// the whole dump as its latency. The warm-up dump also counts the "goroutine " lines
// that start blocks (debug=2) and keeps the first line (debug=1's total);
// INFO lines report output bytes, that count and the probe's wake-ups during
// the dump. The goroutines are abandoned at exit, as in the Go twin.
struct DumpShape {
  goro::Chan<Int> recv_ch = goro::make_chan<Int>();  // never sent on
  goro::Chan<Int> send_ch = goro::make_chan<Int>();  // never received from
  goro::Chan<Int> sel_a = goro::make_chan<Int>();    // never sent on
  goro::Chan<Int> sel_b = goro::make_chan<Int>();    // never sent on
  goro::Mutex mu;                                    // held by main for good
  goro::WaitGroup started;
};

// Keeps a call from becoming a tail jump, so the caller's frame stays.
inline void keep_frame() { asm volatile("" ::: "memory"); }

[[gnu::noinline]] Int dump_recv_wait(DumpShape* s) {
  s->started.done();
  return s->recv_ch.recv().value;
}
[[gnu::noinline]] Int dump_recv_serve(DumpShape* s) {
  Int v = dump_recv_wait(s);
  keep_frame();
  return v + 1;
}
[[gnu::noinline]] void dump_recv_worker(DumpShape* s) {
  (void)dump_recv_serve(s);
  keep_frame();
}

[[gnu::noinline]] void dump_send_emit(DumpShape* s, Int v) {
  s->started.done();
  s->send_ch.send(v);
  keep_frame();
}
[[gnu::noinline]] void dump_send_worker(DumpShape* s, Int v) {
  dump_send_emit(s, v);
  keep_frame();
}

[[gnu::noinline]] void dump_lock_update(DumpShape* s, Int* counter) {
  s->started.done();
  s->mu.lock();
  ++*counter;
  s->mu.unlock();
}
[[gnu::noinline]] void dump_lock_worker(DumpShape* s, Int* counter) {
  dump_lock_update(s, counter);
  keep_frame();
}

[[gnu::noinline]] Int dump_select_wait(DumpShape* s) {
  s->started.done();
  Int got = 0;
  goro::select(goro::recv(s->sel_a, [&got](Int v) { got = v; }),
               goro::recv(s->sel_b, [&got](Int v) { got = -v; }));
  return got;
}
[[gnu::noinline]] Int dump_select_poll(DumpShape* s) {
  Int v = dump_select_wait(s);
  keep_frame();
  return v * 2;
}
[[gnu::noinline]] void dump_select_worker(DumpShape* s) {
  (void)dump_select_poll(s);
  keep_frame();
}

[[gnu::noinline]] void dump_spawn(DumpShape* s, Int* counter, std::int64_t n) {
  s->started.add(n);
  for (std::int64_t i = 0; i < n; ++i) {
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        goro::go([s] { dump_recv_worker(s); });
        break;
      case 4: case 5:
        goro::go([s, i] { dump_send_worker(s, i); });
        break;
      case 6: case 7:
        goro::go([s, counter] { dump_lock_worker(s, counter); });
        break;
      default:
        goro::go([s] { dump_select_worker(s); });
        break;
    }
  }
  s->started.wait();
}

// A streambuf that discards its output and counts it. With scan set it also
// counts lines starting with "goroutine " and keeps the first line (slow:
// byte by byte; the warm-up only).
class CountingBuf : public std::streambuf {
 public:
  explicit CountingBuf(bool scan) : scan_(scan) {}
  std::int64_t bytes() const { return bytes_; }
  std::int64_t goroutine_lines() const { return lines_; }
  const std::string& first_line() const { return first_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    take(s, n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      const char ch = traits_type::to_char_type(c);
      take(&ch, 1);
    }
    return traits_type::not_eof(c);
  }

 private:
  void take(const char* s, std::streamsize n) {
    bytes_ += n;
    if (!scan_) return;
    static constexpr std::string_view kWord = "\ngoroutine ";
    for (std::streamsize i = 0; i < n; ++i) {
      const char c = s[i];
      if (!first_done_) {
        if (c == '\n') first_done_ = true;
        else first_ += c;
      }
      if (c == kWord[matched_]) {
        if (++matched_ == kWord.size()) {
          ++lines_;
          matched_ = 0;
        }
      } else {
        matched_ = c == '\n' ? 1 : 0;
      }
    }
  }

  bool scan_;
  std::int64_t bytes_ = 0;
  std::int64_t lines_ = 0;
  std::size_t matched_ = 1;  // the start of the output counts as a line start
  std::string first_;
  bool first_done_ = false;
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// The probe goroutine's state; see dump_case. The probe writes max_gap_ns
// and wakeups before it publishes last_wake_ns (release), so a reader that
// has seen last_wake_ns >= t (acquire) sees every wake-up up to t counted.
struct Probe {
  std::atomic<bool> active{false};
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> last_wake_ns{0};
  std::atomic<std::int64_t> max_gap_ns{0};
  std::atomic<std::int64_t> wakeups{0};
  goro::WaitGroup finished;
};

constexpr std::int64_t kProbeSleepNs = 1'000'000;

void probe_loop(Probe* p) {
  std::int64_t prev = steady_ns();
  while (!p->stop.load(std::memory_order_relaxed)) {
    goro::sleep(std::chrono::nanoseconds(kProbeSleepNs));
    const std::int64_t t = steady_ns();
    if (p->active.load(std::memory_order_relaxed)) {
      const std::int64_t gap = t - prev - kProbeSleepNs;
      if (gap > p->max_gap_ns.load(std::memory_order_relaxed)) {
        p->max_gap_ns.store(gap, std::memory_order_relaxed);
      }
      p->wakeups.fetch_add(1, std::memory_order_relaxed);
    }
    p->last_wake_ns.store(t, std::memory_order_release);
    prev = t;
  }
  p->finished.done();
}

struct DumpSample {
  double ms;
  double probe_ms;
  std::int64_t probe_wakeups;
  std::int64_t bytes;
};

DumpSample dump_once(Probe* probe, int debug, CountingBuf* buf) {
  std::ostream out(buf);
  probe->max_gap_ns.store(0, std::memory_order_relaxed);
  probe->wakeups.store(0, std::memory_order_relaxed);
  probe->active.store(true, std::memory_order_relaxed);
  const std::int64_t t0 = steady_ns();
  goro::debug::write_goroutine_profile(out, debug);
  const std::int64_t t1 = steady_ns();
  const std::int64_t during = probe->wakeups.load(std::memory_order_relaxed);
  // The first wake-up after the dump: its gap began during the dump.
  while (probe->last_wake_ns.load(std::memory_order_acquire) < t1) {
    goro::sleep(std::chrono::microseconds(100));
  }
  probe->active.store(false, std::memory_order_relaxed);
  if (!out) fail("dump: the stream failed");
  return {static_cast<double>(t1 - t0) / 1e6,
          static_cast<double>(probe->max_gap_ns.load(std::memory_order_relaxed)) / 1e6, during,
          buf->bytes()};
}

std::string join_samples(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : ",") + num(v[i]);
  return s;
}

void dump_case(const char* name, int debug, int reps, std::int64_t n) {
  static DumpShape shape;  // abandoned with the goroutines at exit
  static Int counter = 0;
  shape.mu.lock();
  Clock::time_point t0 = Clock::now();
  dump_spawn(&shape, &counter, n);
  const double setup_s = seconds_since(t0);
  static Probe probe;
  probe.finished.add(1);
  goro::go([] { probe_loop(&probe); });
  goro::sleep(std::chrono::milliseconds(10));  // let the probe start its loop
  std::printf("INFO %s n=%lld goroutines=%lld setup_s=%.3f rss_kib=%lld\n", name,
              static_cast<long long>(n), static_cast<long long>(goro::num_goroutine()), setup_s,
              static_cast<long long>(vm_rss_kib()));
  std::fflush(stdout);

  // Warm-up, which also checks what was written.
  CountingBuf scan(true);
  const DumpSample w = dump_once(&probe, debug, &scan);
  std::printf("INFO %s warmup_ms=%s bytes=%lld goroutine_lines=%lld first_line=\"%s\" "
              "probe_max_ms=%s probe_wakeups=%lld rss_kib=%lld\n",
              name, num(w.ms).c_str(), static_cast<long long>(w.bytes),
              static_cast<long long>(scan.goroutine_lines()), scan.first_line().c_str(),
              num(w.probe_ms).c_str(), static_cast<long long>(w.probe_wakeups),
              static_cast<long long>(vm_rss_kib()));
  std::fflush(stdout);
  std::vector<double> ms, probe_ms;
  std::vector<std::int64_t> wakeups, bytes;
  for (int i = 0; i < reps; ++i) {
    CountingBuf sink(false);
    const DumpSample s = dump_once(&probe, debug, &sink);
    ms.push_back(s.ms);
    probe_ms.push_back(s.probe_ms);
    wakeups.push_back(s.probe_wakeups);
    bytes.push_back(s.bytes);
  }
  std::string wk, by;
  for (int i = 0; i < reps; ++i) {
    wk += (i == 0 ? "" : ",") + std::to_string(wakeups[static_cast<std::size_t>(i)]);
    by += (i == 0 ? "" : ",") + std::to_string(bytes[static_cast<std::size_t>(i)]);
  }
  std::printf("INFO %s bytes=%s probe_wakeups=%s probe_ms=%s rss_kib=%lld\n", name, by.c_str(),
              wk.c_str(), join_samples(probe_ms).c_str(), static_cast<long long>(vm_rss_kib()));
  print_result(name, "ms", ms);
  print_result((std::string(name) + "probe").c_str(), "ms", probe_ms);
  probe.stop.store(true, std::memory_order_relaxed);
  probe.finished.wait();
}

bool is_power_of_10(std::int64_t v) {
  if (v < 1) return false;
  while (v % 10 == 0) v /= 10;
  return v == 1;
}

int bench_main(const Options& o) {
  std::printf("INFO impl=goro maxprocs=%d stack_size=%zu\n", goro::maxprocs(), goro::stack_size());
  auto size = [&](std::int64_t def) { return o.n > 0 ? o.n : def; };
  bool any = false;
  // group: "runtime", "chan" or "sync" for timing cases (all in "all"), "" for
  // the RSS and dump cases, which need a fresh process each.
  auto want = [&](std::string_view c, std::string_view group) {
    bool w = o.which == c || (!group.empty() && (o.which == group || o.which == "all"));
    any = any || w;
    return w;
  };
  if (want("spawn", "runtime")) {
    const std::int64_t n = size(100'000);
    report_timing("spawn", "ns/goroutine", o.reps, [n] { return spawn_once(n); });
  }
  if (want("yield", "runtime")) {
    const std::int64_t k = size(1'000'000);
    report_timing("yield", "ns/yield", o.reps, [k] { return yield_once(k); });
  }
  if (want("skynet", "runtime")) {
    const std::int64_t leaves = size(1'000'000);
    if (!is_power_of_10(leaves)) fail("skynet: --n must be a power of 10");
    report_timing("skynet", "ms", o.reps, [leaves] { return skynet_once(leaves); });
  }
  if (want("pingpong", "chan")) {
    const Int k = size(1'000'000);
    report_timing("pingpong", "ns/roundtrip", o.reps, [k] { return pingpong_once(k); });
  }
  if (want("buffered", "chan")) {
    const Int n = size(2'000'000);
    report_timing("buffered", "ns/msg", o.reps, [n] { return buffered_once(n); });
  }
  if (want("select2", "chan")) {
    const Int n = size(2'000'000) / 2 * 2;  // two producers send n/2 each
    if (n < 2) fail("select2: --n must be at least 2");
    report_timing("select2", "ns/msg", o.reps, [n] { return select2_once(n); });
  }
  if (want("after", "chan")) {
    const Int n = size(100'000);
    report_timing("after", "ns/timer", o.reps, [n] { return after_once(n); });
  }
  if (want("mutex", "sync")) {
    const std::int64_t k = size(1'000'000);
    report_timing("mutex", "ns/lock", o.reps, [k] { return mutex_once(k); });
  }
  if (want("rwmutex", "sync")) {
    const std::int64_t k = size(1'000'000) / 10 * 10;  // every 10th iteration writes
    if (k < 10) fail("rwmutex: --n must be at least 10");
    report_timing("rwmutex", "ns/lock", o.reps, [k] { return rwmutex_once(k); });
  }
  if (want("wgfan", "sync")) {
    const std::int64_t n = size(1'000);
    report_timing("wgfan", "ns/goroutine", o.reps, [n] { return wgfan_once(n); });
  }
  // ctxtree and ctxbuild time two parts of the same work (build a tree of
  // contexts, cancel it); each case reports its part.
  if (want("ctxtree", "sync")) {
    const std::int64_t trees = size(50);
    report_timing("ctxtree", "us/tree", o.reps,
                  [trees] { return ctxtree_once(trees).cancel_us_per_tree; });
  }
  if (want("ctxbuild", "sync")) {
    const std::int64_t trees = size(50);
    report_timing("ctxbuild", "ns/context", o.reps,
                  [trees] { return ctxtree_once(trees).build_ns_per_node; });
  }
  if (want("pool", "sync")) {
    const int j = static_cast<int>(size(25'000));
    const int procs = goro::maxprocs();
    std::printf("INFO pool workers=%d submitters=%d jobs_per_submitter=%d\n", procs, 4 * procs, j);
    report_timing("pool", "ns/job", o.reps, [procs, j] { return pool_once(procs, j); });
  }
  // The dump cases report two RESULT lines each: <case> (dump time) and
  // <case>probe (the probe's worst latency during the dumps). One per process:
  // each parks its own million goroutines for good.
  if (o.which == "dump") fail("dump: run dump1m1 and dump1m2 one per process");
  if (want("dump1m1", "")) dump_case("dump1m1", 1, o.reps, size(1'000'000));
  if (want("dump1m2", "")) dump_case("dump1m2", 2, o.reps, size(1'000'000));
  if (want("rss100k", "")) rss_case("rss100k", size(100'000));
  if (want("rss1m", "")) rss_case("rss1m", size(1'000'000));
  if (!any) fail("unknown case \"" + o.which + "\"");
  return 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: goro_bench [--case NAME] [--reps R] [--n N]\n"
               "  NAME: spawn|yield|skynet|pingpong|buffered|select2|after\n"
               "        |mutex|rwmutex|wgfan|ctxtree|ctxbuild|pool\n"
               "        |runtime|chan|sync|all (groups of timing cases)|rss100k|rss1m\n"
               "        |dump1m1|dump1m2 (one per process)\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--case" || a == "-case") {
      o.which = value();
    } else if (a == "--reps" || a == "-reps") {
      o.reps = std::atoi(value().c_str());
      if (o.reps < 1) usage();
    } else if (a == "--n" || a == "-n") {
      o.n = std::atoll(value().c_str());
      if (o.n < 1) usage();
    } else {
      usage();
    }
  }
  return goro::run([&o] { return bench_main(o); });
}
