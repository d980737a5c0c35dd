// Time sources of the runtime.
//
// nanotime() is the monotonic clock timers and sleeps use. coarse_nanotime()
// is the cheap clock used for wait-since stamps on every park: its resolution
// (a scheduler tick, a few ms) is far finer than dumps need ("N minutes"),
// and it costs a few ns from the vDSO instead of tens.
#pragma once

#include <cstdint>
#include <ctime>

namespace goro::detail {

inline std::int64_t nanotime() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t coarse_nanotime() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// now + d without signed overflow: far-future deadlines saturate.
inline std::int64_t deadline_after(std::int64_t now, std::int64_t d) noexcept {
  std::int64_t when;
  if (__builtin_add_overflow(now, d, &when)) return INT64_MAX;
  return when;
}

}  // namespace goro::detail
