// Deadlock detection, like Go's checkdead: "fatal error: all goroutines are
// asleep - deadlock!" when no goroutine can ever run again.
//
// Go can decide that exactly because every thread is its own. goro shares
// the process with plain threads that may wake a goroutine at any time (by
// sending on a channel, unlocking a mutex, or from inside a goro call), so
// it declares a deadlock only when all of these hold, twice, 10 ms apart,
// with no worker waking in between:
//  - a main goroutine (goro::run) exists: without one the program's own
//    threads are in charge;
//  - every active worker is idle and no goroutine is queued or running;
//  - no timer is pending (a timer can wake a goroutine, as in Go);
//  - the process has no thread besides goro's own (registered by thread ID:
//    names are no use, a thread inherits its creator's) and the one blocked
//    in goro::run: any other thread might still wake someone.
// The last worker to go idle asks for the check; the timer thread runs it,
// off every hot path. When only a foreign thread stood in the way, the timer
// thread looks again every 100 ms while everything stays idle: that thread
// may end without waking anybody. GORO_DEADLOCK=0 or set_deadlock_detection(false)
// turns it off.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <thread>

#include "runtime/config.h"
#include "runtime/fatal.h"
#include "runtime/futex.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

constexpr auto kConfirmDelay = std::chrono::milliseconds(10);

constexpr int kMaxRuntimeThreads = kMaxProcs + 8;
std::atomic<int> g_runtime_tids[kMaxRuntimeThreads];
std::atomic<int> g_nruntime_tids{0};

bool is_runtime_thread(int tid) noexcept {
  int n = std::min(g_nruntime_tids.load(std::memory_order_acquire), kMaxRuntimeThreads);
  for (int i = 0; i < n; ++i) {
    if (g_runtime_tids[i].load(std::memory_order_relaxed) == tid) return true;
  }
  return false;
}

// True when a thread other than goro's own and `except_tid` exists.
bool foreign_thread_exists(int except_tid) {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return true;  // cannot tell: assume someone could wake a goroutine
  bool found = false;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    int tid = std::atoi(e->d_name);
    if (tid != except_tid && !is_runtime_thread(tid)) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

void register_runtime_thread() noexcept {
  int i = g_nruntime_tids.fetch_add(1, std::memory_order_acq_rel);
  // Past the table (never: one entry per worker and helper thread), the
  // thread stays unknown, which only ever disables detection.
  if (i < kMaxRuntimeThreads) g_runtime_tids[i].store(static_cast<int>(gettid()), std::memory_order_release);
}

void Scheduler::request_deadlock_check() noexcept {
  if (!runtime_config().deadlock_detection.load(std::memory_order_relaxed)) return;
  if (run_caller_tid() == 0) return;
  // A pending timer will wake someone: the usual case of an idle program
  // (everybody sleeping or waiting with a timeout) costs no wake-up here.
  for (int i = 0, n = nprocs_.load(std::memory_order_acquire); i < n; ++i) {
    if (procs_[i]->timer0_when.load(std::memory_order_relaxed) != 0) return;
  }
  deadlock_check_requested_.store(true, std::memory_order_release);
  timer_kick_.store(1, std::memory_order_release);
  futex_wake(&timer_kick_);
}

bool Scheduler::nothing_can_run() const noexcept {
  if (exiting_.load(std::memory_order_acquire)) return false;
  int active = gomaxprocs_.load(std::memory_order_acquire);
  if (npidle_.load(std::memory_order_seq_cst) < active) return false;
  if (globrunq_.maybe_nonempty()) return false;
  int created = nprocs_.load(std::memory_order_acquire);
  for (int i = 0; i < created; ++i) {
    const Processor* p = procs_[i];
    if (p->timer0_when.load(std::memory_order_acquire) != 0) return false;
    if (i < active && (!p->runq.empty() || p->runnext.load(std::memory_order_acquire) != nullptr ||
                       p->current.load(std::memory_order_acquire) != nullptr)) {
      return false;
    }
  }
  return true;
}

bool Scheduler::check_deadlock() {
  enum class Verdict { kNo, kOnlyForeignThreads, kYes };
  auto verdict = [this] {
    int tid = run_caller_tid();
    if (!runtime_config().deadlock_detection.load(std::memory_order_relaxed) || tid == 0 || !nothing_can_run()) {
      return Verdict::kNo;
    }
    return foreign_thread_exists(tid) ? Verdict::kOnlyForeignThreads : Verdict::kYes;
  };
  std::uint64_t exits = idle_exits_.load(std::memory_order_acquire);
  Verdict v = verdict();
  if (v != Verdict::kYes) return v == Verdict::kOnlyForeignThreads;
  std::this_thread::sleep_for(kConfirmDelay);
  if (idle_exits_.load(std::memory_order_acquire) != exits) return false;
  v = verdict();
  if (v != Verdict::kYes) return v == Verdict::kOnlyForeignThreads;
  fatal_error_all_goroutines("all goroutines are asleep - deadlock!");
}

}  // namespace goro::detail
