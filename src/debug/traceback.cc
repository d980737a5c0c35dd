#include "debug/traceback.h"

#include <unwind.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "debug/symbolizer.h"
#include "runtime/g.h"

namespace goro::detail {
namespace {

constexpr std::size_t kInnerFrames = 50;  // Go's tracebackInnerFrames
constexpr std::size_t kOuterFrames = 50;  // Go's tracebackOuterFrames

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void append_hex(std::string& out, std::uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  out += buf;
}

// "\tfile:line +0xoff": Go omits the offset for inlined calls.
void append_location(std::string& out, const SymbolFrame& s, std::uintptr_t pc) {
  out += '\t';
  if (s.file.empty()) {
    out += "?:0";
  } else {
    out += s.file;
    out += ':';
    out += std::to_string(s.line);
  }
  if (!s.inlined) {
    out += " +";
    append_hex(out, s.entry != 0 ? pc - s.entry : pc);
  }
  out += '\n';
}

struct UnwindState {
  std::uintptr_t* pcs;
  std::size_t max;
  std::size_t n;
};

_Unwind_Reason_Code unwind_one(_Unwind_Context* ctx, void* arg) {
  auto* st = static_cast<UnwindState*>(arg);
  if (st->n == st->max) return _URC_END_OF_STACK;
  std::uintptr_t pc = _Unwind_GetIP(ctx);
  if (pc == 0) return _URC_END_OF_STACK;
  st->pcs[st->n++] = pc;
  return _URC_NO_REASON;
}

}  // namespace

std::size_t unwind_current_stack(std::uintptr_t* pcs, std::size_t max) {
  UnwindState st{pcs, max, 0};
  _Unwind_Backtrace(unwind_one, &st);
  return st.n;
}

// Not instrumented: snapshots walk other goroutines' stacks while those may
// be resumed (the reads are validated afterwards, see capture.h), and
// sampled stacks are read from a signal handler.
__attribute__((no_sanitize("address", "thread"))) std::size_t walk_frame_pointers(
    std::uintptr_t fp, std::uintptr_t lo, std::uintptr_t hi, std::uintptr_t* pcs, std::size_t max) noexcept {
  std::size_t n = 0;
  // Each frame: [fp] = caller's fp, [fp+8] = return address. Frames move
  // strictly upwards; anything else means a frame without a frame pointer.
  while (n < max && fp >= lo && fp + 16 <= hi && fp % sizeof(void*) == 0) {
    auto* frame = reinterpret_cast<const volatile std::uintptr_t*>(fp);
    std::uintptr_t next = frame[0];
    std::uintptr_t ret = frame[1];
    if (ret == 0) break;
    pcs[n++] = ret;
    if (next <= fp) break;
    fp = next;
  }
  return n;
}

std::uintptr_t leaf_return_address(std::uintptr_t pc, std::uintptr_t word_at_sp) {
#if defined(__x86_64__)
  std::uintptr_t entry = symbolize(pc, false).back().entry;
  if (entry == 0 || word_at_sp < 8) return 0;
  const auto* code = reinterpret_cast<const unsigned char*>(entry);
  std::uintptr_t body = entry;
  if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa) body += 4;  // endbr64
  bool pushes_frame = *reinterpret_cast<const unsigned char*>(body) == 0x55;  // push %rbp
  if (pushes_frame && pc > body) return 0;  // its frame (or the push) is in place: the chain is right
  const std::vector<SymbolFrame>& caller = symbolize(word_at_sp, true);
  if (caller.back().function.empty() || caller.back().entry == 0) return 0;  // not code we know
  const auto* r = reinterpret_cast<const unsigned char*>(word_at_sp);
  // A direct call (E8 rel32: to this function, or to its PLT stub), or an
  // indirect one (FF /2) through a register, a short displacement or a
  // 32-bit one.
  bool call = r[-5] == 0xe8 || (r[-2] == 0xff && (r[-1] & 0x38) == 0x10) ||
              (r[-3] == 0xff && (r[-2] & 0x38) == 0x10) || (r[-6] == 0xff && (r[-5] & 0x38) == 0x10);
  return call ? word_at_sp : 0;
#else
  (void)pc, (void)word_at_sp;
  return 0;
#endif
}

