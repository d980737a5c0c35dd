// Runtime settings from the environment and the API, read once at start-up.
//
//   GORO_MAXPROCS    number of worker threads (default: CPUs in the affinity mask)
//   GORO_STACK_SIZE  bytes per goroutine stack slot, with an optional K/M/G
//                    suffix (default 256K; at least 16K, at most 1G)
//   GORO_DEADLOCK    0 turns deadlock detection off (default on)
//   GORO_TRACEBACK   like GOTRACEBACK (which is read when it is unset): none,
//                    single (default), all, system or crash; 0, 1, 2 too
//   GORO_SIGQUIT     0 leaves SIGQUIT alone (default: dump all goroutines
//                    and exit 2, like Go)
// Invalid values are reported on stderr and the default is used.
#pragma once

#include <atomic>
#include <cstddef>

namespace goro::detail {

// How much a dying program prints, like GOTRACEBACK.
enum class TracebackLevel : int {
  kNone = 0,    // no goroutine tracebacks
  kSingle = 1,  // the failing goroutine (fatal errors: every goroutine)
  kAll = 2,     // every goroutine
  kCrash = 3,   // every goroutine, then abort() for a core dump
};

struct RuntimeConfig {
  int maxprocs;
  std::size_t stack_size;
  int ncpu;  // CPUs this process may use (the affinity mask), never < 1
  std::atomic<bool> deadlock_detection{true};
  bool dump_on_sigquit = true;
  std::atomic<TracebackLevel> traceback{TracebackLevel::kSingle};
};

// Parses a GOTRACEBACK value; returns false when invalid.
bool parse_traceback(const char* text, TracebackLevel* out) noexcept;

// Defaults, overridden by the environment, overridden by calls made before
// the scheduler started (set_stack_size, set_maxprocs).
RuntimeConfig& runtime_config();

// n rounded up to a multiple of the system page size (stack slots must be
// page-aligned for their guard pages and madvise).
std::size_t round_to_pages(std::size_t n) noexcept;

// Parses a size such as "262144", "256K", "1M". Returns 0 when invalid.
std::size_t parse_size(const char* text) noexcept;

}  // namespace goro::detail
