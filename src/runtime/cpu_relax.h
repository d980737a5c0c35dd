// cpu_relax(): one spin-wait hint to the CPU (x86 PAUSE, arm64 YIELD), for
// the short spins of the runtime's locks and of sync's lock_slow: it saves
// power and lets the sibling hyper-thread (often the lock holder) run.
#pragma once

namespace goro::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace goro::detail
