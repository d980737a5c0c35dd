// Machine context of a goroutine: the saved stack pointer and the frame that
// goro_switch leaves on the stack.
//
// A goroutine that is not running is fully described by one pointer, its saved
// stack pointer: goro_switch pushed the callee-saved registers there. The
// layout is fixed per architecture (see context_switch_*.S) so that the debug
// stack walker can read the frame pointer and resume pc of a parked goroutine
// without stopping it.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// Saves the current context in *save_sp, resumes the one at load_sp, and
// returns `arg` there. Returns (in the saving context) whatever the context
// that later resumes it passes.
void* goro_switch(void** save_sp, void* load_sp, void* arg);
// The first instruction of every goroutine; never called directly.
void goro_entry_trampoline();
}

namespace goro::detail {

#if defined(__x86_64__)
inline constexpr std::size_t kSavedFrameSize = 8 * 8;      // 7 saved slots + return pc
inline constexpr std::size_t kSavedFpOffset = 0x30;
inline constexpr std::size_t kSavedPcOffset = 0x38;
#elif defined(__aarch64__)
inline constexpr std::size_t kSavedFrameSize = 160;
inline constexpr std::size_t kSavedFpOffset = 0x50;
inline constexpr std::size_t kSavedPcOffset = 0x58;
#endif

using GoroutineEntry = void (*)(void* g);

// Builds the first saved frame of a goroutine below stack_top so that the
// first goro_switch into it calls entry(arg) with a 16-byte aligned stack and
// a frame chain that ends there. Returns the saved stack pointer.
inline void* make_initial_context(void* stack_top, GoroutineEntry entry) {
  auto top = reinterpret_cast<std::uintptr_t>(stack_top) & ~std::uintptr_t{15};
  auto* frame = reinterpret_cast<std::uintptr_t*>(top - kSavedFrameSize);
  for (std::size_t i = 0; i < kSavedFrameSize / 8; ++i) frame[i] = 0;
#if defined(__x86_64__)
  // After `ret` pops the pc slot, rsp == top (16-byte aligned), so the
  // trampoline's call gives entry the aligned-minus-8 rsp the ABI expects.
  frame[0] = 0x1F80 | (std::uintptr_t{0x037F} << 32);  // default mxcsr, x87 cw
  frame[5] = reinterpret_cast<std::uintptr_t>(entry);   // rbx
  frame[7] = reinterpret_cast<std::uintptr_t>(&goro_entry_trampoline);
#elif defined(__aarch64__)
  frame[0] = reinterpret_cast<std::uintptr_t>(entry);   // x19
  frame[11] = reinterpret_cast<std::uintptr_t>(&goro_entry_trampoline);  // x30
#endif
  return frame;
}

}  // namespace goro::detail
