// goro_demo: runs many goroutines and reports what they did.
//
// Four short scenes, each checked as it runs:
//   1. fan-out   100,000 goroutines each sleep a random 0-9 ms; one WaitGroup
//                joins them. Shows M:N scheduling: 100k goroutines on
//                maxprocs() worker threads, sleeping concurrently.
//   2. relay     a chain of 10,000 goroutines, each parked on its own
//                WaitGroup until the previous one hands it the baton.
//   3. pipeline  generate -> square -> sum: each stage is a goroutine that
//                waits for the previous stage, then fans out workers.
//   4. maxprocs  the same CPU-bound work at set_maxprocs(1) and at the
//                original setting.
//
// Usage: goro_demo [FAN_OUT]   (default 100000)
// Exits 0 when every check holds, 1 otherwise. Try GORO_MAXPROCS=1 or
// GORO_STACK_SIZE=64K in the environment.
#include <goro/goro.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Peak resident set size of this process, in MiB (0 when unknown).
double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return static_cast<double>(kib) / 1024.0;
}

// A small deterministic hash, so each goroutine picks its own "random" sleep.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::printf("   CHECK FAILED: %s\n", what);
  }
}

// Waits (by sleeping, so the exiting goroutines get their workers) until
// only the main goroutine is left, for at most a second.
std::int64_t settle() {
  for (int i = 0; i < 1000 && goro::num_goroutine() > 1; ++i) {
    goro::sleep(std::chrono::milliseconds(1));
  }
  return goro::num_goroutine();
}

void fan_out(int n) {
  std::printf("1. fan-out: %d goroutines, each sleeps a random 0-9 ms\n", n);
  struct Record {
    std::uint64_t id = 0;
    std::size_t thread = 0;
    int slept_ms = -1;
  };
  std::vector<Record> records(static_cast<std::size_t>(n));
  goro::WaitGroup wg;
  wg.add(n);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    goro::go([&records, &wg, i] {
      int ms = static_cast<int>(mix(static_cast<std::uint64_t>(i)) % 10);
      goro::sleep(std::chrono::milliseconds(ms));
      records[static_cast<std::size_t>(i)] = {goro::id(),
                                              std::hash<std::thread::id>{}(std::this_thread::get_id()),
                                              ms};
      wg.done();
    });
  }
  double spawn_ms = ms_since(t0);
  std::int64_t live = goro::num_goroutine();
  wg.wait();  // parks main with wait reason "sync.WaitGroup.Wait"
  double total_ms = ms_since(t0);

  std::vector<std::uint64_t> ids;
  std::vector<std::size_t> threads;
  ids.reserve(records.size());
  long long slept_ms = 0;
  bool all_ran = true;
  for (const Record& r : records) {
    all_ran = all_ran && r.slept_ms >= 0;
    slept_ms += r.slept_ms;
    ids.push_back(r.id);
    threads.push_back(r.thread);
  }
  std::sort(ids.begin(), ids.end());
  std::sort(threads.begin(), threads.end());
  std::size_t distinct_ids = static_cast<std::size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
  std::size_t distinct_threads =
      static_cast<std::size_t>(std::unique(threads.begin(), threads.end()) - threads.begin());

  std::printf("   spawned in %.1f ms (%.0f ns per go); num_goroutine() right after: %lld\n", spawn_ms,
              spawn_ms * 1e6 / n, static_cast<long long>(live));
  std::printf("   all done after %.1f ms; they slept %.1f s in total, %.0fx more than the wall time\n",
              total_ms, static_cast<double>(slept_ms) / 1000.0, static_cast<double>(slept_ms) / total_ms);
  std::printf("   goroutine IDs: %zu distinct, from %llu to %llu; ran on %zu worker thread(s)\n",
              distinct_ids, static_cast<unsigned long long>(ids.front()),
              static_cast<unsigned long long>(ids.back()), distinct_threads);
  std::int64_t left = settle();
  std::printf("   num_goroutine() once they have exited: %lld\n", static_cast<long long>(left));
  check(all_ran, "every goroutine ran");
  check(distinct_ids == records.size(), "every goroutine has its own ID");
  check(ids.front() > 1, "IDs above main's (1)");
  check(distinct_threads <= static_cast<std::size_t>(goro::maxprocs()) + 1,
        "goroutines ran on at most maxprocs() workers (+1 when main's thread helps)");
  check(left == 1, "only main is left");
}

