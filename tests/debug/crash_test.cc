// Crash reports: how a goro program dies, in Go's words.
//
//  - deadlock: "fatal error: all goroutines are asleep - deadlock!", main's
//    goroutine first, then every other one with its wait reason; and no
//    report while a timer is pending, while a plain thread exists, or when
//    detection is off;
//  - hardware faults inside a goroutine: Go's runtime panics (nil pointer
//    dereference, integer divide by zero) with the "[signal ...]" line, and
//    "unexpected fault address" + "fatal error: fault" for a wild address;
//  - abort() inside a goroutine and SIGQUIT: Go's "SIGABRT: abort" /
//    "SIGQUIT: quit" reports with PC, m and sigcode, then the goroutines;
//  - GOTRACEBACK / GORO_TRACEBACK levels: none, single, all;
//  - a stack overflow reports only the overflowing goroutine.
// Every program dies with exit status 2, like Go's.
//
// Each case runs in a child process (goro_test::run_scenario) whose stderr
// is examined here. The child inherits the environment: a test sets what
// the child must see (GORO_TRACEBACK, GORO_DEADLOCK, ...) around the call.
//
// Deadlock detection needs a process with no thread but goro's own and the
// one blocked in goro::run, so those children run without the test harness'
// deadline thread (GORO_TEST_WATCHDOG_SECONDS=0); alarm() bounds them
// instead -- a signal, not a thread.
#include <gtest/gtest.h>
#include <goro/debug.h>
#include <goro/goro.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.h"

