// goro_bench: the C++ half of the goro-vs-Go benchmark harness.
//
// Its twin is bench/go/main.go; both do the same work, take the same flags and
// print the same lines. bench/run.sh builds and runs both and joins the
// results; docs/performance.md says what each case measures.
//
//   goro_bench [--case NAME] [--reps R] [--n N]
//
//   --case   a timing case: spawn | yield | skynet (runtime) | pingpong |
//            buffered | select2 | after (channels and timers);
//            a group of timing cases: runtime | chan | all (both, default);
//            or rss100k | rss1m (parked-goroutine RSS, one per process: run
//            each in a fresh process, as run.sh does, so earlier cases do
//            not pollute the baseline)
//   --reps   measured repetitions of a timing case after one warm-up (default 5)
//   --n      override the case's size (goroutines, yields per goroutine,
//            skynet leaves (a power of 10), round trips, messages or
//            timers); for quick checks only
//
// Parallelism comes from GORO_MAXPROCS (run.sh sets it equal to GOMAXPROCS).
//
// Output, one line per case:
//   RESULT <case> <median> <unit> min=<min> reps=<R> samples=<s1,s2,...>
// plus INFO lines. A failed check prints "FAIL ..." to stderr and exits 1.
#include <goro/goro.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
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

// Runs one warm-up and `reps` measured repetitions of `once` (which returns
// the per-repetition value in `unit`) and prints the RESULT line.
void report_timing(const char* name, const char* unit, int reps,
                   const std::function<double()>& once) {
  (void)once();  // warm-up: stack pools, heap arenas, worker threads
  std::vector<double> samples;
  for (int i = 0; i < reps; ++i) samples.push_back(once());
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

bool is_power_of_10(std::int64_t v) {
  if (v < 1) return false;
  while (v % 10 == 0) v /= 10;
  return v == 1;
}

int bench_main(const Options& o) {
  std::printf("INFO impl=goro maxprocs=%d stack_size=%zu\n", goro::maxprocs(), goro::stack_size());
  auto size = [&](std::int64_t def) { return o.n > 0 ? o.n : def; };
  bool any = false;
  // group: "runtime" or "chan" for timing cases (both are in "all"), "" for
  // the RSS cases, which need a fresh process each.
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
  if (want("rss100k", "")) rss_case("rss100k", size(100'000));
  if (want("rss1m", "")) rss_case("rss1m", size(1'000'000));
  if (!any) fail("unknown case \"" + o.which + "\"");
  return 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: goro_bench [--case NAME] [--reps R] [--n N]\n"
               "  NAME: spawn|yield|skynet|pingpong|buffered|select2|after\n"
               "        |runtime|chan|all (groups of timing cases)|rss100k|rss1m\n");
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
