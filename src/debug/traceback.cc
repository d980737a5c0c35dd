#include "debug/traceback.h"

#include <unwind.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "debug/symbolizer.h"
#include "runtime/g.h"

namespace goro::detail {
namespace {

constexpr std::size_t kInnerFrames = 50;  // Go's tracebackInnerFrames
constexpr std::size_t kOuterFrames = 50;  // Go's tracebackOuterFrames

bool is_runtime_frame(const SymbolInfo& s) {
  return s.function.rfind("goro::detail::", 0) == 0 || s.function == "goro_entry_trampoline" ||
         s.function == "goro_switch";
}

void append_hex(std::string& out, std::uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  out += buf;
}

void append_location(std::string& out, const SymbolInfo& s, std::uintptr_t pc) {
  out += '\t';
  if (s.file.empty()) {
    out += "?:0";
  } else {
    out += s.file;
    out += ':';
    out += std::to_string(s.line);
  }
  out += " +";
  append_hex(out, s.entry != 0 ? pc - s.entry : pc);
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

std::size_t walk_frame_pointers(std::uintptr_t fp, std::uintptr_t lo, std::uintptr_t hi,
                                std::uintptr_t* pcs, std::size_t max) noexcept {
  std::size_t n = 0;
  // Each frame: [fp] = caller's fp, [fp+8] = return address. Frames move
  // strictly upwards; anything else means a frame without a frame pointer.
  while (n < max && fp >= lo && fp + 16 <= hi && fp % sizeof(void*) == 0) {
    auto* frame = reinterpret_cast<const std::uintptr_t*>(fp);
    std::uintptr_t next = frame[0];
    std::uintptr_t ret = frame[1];
    if (ret == 0) break;
    pcs[n++] = ret;
    if (next <= fp) break;
    fp = next;
  }
  return n;
}

void append_goroutine_header(std::string& out, const G& g, const char* state) {
  out += "goroutine ";
  out += std::to_string(g.id);
  out += " [";
  out += state;
  out += "]:\n";
}

void append_frames(std::string& out, const std::uintptr_t* pcs, std::size_t n, bool first_is_pc) {
  // Symbolize first so that hidden runtime frames do not count for elision.
  struct Frame {
    std::uintptr_t pc;
    SymbolInfo sym;
  };
  std::vector<Frame> frames;
  frames.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    bool ret = !(first_is_pc && i == 0);
    SymbolInfo s = symbolize(pcs[i], ret);
    if (is_runtime_frame(s)) continue;
    frames.push_back({pcs[i], std::move(s)});
  }
  std::size_t shown = frames.size();
  bool elide = shown > kInnerFrames + kOuterFrames;
  for (std::size_t i = 0; i < shown; ++i) {
    if (elide && i == kInnerFrames) {
      out += "...";
      out += std::to_string(shown - kInnerFrames - kOuterFrames);
      out += " frames elided...\n";
      i = shown - kOuterFrames - 1;
      continue;
    }
    const Frame& f = frames[i];
    out += f.sym.function.empty() ? std::string("?") : f.sym.function;
    out += "(...)\n";
    append_location(out, f.sym, f.pc);
  }
}

void append_created_by(std::string& out, const G& g) {
  if (g.create_pc == 0) return;
  SymbolInfo s = symbolize(g.create_pc, true);
  out += "created by ";
  out += s.function.empty() ? std::string("?") : s.function;
  if (g.creator_id != 0) {
    out += " in goroutine ";
    out += std::to_string(g.creator_id);
  }
  out += '\n';
  append_location(out, s, g.create_pc);
}

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
