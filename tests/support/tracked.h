// An element type that counts its live instances, for tests proving that a
// channel operation neither leaks nor destroys twice the values it moves:
// record Tracked::live before, run, and expect the same count after.
#pragma once

#include <atomic>
#include <utility>

namespace goro_test {

struct Tracked {
  static inline std::atomic<long> live{0};
  int v = -1;  // -1: default-constructed (a closed channel's zero value) or moved from
  Tracked() noexcept { live.fetch_add(1); }
  explicit Tracked(int x) noexcept : v(x) { live.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v(std::exchange(o.v, -1)) { live.fetch_add(1); }
  Tracked(const Tracked& o) noexcept : v(o.v) { live.fetch_add(1); }
  Tracked& operator=(Tracked&& o) noexcept {
    v = std::exchange(o.v, -1);
    return *this;
  }
  Tracked& operator=(const Tracked&) noexcept = default;
  ~Tracked() { live.fetch_sub(1); }
};

}  // namespace goro_test
