// Time: goro::sleep (timers and channels of time arrive with issue 4).
//
//   goro::sleep(std::chrono::milliseconds(10));   // parks the goroutine: "sleep"
#pragma once

#include <chrono>
#include <cstdint>

namespace goro {

namespace detail {
void sleep_ns(std::int64_t ns);

// Converts any duration to nanoseconds, saturating instead of overflowing
// (hours::max() means "practically forever", not a negative number).
template <class Rep, class Period>
std::int64_t to_ns_saturated(std::chrono::duration<Rep, Period> d) noexcept {
  using std::chrono::duration;
  using std::chrono::nanoseconds;
  using Wide = duration<long double, std::nano>;
  long double ns = std::chrono::duration_cast<Wide>(d).count();
  if (ns >= static_cast<long double>(INT64_MAX)) return INT64_MAX;
  if (ns <= static_cast<long double>(INT64_MIN)) return INT64_MIN;
  return static_cast<std::int64_t>(ns);
}
}  // namespace detail

// Pauses the calling goroutine for at least d, like time.Sleep: the goroutine
// parks with wait reason "sleep" and its worker runs others. d <= 0 returns at
// once. On a plain thread the thread sleeps.
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  detail::sleep_ns(detail::to_ns_saturated(d));
}

}  // namespace goro