void relay(int n) {
  std::printf("2. relay: %d goroutines parked on WaitGroups, each releasing the next\n", n);
  // legs[j] opens runner j; runner j opens legs[j + 1]; legs[n] is the finish.
  auto legs = std::make_unique<goro::WaitGroup[]>(static_cast<std::size_t>(n) + 1);
  for (int j = 0; j <= n; ++j) legs[j].add(1);
  std::atomic<int> baton{0};
  std::atomic<bool> in_order{true};
  for (int j = 0; j < n; ++j) {
    goro::go([&legs, &baton, &in_order, j] {
      legs[j].wait();
      if (baton.fetch_add(1, std::memory_order_relaxed) != j) in_order = false;
      legs[j + 1].done();
    });
  }
  goro::sleep(std::chrono::milliseconds(20));  // let them all reach wait()
  std::int64_t parked = goro::num_goroutine();
  auto t0 = Clock::now();
  legs[0].done();
  legs[n].wait();
  double ms = ms_since(t0);
  std::printf("   num_goroutine() while all wait: %lld; baton passed %d times in %.1f ms (%.2f us per hand-off)\n",
              static_cast<long long>(parked), baton.load(), ms, ms * 1000.0 / n);
  std::int64_t left = settle();
  check(parked == n + 1, "all runners alive while parked");
  check(baton.load() == n && in_order.load(), "baton passed through every runner, in order");
  check(left == 1, "only main is left");
}

void pipeline() {
  constexpr std::uint64_t kItems = std::uint64_t{1} << 20;
  constexpr int kShards = 16;
  constexpr std::uint64_t kShard = kItems / kShards;
  std::printf("3. pipeline: generate -> square -> sum over %llu numbers, %d workers per stage\n",
              static_cast<unsigned long long>(kItems), kShards);
  std::vector<std::uint64_t> data(kItems);
  std::vector<std::uint64_t> partial(kShards);
  goro::WaitGroup generated, squared, summed;
  generated.add(1);
  squared.add(1);
  summed.add(1);
  std::uint64_t stage_ids[3] = {};
  double stage_ms[3] = {};
  auto t0 = Clock::now();

  // Runs body(shard) on kShards worker goroutines and waits for them.
  auto fan = [](const std::function<void(int)>& body) {
    goro::WaitGroup wg;
    wg.add(kShards);
    for (int s = 0; s < kShards; ++s) {
      goro::go([&body, &wg, s] {
        body(s);
        wg.done();
      });
    }
    wg.wait();
  };
  // Started last stage first: each waits for its input, proving the stages
  // really park until the previous one is done.
  goro::go([&] {
    stage_ids[2] = goro::id();
    squared.wait();
    fan([&](int s) {
      std::uint64_t sum = 0;
      for (std::uint64_t i = s * kShard; i < (s + 1) * kShard; ++i) sum += data[i];
      partial[s] = sum;
    });
    stage_ms[2] = ms_since(t0);
    summed.done();
  });
  goro::go([&] {
    stage_ids[1] = goro::id();
    generated.wait();
    fan([&](int s) {
      for (std::uint64_t i = s * kShard; i < (s + 1) * kShard; ++i) data[i] *= data[i];
    });
    stage_ms[1] = ms_since(t0);
    squared.done();
  });
  goro::go([&] {
    stage_ids[0] = goro::id();
    fan([&](int s) {
      for (std::uint64_t i = s * kShard; i < (s + 1) * kShard; ++i) data[i] = i;
    });
    stage_ms[0] = ms_since(t0);
    generated.done();
  });
  summed.wait();
  std::uint64_t total = 0;
  for (std::uint64_t p : partial) total += p;
  const std::uint64_t n = kItems;
  const std::uint64_t expected = (n - 1) * n / 2 * (2 * n - 1) / 3;  // sum of i*i for i < n
  const char* names[3] = {"generate", "square", "sum"};
  for (int i = 0; i < 3; ++i) {
    std::printf("   stage %-8s goroutine %llu, done at %.1f ms\n", names[i],
                static_cast<unsigned long long>(stage_ids[i]), stage_ms[i]);
  }
  std::printf("   sum of squares = %llu (expected %llu)\n", static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(expected));
  check(total == expected, "pipeline computed the sum of squares");
  check(stage_ms[0] <= stage_ms[1] && stage_ms[1] <= stage_ms[2], "stages finished in order");
  check(settle() == 1, "only main is left");
}

