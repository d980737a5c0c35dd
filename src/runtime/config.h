// Runtime settings from the environment and the API, read once at start-up.
//
//   GORO_MAXPROCS    number of worker threads (default: CPUs in the affinity mask)
//   GORO_STACK_SIZE  bytes per goroutine stack slot, with an optional K/M/G
//                    suffix (default 256K; at least 16K, at most 1G)
// Invalid values are reported on stderr and the default is used.
#pragma once

#include <cstddef>

namespace goro::detail {

struct RuntimeConfig {
  int maxprocs;
  std::size_t stack_size;
  int ncpu;  // CPUs this process may use (the affinity mask), never < 1
};

// Defaults, overridden by the environment, overridden by calls made before
// the scheduler started (set_stack_size, set_maxprocs).
RuntimeConfig& runtime_config();

// n rounded up to a multiple of the system page size (stack slots must be
// page-aligned for their guard pages and madvise).
std::size_t round_to_pages(std::size_t n) noexcept;

// Parses a size such as "262144", "256K", "1M". Returns 0 when invalid.
std::size_t parse_size(const char* text) noexcept;

}  // namespace goro::detail
