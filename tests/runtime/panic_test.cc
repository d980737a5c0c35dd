// Panics: an exception escaping a goroutine ends the process like an
// unrecovered Go panic -- "panic: ..." and the goroutine's traceback on
// stderr, exit status 2. Exceptions that are caught inside the goroutine are
// ordinary C++ exceptions, even when the goroutine blocks while handling one.
//
// Every test here runs its scenario in a child process (a "threadsafe" death
// test re-executes this binary and runs only that test), so a crash shows as
// a failed expectation instead of taking the other tests down.
//
// Death-test regexes are POSIX extended (GoogleTest on Linux); checks they
// cannot express run the scenario with goro_test::run_scenario and examine
// its stderr in C++.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/test_support.h"

namespace panic_test {
// A user exception type, for the "(TYPE) what()" notation.
struct DiskFull : std::exception {
  const char* what() const noexcept override { return "disk full"; }
};
}  // namespace panic_test

namespace {

using ::testing::ExitedWithCode;

// Compiled out of line so that the traceback has a frame of this name.
[[gnu::noinline]] void throw_boom() { throw std::runtime_error("boom"); }

[[gnu::noinline]] void throw_boom_as_goroutine_says_who() {
  std::fprintf(stderr, "thrower is goroutine %llu\n", static_cast<unsigned long long>(goro::id()));
  throw_boom();
}

[[gnu::noinline]] void misuse_wait_group() {
  goro::WaitGroup wg;
  wg.add(-1);  // goro::Error("sync: negative WaitGroup counter")
}

[[gnu::noinline]] void throw_disk_full() { throw panic_test::DiskFull(); }

std::atomic<int> g_spawned{0};

// The function whose go() call creates the panicking goroutine; go() is not
// its last call (see the next one).
[[gnu::noinline]] void start_panicking_goroutine(void (*body)()) {
  goro::go([body] { body(); });
  g_spawned.fetch_add(1);
}

// The usual shape: go() is the function's last statement, which compilers
// like to turn into a tail call (a jump). "created by" must still name this
// function, the one containing the go() call, as Go does.
[[gnu::noinline]] void start_panicking_goroutine_last(void (*body)()) {
  goro::go([body] { body(); });
}

// Child-process scenario: the main goroutine starts `body` on a goroutine
// and blocks; the panic must end the process before anything else happens.
[[noreturn]] void panic_in_goroutine(void (*body)(), void (*start)(void (*)()) = start_panicking_goroutine) {
  goro::run([body, start] {
    goro::WaitGroup forever;
    forever.add(1);
    start(body);
    forever.wait();
  });
  std::fprintf(stderr, "run() returned: the panic did not end the process\n");
  std::exit(0);
}

[[noreturn]] void panic_in_goroutine_started_by_a_plain_thread(void (*body)()) {
  std::thread([body] { start_panicking_goroutine(body); }).join();
  goro::sleep(std::chrono::seconds(30));  // the panic ends the process meanwhile
  std::fprintf(stderr, "the panic did not end the process\n");
  std::exit(0);
}

GORO_TEST_SCENARIO(panic_saying_who) { panic_in_goroutine(throw_boom_as_goroutine_says_who); }
GORO_TEST_SCENARIO(panic_from_plain_thread_goroutine) { panic_in_goroutine_started_by_a_plain_thread(throw_boom); }

// The first line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::size_t at = text.rfind(prefix, 0) == 0 ? 0 : text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  if (at != 0) ++at;
  return text.substr(at, text.find('\n', at) - at);
}

// --- the panic report ----------------------------------------------------------

TEST(PanicDeathTest, ExceptionEscapingAGoroutineExitsWithStatus2AndPrintsPanic) {
  EXPECT_EXIT(panic_in_goroutine(throw_boom), ExitedWithCode(2),
              "panic: \\(std::runtime_error\\) boom\n"
              "\n"
              "goroutine [0-9]+ \\[running\\]:\n");
}

TEST(PanicDeathTest, HeaderNamesThePanickingGoroutine) {
  // The goroutine prints its own ID, then throws: the traceback header must
  // carry that ID (not, say, the goroutine that ran last on the worker).
  goro_test::ChildResult r = goro_test::run_scenario("panic_saying_who");
  EXPECT_TRUE(r.exited && r.exit_code == 2) << "exit " << r.exit_code << " signal " << r.signal;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("thrower is goroutine ([0-9]+)\n"))) << r.err;
  EXPECT_NE(r.err.find("panic: (std::runtime_error) boom\n\ngoroutine " + m[1].str() + " [running]:\n"),
            std::string::npos)
      << r.err;
}

