// Time: sleep, and channels of time like Go's time package.
//
//   goro::sleep(std::chrono::milliseconds(10));   // parks the goroutine: "sleep"
//
//   goro::select(goro::recv(results, on_result),
//                goro::recv(goro::after(1s), [] { throw Timeout(); }));
//
//   goro::Ticker t(100ms);                        // stopped by its destructor
//   for (;;) { auto [now, ok] = t.C.recv(); ... }
//
// Timer and Ticker follow Go 1.23+: their channels never deliver a value
// prepared before a stop() or reset() returned, and len()/cap() of C are 0.
// Values are the time at which the timer fired (steady clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "goro/chan.h"

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

// What time channels carry: when the timer fired.
using Time = std::chrono::steady_clock::time_point;

namespace detail {
class TimerState;
RecvChan<Time> after_ns(std::int64_t ns);
RecvChan<Time> tick_ns(std::int64_t ns);
}  // namespace detail

// A channel that receives the time once, after d (Go's time.After). The
// timer is released once it fired, whether or not anyone received.
template <class Rep, class Period>
RecvChan<Time> after(std::chrono::duration<Rep, Period> d) {
  return detail::after_ns(detail::to_ns_saturated(d));
}

// A channel that receives the time every d (Go's time.Tick); ticks that
// nobody receives are dropped. d <= 0 gives the nil channel, as in Go. The
// ticker stops once the last handle to its channel is gone.
template <class Rep, class Period>
RecvChan<Time> tick(std::chrono::duration<Rep, Period> d) {
  return detail::tick_ns(detail::to_ns_saturated(d));
}

// A single event (Go's time.Timer): C receives the time once, d from now,
// unless stop() or reset() intervene. The destructor stops it.
class Timer {
 public:
  template <class Rep, class Period>
  explicit Timer(std::chrono::duration<Rep, Period> d) : Timer(detail::to_ns_saturated(d), 0) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Prevents the timer from firing. True if this call stopped it: it had not
  // fired, or its value had not been received yet (the value is discarded).
  // False if it already fired and was received, or was stopped.
  bool stop();
  // Re-arms the timer to fire d from now, discarding an unreceived value.
  // Returns what stop() would have.
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return reset_ns(detail::to_ns_saturated(d));
  }

  RecvChan<Time> C;  // receives the firing time

 private:
  Timer(std::int64_t ns, int);
  bool reset_ns(std::int64_t ns);
  std::unique_ptr<detail::TimerState> state_;
};

// Periodic ticks (Go's time.Ticker): C receives the time every d; ticks
// nobody receives are dropped (the next one comes on schedule). The
// destructor stops it. d <= 0 throws goro::Error("non-positive interval
// for NewTicker"), as Go panics.
class Ticker {
 public:
  template <class Rep, class Period>
  explicit Ticker(std::chrono::duration<Rep, Period> d) : Ticker(detail::to_ns_saturated(d), 0) {}
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // No more ticks after this returns; an unreceived tick is discarded.
  void stop();
  // Ticks every d from now on. d <= 0 throws goro::Error("non-positive
  // interval for Ticker.Reset").
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> d) {
    reset_ns(detail::to_ns_saturated(d));
  }

  RecvChan<Time> C;  // receives the tick times

 private:
  Ticker(std::int64_t ns, int);
  void reset_ns(std::int64_t ns);
  std::unique_ptr<detail::TimerState> state_;
};

}  // namespace goro
