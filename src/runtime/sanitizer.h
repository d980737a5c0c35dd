// Sanitizer annotations for stack switches.
//
// ASan must be told which stack is current (start/finish_switch_fiber) or it
// reports false stack-buffer overflows and loses fake stacks; TSan needs one
// fiber per goroutine so that its shadow call stacks and happens-before
// tracking follow the goroutine, not the worker thread. Every goro_switch is
// bracketed by these calls; in normal builds they compile to nothing.
#pragma once

#include <cstddef>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#endif

#if GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace goro::detail {

inline constexpr bool kUnderSanitizer =
#if GORO_ASAN || GORO_TSAN
    true;
#else
    false;
#endif

// ASan: call before switching to a stack [bottom, bottom+size). fake_stack_save
// receives the current fiber's fake stack; pass nullptr when the current
// fiber is finished for good.
inline void asan_start_switch(void** fake_stack_save, const void* bottom,
                              std::size_t size) noexcept {
#if GORO_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

// ASan: call first thing after a switch lands. Reports the stack we came from.
inline void asan_finish_switch(void* fake_stack, const void** bottom_old,
                               std::size_t* size_old) noexcept {
#if GORO_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
  (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

// ASan: forget stale poisoning of a recycled stack range.
inline void asan_unpoison(const void* addr, std::size_t size) noexcept {
#if GORO_ASAN
  __asan_unpoison_memory_region(addr, size);
#else
  (void)addr, (void)size;
#endif
}

inline void* tsan_current_fiber() noexcept {
#if GORO_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
inline void* tsan_create_fiber() noexcept {
#if GORO_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
inline void tsan_destroy_fiber(void* fiber) noexcept {
#if GORO_TSAN
  __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}
inline void tsan_switch_to_fiber(void* fiber) noexcept {
#if GORO_TSAN
  __tsan_switch_to_fiber(fiber, 0);
#else
  (void)fiber;
#endif
}

}  // namespace goro::detail