TEST(PanicDeathTest, FrameOffsetsAreSmallAndRelativeToTheirFunction) {
  // Go prints "+0xNN" as the pc's offset from its function's entry. In the
  // scenario, throw_boom_as_goroutine_says_who ends with a call to
  // throw_boom (which never returns), so its return address lies just past
  // its end: the offset must still be computed from the call (pc - 1).
  goro_test::ChildResult r = goro_test::run_scenario("panic_saying_who");
  ASSERT_NE(r.err.find("throw_boom_as_goroutine_says_who(...)\n"), std::string::npos) << r.err;
  std::regex offset("\t[^\n]* \\+0x([0-9a-f]+)\n");
  int frames = 0;
  for (std::sregex_iterator it(r.err.begin(), r.err.end(), offset), end; it != end; ++it) {
    ++frames;
    EXPECT_LT(std::stoull((*it)[1].str(), nullptr, 16), 0x10000u) << "implausible offset in " << (*it)[0] << r.err;
  }
  EXPECT_GE(frames, 3) << r.err;
}

TEST(PanicDeathTest, TracebackShowsTheThrowingFunctionFirst) {
  // Go's traceback starts where the panic happened. The first frame line
  // after the header must be the throwing function, in Go's frame format
  // ("name(...)" then a tab-indented "file:line +0xoff").
  EXPECT_EXIT(panic_in_goroutine(throw_boom), ExitedWithCode(2),
              "goroutine [0-9]+ \\[running\\]:\n"
              "[^\n]*throw_boom\\(\\.\\.\\.\\)\n"
              "\t[^\n]*panic_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n");
}

TEST(PanicDeathTest, TracebackSaysWhichFunctionAndGoroutineCreatedIt) {
  // In the child this is the first run(): the main goroutine is goroutine 1.
  EXPECT_EXIT(panic_in_goroutine(throw_boom), ExitedWithCode(2),
              "\ncreated by [^\n]*start_panicking_goroutine in goroutine 1\n"
              "\t[^\n]*panic_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n");
}

TEST(PanicDeathTest, CreatedByNamesTheFunctionEvenWhenGoIsItsLastCall) {
  EXPECT_EXIT(panic_in_goroutine(throw_boom, start_panicking_goroutine_last), ExitedWithCode(2),
              "\ncreated by [^\n]*start_panicking_goroutine_last in goroutine 1\n"
              "\t[^\n]*panic_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n");
}

TEST(PanicDeathTest, GoroutineStartedByAPlainThreadHasNoCreatorGoroutine) {
  // Go prints "created by F in goroutine N"; a goroutine started by a plain
  // thread has no creating goroutine, so just "created by F".
  goro_test::ChildResult r = goro_test::run_scenario("panic_from_plain_thread_goroutine");
  EXPECT_TRUE(r.exited && r.exit_code == 2) << "exit " << r.exit_code << " signal " << r.signal;
  std::string created_by = line_starting(r.err, "created by ");
  EXPECT_NE(created_by.find("start_panicking_goroutine"), std::string::npos) << r.err;
  EXPECT_EQ(created_by.find(" in goroutine"), std::string::npos) << r.err;
}

TEST(PanicDeathTest, GoroErrorPrintsGosMessageBare) {
  // goro's own errors carry Go's panic text: no "(TYPE)" prefix.
  EXPECT_EXIT(panic_in_goroutine(misuse_wait_group), ExitedWithCode(2),
              "panic: sync: negative WaitGroup counter\n"
              "\n"
              "goroutine [0-9]+ \\[running\\]:\n");
}

TEST(PanicDeathTest, OtherExceptionTypesPrintTheirTypeAndWhat) {
  EXPECT_EXIT(panic_in_goroutine(throw_disk_full), ExitedWithCode(2),
              "panic: \\(panic_test::DiskFull\\) disk full\n\ngoroutine [0-9]+ \\[running\\]:\n");
}

TEST(PanicDeathTest, TracebackNamesTheThrowerWhenTheThrowIsItsLastInstruction) {
  // throw_disk_full has nothing to clean up: its call to __cxa_throw is its
  // last instruction, so the return address is the first byte of whatever
  // function follows. Frames must be named from the call (pc - 1), as their
  // file:line already are.
  EXPECT_EXIT(panic_in_goroutine(throw_disk_full), ExitedWithCode(2),
              "goroutine [0-9]+ \\[running\\]:\n"
              "[^\n]*throw_disk_full\\(\\.\\.\\.\\)\n"
              "\t[^\n]*panic_test\\.cc:[0-9]+ \\+0x[0-9a-f]+\n");
}

TEST(PanicDeathTest, ExceptionEscapingTheMainGoroutineIsAPanicToo) {
  EXPECT_EXIT(
      {
        goro::run([] { throw std::logic_error("bad main"); });
        std::exit(0);
      },
      ExitedWithCode(2),
      "panic: \\(std::logic_error\\) bad main\n"
      "\n"
      "goroutine 1 \\[running\\]:\n");
}