// CPU-bound work that the compiler cannot skip.
std::uint64_t spin(std::uint64_t seed, int rounds) {
  std::uint64_t x = seed | 1;
  for (int i = 0; i < rounds; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

double timed_spins(int goroutines, int rounds, std::uint64_t* out) {
  std::vector<std::uint64_t> results(static_cast<std::size_t>(goroutines));
  goro::WaitGroup wg;
  wg.add(goroutines);
  auto t0 = Clock::now();
  for (int g = 0; g < goroutines; ++g) {
    goro::go([&results, &wg, g, rounds] {
      results[static_cast<std::size_t>(g)] = spin(static_cast<std::uint64_t>(g) + 1, rounds);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  std::uint64_t x = 0;
  for (std::uint64_t r : results) x ^= r;
  *out = x;
  return ms;
}

void maxprocs_scene() {
  constexpr int kGoroutines = 8;
  constexpr int kRounds = 20'000'000;
  int procs = goro::maxprocs();
  std::printf("4. maxprocs: %d CPU-bound goroutines at maxprocs 1 and at %d\n", kGoroutines, procs);
  std::uint64_t one = 0, many = 0;
  int previous = goro::set_maxprocs(1);
  double ms_one = timed_spins(kGoroutines, kRounds, &one);
  goro::set_maxprocs(previous);
  double ms_many = timed_spins(kGoroutines, kRounds, &many);
  std::printf("   maxprocs 1: %.1f ms; maxprocs %d: %.1f ms (%.2fx)\n", ms_one, previous, ms_many,
              ms_one / ms_many);
  check(previous == procs, "set_maxprocs returned the previous setting");
  check(goro::maxprocs() == procs, "maxprocs restored");
  check(one == many, "same results at either setting");
  check(settle() == 1, "only main is left");
}

}  // namespace

int main(int argc, char** argv) {
  int fan = 100'000;
  if (argc > 1) {
    fan = std::atoi(argv[1]);
    if (fan < 1) {
      std::fprintf(stderr, "usage: %s [FAN_OUT >= 1]\n", argv[0]);
      return 2;
    }
  }
  std::printf("goro demo: maxprocs %d, goroutine stack %zu KiB, called from a plain thread "
              "(in_goroutine %s, id %llu)\n",
              goro::maxprocs(), goro::stack_size() / 1024, goro::in_goroutine() ? "true" : "false",
              static_cast<unsigned long long>(goro::id()));
  auto t0 = Clock::now();
  int code = goro::run([fan] {
    std::printf("main goroutine: id %llu, num_goroutine %lld\n\n", static_cast<unsigned long long>(goro::id()),
                static_cast<long long>(goro::num_goroutine()));
    fan_out(fan);
    relay(10'000);
    pipeline();
    maxprocs_scene();
    return failures == 0 ? 0 : 1;
  });
  std::printf("\n%s in %.0f ms, peak RSS %.0f MiB\n", code == 0 ? "all checks passed" : "SOME CHECKS FAILED",
              ms_since(t0), peak_rss_mib());
  return code;
}
