// Helpers shared by the runtime test suites (tests/runtime, tests/sync).
//
//  - sanitizer detection, to scale heavy tests down where every goroutine
//    costs sanitizer state;
//  - eventually(): a bounded wait on a condition, usable on a goroutine (it
//    sleeps with goro::sleep, so it never blocks a worker) and on a plain
//    thread. Tests wait with a deadline and fail instead of hanging;
//  - ThreadSet: the set of OS threads that ran something;
//  - scenarios: functions run in a child process (this binary re-executed),
//    whose exit status and stderr a test then examines with all of C++ --
//    for checks a death test's regex cannot express (e.g. "the header names
//    the goroutine that printed its ID").
// test_main.cc adds a per-test watchdog on top, for waits that cannot be
// bounded from inside (WaitGroup::wait has no timeout).
#pragma once

#include <goro/goro.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define GORO_TEST_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GORO_TEST_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORO_TEST_TSAN 1
#endif
#endif

namespace goro_test {

#if GORO_TEST_ASAN
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#if GORO_TEST_TSAN
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
inline constexpr bool kSanitized = kAsan || kTsan;

// n in a normal build; the given smaller counts under ASan and TSan.
constexpr long scaled(long normal, long asan, long tsan) { return kTsan ? tsan : kAsan ? asan : normal; }

// A generous deadline for things that should take milliseconds: machines
// running these tests are shared and noisy, sanitizers are slow.
inline constexpr std::chrono::seconds kPatience{kSanitized ? 60 : 20};

// Polls cond every millisecond until it holds or `limit` passes. Returns
// whether it held. Sleeps with goro::sleep: on a goroutine that parks (the
// worker keeps running others), on a plain thread it sleeps the thread.
template <class Cond>
bool eventually(Cond&& cond, std::chrono::milliseconds limit = kPatience) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    goro::sleep(std::chrono::milliseconds(1));
  }
}

// Milliseconds elapsed since `start` on the steady clock (CLOCK_MONOTONIC,
// the clock goro's timers use).
inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// The OS threads that ran code (e.g. which workers ran some goroutines).
class ThreadSet {
 public:
  void add_current() {
    std::lock_guard lock(mu_);
    ids_.insert(std::this_thread::get_id());
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return ids_.size();
  }

 private:
  mutable std::mutex mu_;
  std::set<std::thread::id> ids_;
};

// Busy-computes for about `d` without blocking or yielding (a CPU-bound
// goroutine keeps its worker: goro has no preemption).
inline void spin_for(std::chrono::microseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// --- uncaught misuse in death tests ------------------------------------------------

// Death-test child body: runs `body` on a goroutine while the main goroutine
// waits; an exception escaping `body` must end the process like an
// unrecovered Go panic. The wait is bounded (kPatience), so a body that
// fails to panic ends the child by itself, with a line no panic regex
// matches.
[[noreturn]] inline void panic_in_goroutine(void (*body)()) {
  goro::run([body] {
    goro::go([body] { body(); });
    goro::sleep(kPatience);
  });
  std::fprintf(stderr, "no panic: the goroutine's misuse did not end the process\n");
  std::exit(0);
}

// What a death test expects on stderr for an uncaught goro::Error with Go's
// message `message` (a regex fragment): Go's panic line and the header of the
// panicking goroutine's traceback.
inline std::string go_panic_pattern(const std::string& message) {
  return "panic: " + message + "\n\ngoroutine [0-9]+ \\[running\\]:\n";
}

// Go's `fatal error: MESSAGE` on a goroutine: the text, then the running
// goroutine's traceback, which names `frame` (a regex).
inline std::string go_fatal_pattern(const std::string& message, const std::string& frame) {
  return "fatal error: " + message + "\n\ngoroutine [0-9]+ \\[running\\]:\n.*" + frame;
}

// The same on a plain thread: no goroutine to trace, the message ends it.
inline std::string go_fatal_on_thread_pattern(const std::string& message) {
  return "fatal error: " + message + "\n$";
}

// Runs party(i) at once on `threads` plain threads (i = -1, -2, ...) and
// on `goroutines` goroutines of a goro::run (i = 0, 1, ...); returns when
// all have finished. For primitives shared by both kinds of parties.
template <class Party>
void run_on_threads_and_goroutines(Party& party, int threads, int goroutines) {
  std::vector<std::thread> plain;
  for (int t = 0; t < threads; ++t) plain.emplace_back(party, -1 - t);
  goro::run([&] {
    goro::WaitGroup wg;
    for (int g = 0; g < goroutines; ++g) wg.go([&party, g] { party(g); });
    wg.wait();
  });
  for (auto& t : plain) t.join();
}

// --- child-process scenarios ---------------------------------------------------

using Scenario = void (*)();

inline std::map<std::string, Scenario>& scenarios() {
  static std::map<std::string, Scenario> registry;
  return registry;
}

struct RegisterScenario {
  RegisterScenario(const char* name, Scenario fn) { scenarios()[name] = fn; }
};

// Defines a scenario: GORO_TEST_SCENARIO(name) { ...code run in the child... }
#define GORO_TEST_SCENARIO(name)                                                              \
  static void goro_test_scenario_##name();                                                    \
  static const ::goro_test::RegisterScenario goro_test_register_##name(#name,                 \
                                                                       goro_test_scenario_##name); \
  static void goro_test_scenario_##name()

struct ChildResult {
  bool exited = false;  // ended by exit() (else killed by a signal)
  int exit_code = -1;   // when exited
  int signal = 0;       // when killed
  std::string err;      // everything it wrote to stderr
};

// Runs scenario `name` in a child process (this binary, re-executed with
// --goro-scenario NAME; test_main.cc dispatches) and waits for it. The
// child inherits the environment (GORO_MAXPROCS) and the watchdog, so a
// hanging scenario ends too.
ChildResult run_scenario(const std::string& name);

}  // namespace goro_test
