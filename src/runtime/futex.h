// Thin wrappers over Linux futexes, used where the runtime needs a timed wait
// on a 32-bit word (idle workers, parked plain threads).
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::detail {

// Blocks while *word == expected, at most timeout_ns (< 0: no limit).
// Returns on a wake, a timeout, a signal or a changed value: callers recheck.
void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                std::int64_t timeout_ns = -1) noexcept;

// Wakes up to n threads blocked in futex_wait on word.
void futex_wake(std::atomic<std::uint32_t>* word, int n = 1) noexcept;

}  // namespace goro::detail
