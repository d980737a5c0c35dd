// GoogleTest checks on goroutines, shared by the channel, select and timer
// suites: whether a goroutine is parked with one of Go's wait reasons (read
// from its record with goro::detail::goroutine_state), and whether a call
// throws goro::Error with exactly Go's message.
#pragma once

#include <gtest/gtest.h>
#include <goro/goro.h>
#include <goro/detail/introspect.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "support/test_support.h"

namespace goro_test {

// A one-shot barrier: wait() blocks (parks with "chan receive") until open().
struct Gate {
  goro::Chan<goro::Empty> ch = goro::make_chan<goro::Empty>();
  void wait() const { ch.recv(); }
  void open() const { ch.close(); }
};

// Starts f on a new goroutine and returns the goroutine's ID. The ID travels
// through a shared_ptr dropped before f runs, so a goroutine that then
// blocks forever holds no heap memory.
template <class F>
std::uint64_t go_with_id(F f) {
  auto id = std::make_shared<std::atomic<std::uint64_t>>(0);
  goro::go([id, f = std::move(f)]() mutable {
    id->store(goro::id());
    id.reset();
    f();
  });
  // Yielding is enough on most runs; eventually() bounds the wait.
  for (int i = 0; i < 100 && id->load() == 0; ++i) goro::yield();
  eventually([&] { return id->load() != 0; });
  return id->load();
}

// "waiting (chan receive)", "running", "gone", ...
inline std::string describe(const std::optional<goro::detail::GoroutineState>& st) {
  if (!st) return "gone";
  return st->status + (st->wait_reason.empty() ? "" : " (" + st->wait_reason + ")");
}

// Whether goroutine `id` is parked now with Go's wait reason `reason`.
inline bool parked_as(std::uint64_t id, const std::string& reason) {
  auto st = goro::detail::goroutine_state(id);
  return st && st->status == "waiting" && st->wait_reason == reason;
}

inline ::testing::AssertionResult not_parked_as(std::uint64_t id, const std::string& reason) {
  return ::testing::AssertionFailure() << "goroutine " << id << " is " << describe(goro::detail::goroutine_state(id))
                                       << ", not waiting (" << reason << ")";
}

// Waits (bounded) until goroutine `id` is parked with `reason`.
inline ::testing::AssertionResult parks_with(std::uint64_t id, const std::string& reason) {
  if (eventually([&] { return parked_as(id, reason); })) return ::testing::AssertionSuccess();
  return not_parked_as(id, reason);
}

// Waits (bounded) until the goroutine whose ID lands in `gid` is parked with
// `reason` (for goroutines that publish their own ID).
inline ::testing::AssertionResult parks_with(const std::atomic<std::uint64_t>& gid, const std::string& reason) {
  eventually([&] { return gid.load() != 0; });
  return parks_with(gid.load(), reason);
}

// After a moment, goroutine `id` is still parked with `reason`: it was not
// woken by mistake.
inline ::testing::AssertionResult still_parked_with(std::uint64_t id, const std::string& reason) {
  goro::sleep(std::chrono::milliseconds(5));
  if (parked_as(id, reason)) return ::testing::AssertionSuccess();
  return not_parked_as(id, reason);
}

// fn throws goro::Error with exactly Go's message.
template <class F>
::testing::AssertionResult throws_go_error(F&& fn, const std::string& message) {
  try {
    fn();
  } catch (const goro::Error& e) {
    if (e.what() == message) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "threw \"" << e.what() << "\", expected \"" << message << "\"";
  }
  return ::testing::AssertionFailure() << "did not throw \"" << message << "\"";
}

}  // namespace goro_test
