// main() of every runtime test binary: GoogleTest plus a per-test watchdog.
//
// A scheduler bug usually shows as a hang (a goroutine never readied, a
// WaitGroup never released). Polling waits are bounded by eventually(); the
// watchdog bounds everything else: a test still running after its limit
// prints its name and aborts the process, instead of sitting until CTest's
// TIMEOUT kills it without saying which test hung.
//
// It also runs child-process scenarios: `BINARY --goro-scenario NAME` runs
// the function registered with GORO_TEST_SCENARIO(NAME) instead of the tests
// (see goro_test::run_scenario in test_support.h).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "test_support.h"

namespace {

// The watchdog's state outlives the listener (GoogleTest deletes listeners
// at exit while the watchdog thread still runs): allocated once, never freed.
struct WatchdogState {
  std::chrono::seconds limit;
  std::atomic<std::int64_t> deadline_ns{0};  // 0: no test running
  std::atomic<const ::testing::TestInfo*> test{nullptr};
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void watchdog_loop(WatchdogState* st) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::int64_t deadline = st->deadline_ns.load(std::memory_order_acquire);
    if (deadline != 0 && now_ns() > deadline) {
      // TestInfo objects live as long as the process: reading the names
      // cannot race with the next test starting.
      const ::testing::TestInfo* t = st->test.load(std::memory_order_relaxed);
      std::fprintf(stderr, "\n[watchdog] %s.%s still running after %lld s: aborting (a hang?)\n",
                   t->test_suite_name(), t->name(), static_cast<long long>(st->limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  }
}

class Watchdog : public ::testing::EmptyTestEventListener {
 public:
  explicit Watchdog(std::chrono::seconds limit) : st_(new WatchdogState{limit}) {
    std::thread(watchdog_loop, st_).detach();
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    st_->test.store(&info, std::memory_order_relaxed);
    st_->deadline_ns.store(now_ns() + std::chrono::nanoseconds(st_->limit).count(), std::memory_order_release);
  }
  void OnTestEnd(const ::testing::TestInfo&) override { st_->deadline_ns.store(0, std::memory_order_release); }

 private:
  WatchdogState* st_;
};

long watchdog_seconds() {
  long limit = goro_test::kSanitized ? 240 : 90;
  if (const char* v = std::getenv("GORO_TEST_WATCHDOG_SECONDS"); v != nullptr && *v != '\0') {
    limit = std::strtol(v, nullptr, 10);
  }
  return limit;
}

// Child processes (scenarios, death tests) get no per-test listener: one
// deadline for the whole child, so that a child that hangs ends and says so
// instead of outliving its killed parent.
void start_child_deadline(std::string what) {
  // Shorter than the parent's per-test limit, so that the child ends first
  // and the parent reports the failed test with the child's last words
  // (while a death test runs, the parent's own stderr is captured).
  long limit = watchdog_seconds() * 4 / 5;
  if (limit <= 0) return;
  std::thread([limit, what = std::move(what)] {
    std::this_thread::sleep_for(std::chrono::seconds(limit));
    std::fprintf(stderr, "\n[watchdog] %s still running after %ld s: aborting (a hang?)\n", what.c_str(), limit);
    std::fflush(stderr);
    std::abort();
  }).detach();
}

// In a scenario child: run the scenario (which usually ends the process
// itself), under a deadline.
int run_scenario_here(const char* name) {
  auto it = goro_test::scenarios().find(name);
  if (it == goro_test::scenarios().end()) {
    std::fprintf(stderr, "no scenario named %s\n", name);
    return 125;
  }
  start_child_deadline(std::string("scenario ") + name);
  it->second();
  return 0;
}

}  // namespace

namespace goro_test {

ChildResult run_scenario(const std::string& name) {
  ChildResult r;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::string self = "/proc/self/exe";
  const char* argv[] = {self.c_str(), "--goro-scenario", name.c_str(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    r.err = std::string("posix_spawn: ") + std::strerror(rc);
    return r;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n > 0) {
      r.err.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace goro_test

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--goro-scenario") == 0) return run_scenario_here(argv[2]);
  ::testing::InitGoogleTest(&argc, argv);
  // Death tests: goro's worker threads exist as soon as one goroutine ran,
  // and forking a threaded process is unsafe; "threadsafe" re-executes the
  // binary and runs only the death test's statement in the child.
  GTEST_FLAG_SET(death_test_style, "threadsafe");

  // In a death test's child, GoogleTest runs no listeners: a deadline instead.
  if (std::string child = GTEST_FLAG_GET(internal_run_death_test); !child.empty()) {
    start_child_deadline("death test child (" + child + ")");
  } else if (long limit = watchdog_seconds(); limit > 0) {
    ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog(std::chrono::seconds(limit)));
  }
  return RUN_ALL_TESTS();
}
