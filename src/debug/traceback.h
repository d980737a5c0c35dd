// Go-style traceback text, shared by panics, fatal errors and (issue 6) dumps.
//
//   goroutine 7 [running]:
//   app::handler(...)
//   	/src/app.cc:42 +0x1d
//   created by app::serve in goroutine 1
//   	/src/app.cc:60 +0x88
//
// Frames of the runtime itself (goro::detail::, the entry trampoline) are
// hidden the way Go hides runtime frames. Long stacks keep the innermost and
// outermost 50 frames with "...N frames elided..." between, as Go does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace goro::detail {

struct G;

// Collects the return addresses of the calling stack by DWARF unwinding
// (works through code without frame pointers, e.g. libstdc++).
std::size_t unwind_current_stack(std::uintptr_t* pcs, std::size_t max);

// Collects return addresses by walking frame pointers from fp, staying inside
// [lo, hi). Async-signal-safe.
std::size_t walk_frame_pointers(std::uintptr_t fp, std::uintptr_t lo, std::uintptr_t hi,
                                std::uintptr_t* pcs, std::size_t max) noexcept;

// For a pc interrupted by a signal: a function that has not set up its
// frame yet (its first instruction) or never does (a leaf compiled without
// one) leaves its caller out of the frame-pointer chain, and the caller's
// return address is then the word at sp. Returns that word when it is one
// (the function at pc does not start with `push %rbp`, and the bytes before
// the word are a call instruction), else 0. x86-64 only (0 elsewhere).
// Symbolizes: not async-signal-safe.
std::uintptr_t leaf_return_address(std::uintptr_t pc, std::uintptr_t word_at_sp);

// Inserts leaf_return_address(pcs[0], word_at_sp) after pcs[0] when it is
// missing from the walk. Returns the new count (at most max).
std::size_t add_leaf_caller(std::uintptr_t* pcs, std::size_t n, std::size_t max, std::uintptr_t word_at_sp);

// True for frames goro hides, as Go hides runtime frames: goro::detail::*,
// the assembly entry points, the bodies of goro::go / goro::run, channel
// operations and select (statements in Go, runtime frames there), and
// std::invoke's call glue.
bool is_runtime_frame(const std::string& function);

// Appends "goroutine N [state]:\n".
void append_goroutine_header(std::string& out, const G& g, const char* state);
// Appends frames for pcs (pcs[0] is the current pc if first_is_pc, otherwise
// every entry is a return address).
void append_frames(std::string& out, const std::uintptr_t* pcs, std::size_t n, bool first_is_pc);
// Appends "created by F in goroutine N\n\tfile:line +0xoff\n" when known.
void append_created_by(std::string& out, const G& g);
void append_created_by(std::string& out, std::uintptr_t create_pc, std::uint64_t creator_id);
// The two halves of a created-by line around " in goroutine N":
// "created by F" and "\n\tfile:line +0xoff\n" (both "" when create_pc is 0).
std::pair<std::string, std::string> created_by_parts(std::uintptr_t create_pc);

// Writes all of s to fd (retrying short writes). Async-signal-safe.
void write_all(int fd, const char* s, std::size_t n) noexcept;
inline void write_all(int fd, const std::string& s) noexcept { write_all(fd, s.data(), s.size()); }

}  // namespace goro::detail
