// goro_bench: the C++ half of the goro-vs-Go benchmark harness.
//
// Its twin is bench/go/main.go; both do the same work, take the same flags and
// print the same lines. bench/run.sh builds and runs both and joins the
// results; docs/performance.md says what each case measures.
//
//   goro_bench [--case NAME] [--reps R] [--n N]
//
//   --case   spawn | yield | skynet | all (the three timing cases, default)
//            | rss100k | rss1m (parked-goroutine RSS, one per process: run
//            each in a fresh process, as run.sh does, so earlier cases do
//            not pollute the baseline)
//   --reps   measured repetitions of a timing case after one warm-up (default 5)
//   --n      override the case's size (goroutines, yields per goroutine, or
//            skynet leaves, a power of 10); for quick checks only
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
  auto want = [&](std::string_view c, bool in_all) {
    bool w = o.which == c || (in_all && o.which == "all");
    any = any || w;
    return w;
  };
  if (want("spawn", true)) {
    const std::int64_t n = size(100'000);
    report_timing("spawn", "ns/goroutine", o.reps, [n] { return spawn_once(n); });
  }
  if (want("yield", true)) {
    const std::int64_t k = size(1'000'000);
    report_timing("yield", "ns/yield", o.reps, [k] { return yield_once(k); });
  }
  if (want("skynet", true)) {
    const std::int64_t leaves = size(1'000'000);
    if (!is_power_of_10(leaves)) fail("skynet: --n must be a power of 10");
    report_timing("skynet", "ms", o.reps, [leaves] { return skynet_once(leaves); });
  }
  if (want("rss100k", false)) rss_case("rss100k", size(100'000));
  if (want("rss1m", false)) rss_case("rss1m", size(1'000'000));
  if (!any) fail("unknown case \"" + o.which + "\"");
  return 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: goro_bench [--case spawn|yield|skynet|all|rss100k|rss1m] "
               "[--reps R] [--n N]\n");
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