TEST(PanicDeathTest, ExceptionEscapingTheMainGoroutineShowsTheThrowingFunction) {
  EXPECT_EXIT(
      {
        goro::run([] { throw_boom(); });
        std::exit(0);
      },
      ExitedWithCode(2), "goroutine 1 \\[running\\]:\n[^\n]*throw_boom\\(\\.\\.\\.\\)\n");
}

TEST(PanicDeathTest, APanicAfterBlockingAndMigratingIsStillReported) {
  // The goroutine parks a few times (it may resume on another worker)
  // before throwing: the report is about it, wherever it runs now.
  EXPECT_EXIT(panic_in_goroutine([] {
                for (int i = 0; i < 20; ++i) {
                  goro::yield();
                  goro::sleep(std::chrono::microseconds(200));
                }
                throw_boom();
              }),
              ExitedWithCode(2), "panic: \\(std::runtime_error\\) boom\n\ngoroutine [0-9]+ \\[running\\]:\n");
}

// --- exceptions that do not escape ---------------------------------------------
// These run in a child too (exit status 0 = behaved), since getting them
// wrong typically ends in std::terminate.

TEST(ExceptionsDeathTest, CaughtInsideTheGoroutineAreNotPanics) {
  EXPECT_EXIT(
      {
        int caught = goro::run([] {
          std::atomic<int> n{0};
          goro::WaitGroup wg;
          wg.add(100);
          for (int i = 0; i < 100; ++i) {
            goro::go([&] {
              try {
                goro::yield();  // throw after a switch, maybe on another worker
                throw_boom();
              } catch (const std::runtime_error& e) {
                if (std::string(e.what()) == "boom") n.fetch_add(1);
              }
              wg.done();
            });
          }
          wg.wait();
          return n.load();
        });
        std::exit(caught == 100 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

TEST(ExceptionsDeathTest, AnExceptionBeingHandledSurvivesBlockingInItsCatchBlock) {
  // A goroutine may block inside a catch block (log, sleep, take a lock)
  // and then rethrow or inspect the exception: the exception being handled
  // belongs to the goroutine, not to the worker thread it ran on (C++ keeps
  // it in per-thread state, which must travel with the goroutine). Several
  // goroutines interleave their handlers on the same workers.
  EXPECT_EXIT(
      {
        int right = goro::run([] {
          constexpr int kN = 50;
          std::atomic<int> ok{0};
          goro::WaitGroup wg;
          wg.add(kN);
          for (int i = 0; i < kN; ++i) {
            goro::go([&, i] {
              try {
                throw std::runtime_error("mine " + std::to_string(i));
              } catch (...) {
                goro::yield();
                goro::sleep(std::chrono::milliseconds(1));
                try {
                  throw;  // rethrows the exception this goroutine is handling
                } catch (const std::runtime_error& e) {
                  if (std::string(e.what()) == "mine " + std::to_string(i)) ok.fetch_add(1);
                }
              }
              wg.done();
            });
          }
          wg.wait();
          return ok.load();
        });
        std::exit(right == 50 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

TEST(ExceptionsDeathTest, UncaughtExceptionsCountIsPerGoroutine) {
  // std::uncaught_exceptions() drives scope guards ("commit unless
  // unwinding"). A goroutine that blocks in a destructor during unwinding
  // must not make other goroutines on that worker think they are unwinding.
  EXPECT_EXIT(
      {
        int wrong = goro::run([] {
          std::atomic<int> bad{0};
          std::atomic<bool> unwinding_parked{false};
          goro::WaitGroup release, wg;
          release.add(1);
          wg.add(1);
          struct BlocksWhileUnwinding {
            std::atomic<bool>* parked;
            goro::WaitGroup* release;
            ~BlocksWhileUnwinding() {
              *parked = true;
              release->wait();
            }
          };
          goro::go([&] {
            try {
              BlocksWhileUnwinding guard{&unwinding_parked, &release};
              throw std::runtime_error("unwinding");
            } catch (const std::runtime_error&) {
            }
            wg.done();
          });
          goro_test::eventually([&] { return unwinding_parked.load(); });
          // Goroutines run now on the workers that goroutine may have used.
          goro::WaitGroup probes;
          probes.add(20);
          for (int i = 0; i < 20; ++i) {
            goro::go([&] {
              if (std::uncaught_exceptions() != 0) bad.fetch_add(1);
              probes.done();
            });
          }
          probes.wait();
          if (std::uncaught_exceptions() != 0) bad.fetch_add(1);
          release.done();
          wg.wait();
          return bad.load();
        });
        std::exit(wrong == 0 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

}  // namespace