namespace {

using goro_test::ChildResult;
using namespace std::chrono_literals;

// --- the child's environment ----------------------------------------------------

// Sets (or, with nullopt, unsets) environment variables for the children
// started while it lives; restores them after. The parent runs no goroutine
// and no thread reads the environment meanwhile.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::optional<std::string>>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.push_back({name, old != nullptr ? std::optional<std::string>(old) : std::nullopt});
      if (value) {
        setenv(name, value->c_str(), 1);
      } else {
        unsetenv(name);
      }
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The traceback level the child starts with, whatever the parent's
// environment says: GORO_TRACEBACK wins over GOTRACEBACK.
ChildResult run_with_traceback(const char* scenario, std::optional<std::string> goro_traceback,
                               std::optional<std::string> gotraceback = std::nullopt) {
  ScopedEnv env{{"GORO_TRACEBACK", std::move(goro_traceback)}, {"GOTRACEBACK", std::move(gotraceback)}};
  return goro_test::run_scenario(scenario);
}

// A child with no thread besides goro's own: deadlock detection can fire.
ChildResult run_alone(const char* scenario, std::optional<std::string> goro_deadlock = std::nullopt) {
  ScopedEnv env{{"GORO_TEST_WATCHDOG_SECONDS", "0"},
                {"GORO_DEADLOCK", std::move(goro_deadlock)},
                {"GORO_TRACEBACK", std::nullopt},
                {"GOTRACEBACK", std::nullopt}};
  return goro_test::run_scenario(scenario);
}

// In a child without the harness' deadline thread: SIGALRM (default action:
// terminate) ends it if it hangs, after a limit the parent's watchdog
// outlasts.
// GORO_TEST_ALARM_SECONDS shortens it, for tests that expect hangs.
void bound_by_alarm() {
  long seconds = goro_test::kPatience.count();
  if (const char* v = std::getenv("GORO_TEST_ALARM_SECONDS"); v != nullptr && *v != '\0') {
    seconds = std::strtol(v, nullptr, 10);
  }
  alarm(static_cast<unsigned>(seconds));
}

std::string describe(const ChildResult& r) {
  std::string s = r.exited ? "exit status " + std::to_string(r.exit_code)
                           : "killed by signal " + std::to_string(r.signal);
  return s + "; stderr:\n" + r.err;
}

bool exited_with(const ChildResult& r, int code) { return r.exited && r.exit_code == code; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool matches(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

// Go's goroutine headers in order of appearance: (ID, "[...]" contents).
std::vector<std::pair<std::uint64_t, std::string>> goroutine_headers(const std::string& text) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::regex header("(^|\n)goroutine ([0-9]+) \\[([^\n]*)\\]:\n");
  for (std::sregex_iterator it(text.begin(), text.end(), header), end; it != end; ++it) {
    out.emplace_back(std::stoull((*it)[2].str()), (*it)[3].str());
  }
  return out;
}

// The block of goroutine `id`: its header up to the blank line that ends it.
std::string goroutine_block(const std::string& text, std::uint64_t id) {
  std::string header = "goroutine " + std::to_string(id) + " [";
  std::size_t at = text.rfind(header, 0) == 0 ? 0 : text.find("\n" + header);
  if (at == std::string::npos) return "";
  if (at != 0) ++at;
  std::size_t end = text.find("\n\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
}

// The ID of the goroutine whose header's bracket starts with `status`.
std::optional<std::uint64_t> goroutine_in(const std::string& text, const std::string& status) {
  for (const auto& [id, what] : goroutine_headers(text)) {
    if (what.rfind(status, 0) == 0) return id;
  }
  return std::nullopt;
}

// --- functions the tracebacks must name (out of line, so they have frames) ------

// Loaded at run time: the compiler cannot see the null or the zero, so it
// keeps the access (a constant null store may become a trap instruction).
int* volatile g_null = nullptr;
volatile std::uintptr_t g_wild_address = 0x12345678;
volatile long g_one = 1;
volatile long g_zero = 0;
volatile long g_sink = 0;

// UBSan (in the ASan build) would report these itself before the hardware
// does; the fault is what is under test.
[[gnu::noinline]] __attribute__((no_sanitize("undefined"))) void store_through_nil() { *g_null = 1; }

[[gnu::noinline]] __attribute__((no_sanitize("undefined"))) void store_to_wild_address() {
  *reinterpret_cast<volatile int*>(g_wild_address) = 1;
}

[[gnu::noinline]] __attribute__((no_sanitize("undefined"))) void divide_by_zero() {
  // Both operands volatile: GCC turns 1 / x into a comparison, no division.
  g_sink = g_one / g_zero;
}

[[gnu::noinline]] void call_abort() {
  std::abort();
}

[[gnu::noinline]] void throw_boom() { throw std::runtime_error("boom"); }

[[gnu::noinline]] void receive_forever(goro::Chan<int> ch) { ch.recv(); }

[[gnu::noinline]] void lock_forever(goro::Mutex* mu) { mu->lock(); }

[[gnu::noinline]] void select_forever() { goro::select(); }

// Starts the goroutines a deadlock report must list: one in mu->lock() (mu
// is held), one in select() with no cases.
[[gnu::noinline]] void start_lock_and_select(goro::Mutex* mu) {
  goro::go([mu] { lock_forever(mu); });
  goro::go([] { select_forever(); });
}

// Waits until `n` goroutines other than the caller are parked with
// `reason`: a report taken later shows them in that state.
void await_parked(const std::string& reason, int n = 1) {
  bool parked = goro_test::eventually([&] {
    int found = 0;
    for (const auto& g : goro::debug::snapshot().goroutines) {
      if (!g.is_current && g.wait_reason == reason) ++found;
    }
    return found >= n;
  });
  if (!parked) {
    std::fprintf(stderr, "scenario setup: no goroutine parked in %s\n", reason.c_str());
    std::_Exit(125);
  }
}

// The main goroutine parks a goroutine in receive_forever, then runs
// `body` on a new goroutine and waits for the process to end.
[[noreturn]] void crash_beside_a_parked_goroutine(void (*body)()) {
  goro::run([body] {
    auto never = goro::make_chan<int>();
    goro::go([never] { receive_forever(never); });
    await_parked("chan receive");
    goro::go([body] { body(); });
    goro::sleep(goro_test::kPatience);
  });
  std::fprintf(stderr, "the crash did not end the process\n");
  std::exit(0);
}

// --- deadlock -----------------------------------------------------------------------

// Main blocks in a receive nobody will ever send to, after the others
// blocked in Mutex::lock and select(). `settle`: main sleeps first (the
// other case, a deadlock at once, has its own test below).
void deadlock(bool settle) {
  bound_by_alarm();
  goro::run([settle] {
    goro::Mutex mu;
    mu.lock();
    auto never = goro::make_chan<int>();
    start_lock_and_select(&mu);
    if (settle) goro::sleep(100ms);
    never.recv();
  });
  std::fprintf(stderr, "run() returned: no deadlock was reported\n");
}

GORO_TEST_SCENARIO(deadlock) { deadlock(true); }
GORO_TEST_SCENARIO(deadlock_at_once) { deadlock(false); }

TEST(DeadlockTest, AllGoroutinesAsleepIsFatalWithMainFirstThenEveryOther) {
  if (goro_test::kTsan) {
    GTEST_SKIP() << "TSan's background thread is a thread goro does not own: deadlock detection never fires";
  }
  ChildResult r = run_alone("deadlock");
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  // Go: the message, a blank line, main's goroutine first.
  EXPECT_EQ(r.err.rfind("fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\n", 0), 0u)
      << describe(r);

  auto headers = goroutine_headers(r.err);
  ASSERT_EQ(headers.size(), 3u) << describe(r);
  EXPECT_EQ(headers[0], (std::pair<std::uint64_t, std::string>{1, "chan receive"})) << describe(r);
  // Then the others by ID: the locker was started first.
  EXPECT_EQ(headers[1].second, "sync.Mutex.Lock") << describe(r);
  EXPECT_EQ(headers[2].second, "select (no cases)") << describe(r);
  EXPECT_LT(headers[1].first, headers[2].first) << describe(r);

  std::string locker = goroutine_block(r.err, headers[1].first);
  EXPECT_TRUE(matches(locker, "\n[^\n]*lock_forever\\(\\.\\.\\.\\)\n\t[^\n]*crash_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n"))
      << locker;
  EXPECT_TRUE(matches(locker, "\ncreated by [^\n]*start_lock_and_select in goroutine 1\n\t[^\n]*crash_test\\.cc:[0-9]+ "
                              "\\+0x[0-9a-f]+\n$"))
      << locker;
  std::string selector = goroutine_block(r.err, headers[2].first);
  EXPECT_TRUE(matches(selector, "\n[^\n]*select_forever\\(\\.\\.\\.\\)\n")) << selector;
  EXPECT_TRUE(matches(selector, "\ncreated by [^\n]*start_lock_and_select in goroutine 1\n\t[^\n]*\n$")) << selector;

  // Blocks are separated by one blank line, and the report ends with the last.
  for (std::size_t i = 1; i < headers.size(); ++i) {
    EXPECT_TRUE(contains(r.err, "\n\ngoroutine " + std::to_string(headers[i].first) + " [")) << describe(r);
  }
  EXPECT_FALSE(contains(r.err, "\n\n\n")) << describe(r);
  EXPECT_FALSE(contains(r.err, "run() returned")) << describe(r);
}

// A program that deadlocks right after goro::run starts is reported too:
// goro's own threads (the SIGQUIT reporter included) are registered before
// anything can see them, and a check that found a foreign thread looks again
// every 100 ms. (It once missed 3 runs in 60 under CPU contention.)
TEST(DeadlockTest, ADeadlockRightAtStartIsAlwaysReported) {
  if (goro_test::kTsan) GTEST_SKIP() << "detection is off under TSan (its background thread)";
  int missed = 0;
  std::string last;
  for (int i = 0; i < 30; ++i) {
    ScopedEnv quick{{"GORO_TEST_ALARM_SECONDS", "3"}};
    ChildResult r = run_alone("deadlock_at_once");
    if (!exited_with(r, 2)) {
      ++missed;
      last = describe(r);
    }
  }
  EXPECT_EQ(missed, 0) << last;
}

// The others block for good while main sleeps: the pending timer can still
// wake main, so this is no deadlock (as in Go).
GORO_TEST_SCENARIO(blocked_while_main_sleeps) {
  bound_by_alarm();
  int code = goro::run([] {
    goro::Mutex mu;
    mu.lock();
    start_lock_and_select(&mu);
    goro::sleep(200ms);
    return 0;
  });
  std::exit(code);
}

TEST(DeadlockTest, NoReportWhileATimerIsPending) {
  if (goro_test::kTsan) GTEST_SKIP() << "detection is off under TSan (its background thread)";
  ChildResult r = run_alone("blocked_while_main_sleeps");
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_FALSE(contains(r.err, "deadlock")) << describe(r);
}

// Main blocks in a receive that only a plain thread's send ends: while the
// thread exists, goro cannot know that nobody will wake main.
GORO_TEST_SCENARIO(woken_by_a_plain_thread) {
  bound_by_alarm();
  auto ch = goro::make_chan<int>();
  std::thread sender([ch] {
    std::this_thread::sleep_for(300ms);
    ch.send(7);
  });
  int got = goro::run([ch] {
    goro::Mutex mu;
    mu.lock();
    start_lock_and_select(&mu);
    return ch.recv().value;
  });
  sender.join();
  std::exit(got == 7 ? 0 : 1);
}

TEST(DeadlockTest, NoReportWhileAPlainThreadExists) {
  if (goro_test::kTsan) GTEST_SKIP() << "detection is off under TSan (its background thread)";
  ChildResult r = run_alone("woken_by_a_plain_thread");
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_FALSE(contains(r.err, "deadlock")) << describe(r);
}

// The deadlock of the "deadlock" scenario, with detection off: nothing is
// reported, and a timer signal (not a thread, which would itself keep
// detection off) ends the process after 300 ms.
void end_process_in_300ms() {
  signal(SIGALRM, [](int) { _exit(0); });
  itimerval t{};
  t.it_value.tv_usec = 300'000;
  setitimer(ITIMER_REAL, &t, nullptr);
}

[[noreturn]] void deadlock_ended_by_timer_signal() {
  goro::run([] {
    goro::Mutex mu;
    mu.lock();
    auto never = goro::make_chan<int>();
    start_lock_and_select(&mu);
    never.recv();
  });
  std::fprintf(stderr, "run() returned\n");
  std::exit(1);
}

GORO_TEST_SCENARIO(deadlock_with_detection_off_by_env) {
  end_process_in_300ms();
  deadlock_ended_by_timer_signal();
}

GORO_TEST_SCENARIO(deadlock_with_detection_off_by_call) {
  bool was = goro::debug::set_deadlock_detection(false);
  if (!was) std::fprintf(stderr, "detection was off before set_deadlock_detection(false)\n");
  end_process_in_300ms();
  deadlock_ended_by_timer_signal();
}

TEST(DeadlockTest, NoReportWithGORO_DEADLOCK0) {
  if (goro_test::kTsan) GTEST_SKIP() << "detection is off under TSan (its background thread)";
  ChildResult r = run_alone("deadlock_with_detection_off_by_env", "0");
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_FALSE(contains(r.err, "deadlock")) << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
}

TEST(DeadlockTest, NoReportAfterSetDeadlockDetectionFalse) {
  if (goro_test::kTsan) GTEST_SKIP() << "detection is off under TSan (its background thread)";
  ChildResult r = run_alone("deadlock_with_detection_off_by_call");
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_FALSE(contains(r.err, "deadlock")) << describe(r);
  EXPECT_EQ(r.err, "") << describe(r);
}

// --- hardware faults ------------------------------------------------------------------

GORO_TEST_SCENARIO(nil_dereference) { crash_beside_a_parked_goroutine(store_through_nil); }
GORO_TEST_SCENARIO(wild_address) { crash_beside_a_parked_goroutine(store_to_wild_address); }
GORO_TEST_SCENARIO(divide_by_zero) { crash_beside_a_parked_goroutine(divide_by_zero); }

// The faulting goroutine's block: header, the faulting function first (the
// pc of the faulting instruction itself), created by the main goroutine.
void expect_faulting_goroutine_first(const std::string& err, const std::string& function) {
  EXPECT_TRUE(matches(err, "\\]\n\ngoroutine [0-9]+ \\[running\\]:\n[^\n]*" + function +
                               "\\(\\.\\.\\.\\)\n\t[^\n]*crash_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n"))
      << err;
  EXPECT_TRUE(matches(err, "\ncreated by [^\n]*crash_beside_a_parked_goroutine[^\n]* in goroutine 1\n")) << err;
}

TEST(FaultTest, NilDereferenceIsGosNilPointerPanic) {
  ChildResult r = run_with_traceback("nil_dereference", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  // Go prints hex(addr): "0x0" for a zero address (printf's %#lx says "0").
  EXPECT_TRUE(matches(r.err,
                      "^panic: runtime error: invalid memory address or nil pointer dereference\n"
                      "\\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x[0-9a-f]+\\]\n"
                      "\n"
                      "goroutine [0-9]+ \\[running\\]:\n"))
      << describe(r);
  expect_faulting_goroutine_first(r.err, "store_through_nil");
  // A panic, not a fatal error: only the panicking goroutine (GOTRACEBACK=single).
  EXPECT_EQ(goroutine_headers(r.err).size(), 1u) << describe(r);
}

TEST(FaultTest, WildAddressIsUnexpectedFaultAddressAndFatal) {
  ChildResult r = run_with_traceback("wild_address", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_TRUE(matches(r.err,
                      "^unexpected fault address 0x12345678\n"
                      "fatal error: fault\n"
                      "\\[signal SIGSEGV: segmentation violation code=0x[0-9a-f]+ addr=0x12345678 pc=0x[0-9a-f]+\\]\n"
                      "\n"
                      "goroutine [0-9]+ \\[running\\]:\n"))
      << describe(r);
  expect_faulting_goroutine_first(r.err, "store_to_wild_address");
  // A fatal error: every goroutine follows, as in Go.
  EXPECT_TRUE(goroutine_in(r.err, "chan receive").has_value()) << describe(r);
  EXPECT_TRUE(contains(r.err, "\n\ngoroutine 1 [")) << describe(r);
}

TEST(FaultTest, IntegerDivideByZeroIsGosDividePanic) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "integer division by zero traps only on x86-64 (aarch64 returns 0)";
#endif
  ChildResult r = run_with_traceback("divide_by_zero", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_TRUE(matches(r.err,
                      "^panic: runtime error: integer divide by zero\n"
                      "\\[signal SIGFPE: floating-point exception code=0x1 addr=0x[0-9a-f]+ pc=0x[0-9a-f]+\\]\n"
                      "\n"
                      "goroutine [0-9]+ \\[running\\]:\n"))
      << describe(r);
  expect_faulting_goroutine_first(r.err, "divide_by_zero");
  EXPECT_EQ(goroutine_headers(r.err).size(), 1u) << describe(r);
}

// --- abort() -------------------------------------------------------------------------

GORO_TEST_SCENARIO(abort_in_goroutine) {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  crash_beside_a_parked_goroutine(call_abort);
}

TEST(AbortTest, AbortInAGoroutineIsGosSIGABRTReportWithEveryGoroutine) {
  ChildResult r = run_with_traceback("abort_in_goroutine", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_TRUE(matches(r.err, "^SIGABRT: abort\nPC=0x[0-9a-f]+ m=[0-9]+ sigcode=[0-9-]+\n\ngoroutine [0-9]+ \\[running\\]:\n"))
      << describe(r);
  EXPECT_TRUE(matches(r.err, "\ncreated by [^\n]*crash_beside_a_parked_goroutine[^\n]* in goroutine 1\n")) << describe(r);
  // Every goroutine follows, as in Go.
  EXPECT_TRUE(goroutine_in(r.err, "chan receive").has_value()) << describe(r);
  EXPECT_TRUE(contains(r.err, "\n\ngoroutine 1 [")) << describe(r);
}

// The signal lands in libc (pthread_kill, raise, abort keep no frame
// pointers): the report unwinds with DWARF from the handler through the
// signal frame, so the function that called abort() is there.
TEST(AbortTest, TracebackNamesTheFunctionThatCalledAbort) {
  ChildResult r = run_with_traceback("abort_in_goroutine", std::nullopt);
  EXPECT_TRUE(matches(r.err, "\\[running\\]:\n(([^\n]*\n\t[^\n]*\n)){0,4}[^\n]*call_abort\\(\\.\\.\\.\\)\n\t[^\n]*crash_test\\.cc:[0-9]+"))
      << describe(r);
}

// Go prints sigcode as an unsigned 64-bit number: abort()'s SI_TKILL (-6)
// is "sigcode=18446744073709551610" in Go's reports.
TEST(AbortTest, SigcodeIsPrintedUnsignedAsGoDoes) {
  ChildResult r = run_with_traceback("abort_in_goroutine", std::nullopt);
  EXPECT_TRUE(matches(r.err, "^SIGABRT: abort\nPC=0x[0-9a-f]+ m=[0-9]+ sigcode=18446744073709551610\n")) << describe(r);
}

// --- GOTRACEBACK ------------------------------------------------------------------------

GORO_TEST_SCENARIO(panic_beside_a_parked_goroutine) { crash_beside_a_parked_goroutine(throw_boom); }

constexpr const char* kBoom = "panic: (std::runtime_error) boom\n";

TEST(TracebackLevelTest, SingleShowsOnlyThePanickingGoroutine) {
  ChildResult r = run_with_traceback("panic_beside_a_parked_goroutine", "single");
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_EQ(r.err.rfind(std::string(kBoom) + "\ngoroutine ", 0), 0u) << describe(r);
  auto headers = goroutine_headers(r.err);
  ASSERT_EQ(headers.size(), 1u) << describe(r);
  EXPECT_EQ(headers[0].second, "running") << describe(r);
}

TEST(TracebackLevelTest, SingleIsTheDefault) {
  ChildResult r = run_with_traceback("panic_beside_a_parked_goroutine", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_EQ(goroutine_headers(r.err).size(), 1u) << describe(r);
}

void expect_every_goroutine(const ChildResult& r) {
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_EQ(r.err.rfind(std::string(kBoom) + "\ngoroutine ", 0), 0u) << describe(r);
  auto headers = goroutine_headers(r.err);
  ASSERT_GE(headers.size(), 3u) << describe(r);  // the panicking one, main, the receiver
  EXPECT_EQ(headers[0].second, "running") << describe(r);
  std::optional<std::uint64_t> receiver = goroutine_in(r.err, "chan receive");
  ASSERT_TRUE(receiver.has_value()) << describe(r);
  std::string block = goroutine_block(r.err, *receiver);
  EXPECT_TRUE(matches(block, "\n[^\n]*receive_forever\\(\\.\\.\\.\\)\n\t[^\n]*crash_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n"))
      << block;
  EXPECT_TRUE(contains(r.err, "\n\ngoroutine 1 [")) << describe(r);
}

TEST(TracebackLevelTest, AllShowsEveryGoroutine) {
  expect_every_goroutine(run_with_traceback("panic_beside_a_parked_goroutine", "all"));
}

TEST(TracebackLevelTest, GOTRACEBACKIsReadWhenGORO_TRACEBACKIsUnset) {
  expect_every_goroutine(run_with_traceback("panic_beside_a_parked_goroutine", std::nullopt, "all"));
}

TEST(TracebackLevelTest, NoneKeepsThePanicLineAndDropsEveryTraceback) {
  ChildResult r = run_with_traceback("panic_beside_a_parked_goroutine", "none");
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_EQ(r.err.rfind(kBoom, 0), 0u) << describe(r);
  EXPECT_FALSE(contains(r.err, "goroutine ")) << describe(r);
}

// --- SIGQUIT ----------------------------------------------------------------------------

GORO_TEST_SCENARIO(sigquit) {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  // goro takes SIGQUIT only from the default action, and a shell starts
  // background jobs with SIGQUIT ignored (inherited through exec).
  signal(SIGQUIT, SIG_DFL);
  goro::run([] {
    auto never = goro::make_chan<int>();
    goro::go([never] { receive_forever(never); });
    await_parked("chan receive");
    kill(getpid(), SIGQUIT);
    goro::sleep(goro_test::kPatience);
  });
  std::fprintf(stderr, "SIGQUIT did not end the process\n");
  std::exit(0);
}

TEST(SigquitTest, DumpsEveryGoroutineAndExits2) {
  if (goro_test::kTsan) {
    GTEST_SKIP() << "TSan runs an asynchronous signal's handler at the receiving thread's next intercepted call; "
                    "goro's idle workers and its reporter wait in raw futex syscalls, so the report comes only "
                    "when the program next wakes";
  }
  ChildResult r = run_with_traceback("sigquit", std::nullopt);
  EXPECT_TRUE(exited_with(r, 2)) << describe(r);
  EXPECT_TRUE(matches(r.err, "^SIGQUIT: quit\nPC=0x[0-9a-f]+ m=[0-9]+ sigcode=0\n\ngoroutine [0-9]+ \\[")) << describe(r);
  std::optional<std::uint64_t> receiver = goroutine_in(r.err, "chan receive");
  ASSERT_TRUE(receiver.has_value()) << describe(r);
  EXPECT_TRUE(matches(goroutine_block(r.err, *receiver), "\n[^\n]*receive_forever\\(\\.\\.\\.\\)\n")) << describe(r);
  EXPECT_TRUE(contains(r.err, "goroutine 1 [")) << describe(r);
}

// The main goroutine runs inside kill() (a leaf without a frame of its own)
// when it is sampled: its caller comes from the return address at sp.
TEST(SigquitTest, TheRunningGoroutineShowsItsCallers) {
  if (goro_test::kTsan) GTEST_SKIP() << "see DumpsEveryGoroutineAndExits2";
  ChildResult r = run_with_traceback("sigquit", std::nullopt);
  EXPECT_TRUE(matches(goroutine_block(r.err, 1), "goro_test_scenario_sigquit")) << describe(r);
}

TEST(SigquitTest, GORO_SIGQUIT0LeavesTheDefaultAction) {
  ScopedEnv env{{"GORO_SIGQUIT", "0"}};
  ChildResult r = goro_test::run_scenario("sigquit");
  EXPECT_FALSE(r.exited) << describe(r);
  EXPECT_EQ(r.signal, SIGQUIT) << describe(r);
  EXPECT_FALSE(contains(r.err, "SIGQUIT: quit")) << describe(r);
}

// --- stack overflow ----------------------------------------------------------------------

volatile int g_never = 0x7fffffff;

// 2 KiB frames, as in tests/runtime/stacks_test.cc (TSan's shadow call
// stack holds only 64Ki frames).
[[gnu::noinline]] int recurse_forever(int depth) {
  char frame[2048];
  frame[0] = static_cast<char>(depth);
  asm volatile("" : : "r"(frame) : "memory");
  if (depth == g_never) return 0;
  int below = recurse_forever(depth + 1);
  asm volatile("" : : "r"(frame) : "memory");
  return below + frame[0];
}

GORO_TEST_SCENARIO(overflow_beside_a_parked_goroutine) {
  crash_beside_a_parked_goroutine([] { recurse_forever(0); });
}

TEST(StackOverflowTest, ReportsOnlyTheOverflowingGoroutine) {
  // Even with GOTRACEBACK=all: the goroutines below an unguarded stack may
  // have been run over, so their records are not read.
  for (const char* level : {"single", "all"}) {
    ChildResult r = run_with_traceback("overflow_beside_a_parked_goroutine", level);
    EXPECT_TRUE(exited_with(r, 2)) << level << ": " << describe(r);
    EXPECT_TRUE(matches(r.err, "\nfatal error: stack overflow\n\ngoroutine [0-9]+ \\[running\\]:\n[^\n]*recurse_forever"))
        << level << ": " << describe(r);
    auto headers = goroutine_headers(r.err);
    EXPECT_EQ(headers.size(), 1u) << level << ": " << describe(r);
    EXPECT_FALSE(contains(r.err, "[chan receive]")) << level << ": " << describe(r);
  }
}

}  // namespace