std::size_t add_leaf_caller(std::uintptr_t* pcs, std::size_t n, std::size_t max, std::uintptr_t word_at_sp) {
  if (n == 0 || n >= max) return n;
  std::uintptr_t ret = leaf_return_address(pcs[0], word_at_sp);
  if (ret == 0 || (n > 1 && pcs[1] == ret)) return n;
  std::memmove(pcs + 2, pcs + 1, (n - 1) * sizeof(*pcs));
  pcs[1] = ret;
  return n + 1;
}

void append_goroutine_header(std::string& out, const G& g, const char* state) {
  out += "goroutine ";
  out += std::to_string(g.id);
  out += " [";
  out += state;
  out += "]:\n";
}

bool is_runtime_frame(const std::string& function) {
  return starts_with(function, "goro::detail::") || starts_with(function, "goro_") ||
         starts_with(function, "goro::go<") || starts_with(function, "goro::run<") ||
         // Channel operations and select are statements of the language in
         // Go, whose runtime frames (chanrecv, selectgo) tracebacks hide: a
         // goroutine blocked in a receive shows the function that receives
         // on top. (sync and time are packages in Go and stay visible.)
         starts_with(function, "goro::Chan<") || starts_with(function, "goro::SendChan<") ||
         starts_with(function, "goro::RecvChan<") || starts_with(function, "goro::ChanRange<") ||
         starts_with(function, "goro::select<") ||
         // The standard library's call glue (std::invoke and its helpers),
         // through which goro starts every goroutine's function: inlined
         // wrappers, like the ones Go elides.
         starts_with(function, "std::__invoke") || starts_with(function, "std::invoke<");
}

void append_frames(std::string& out, const std::uintptr_t* pcs, std::size_t n, bool first_is_pc) {
  // Expand and filter first so that hidden frames do not count for elision.
  struct Shown {
    std::uintptr_t pc;
    const SymbolFrame* frame;
  };
  std::vector<Shown> shown;
  shown.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    bool ret = !(first_is_pc && i == 0);
    for (const SymbolFrame& f : symbolize(pcs[i], ret)) {
      if (!is_runtime_frame(f.function)) shown.push_back({pcs[i], &f});
    }
  }
  bool elide = shown.size() > kInnerFrames + kOuterFrames;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    if (elide && i == kInnerFrames) {
      out += "...";
      out += std::to_string(shown.size() - kInnerFrames - kOuterFrames);
      out += " frames elided...\n";
      i = shown.size() - kOuterFrames - 1;
      continue;
    }
    const SymbolFrame& f = *shown[i].frame;
    out += f.function.empty() ? std::string("?") : f.function;
    out += "(...)\n";
    append_location(out, f, shown[i].pc);
  }
}

std::pair<std::string, std::string> created_by_parts(std::uintptr_t create_pc) {
  if (create_pc == 0) return {};
  // The innermost frame that is not goro's own: the function that called go().
  const std::vector<SymbolFrame>& frames = symbolize(create_pc, true);
  const SymbolFrame* creator = &frames.back();
  for (const SymbolFrame& f : frames) {
    if (!is_runtime_frame(f.function)) {
      creator = &f;
      break;
    }
  }
  std::pair<std::string, std::string> parts;
  parts.first = "created by ";
  parts.first += creator->function.empty() ? std::string("?") : creator->function;
  parts.second = "\n";
  SymbolFrame located = *creator;
  located.inlined = false;  // Go always shows the creation pc's offset
  append_location(parts.second, located, create_pc);
  return parts;
}

void append_created_by(std::string& out, std::uintptr_t create_pc, std::uint64_t creator_id) {
  if (create_pc == 0) return;
  auto [head, location] = created_by_parts(create_pc);
  out += head;
  if (creator_id != 0) {
    out += " in goroutine ";
    out += std::to_string(creator_id);
  }
  out += location;
}

void append_created_by(std::string& out, const G& g) { append_created_by(out, g.create_pc, g.creator_id); }

void write_all(int fd, const char* s, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace goro::detail
