// PC → frames (function, file:line), using elfutils' libdw on the running
// process, with inlined calls expanded the way Go's tracebacks show them.
//
// Results are cached by PC (a dump of a million goroutines has few distinct
// PCs). Thread-safe; not async-signal-safe (libdw allocates), so signal
// handlers only use it on their way to exiting the process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace goro::detail {

struct SymbolFrame {
  std::string function;      // demangled, without parameters or return type
  std::string file;          // "" when there is no line information
  int line = 0;
  std::uintptr_t entry = 0;  // start of the physical function (0: unknown)
  bool inlined = false;      // an inlined call: no "+0x" offset is shown
};

// The frames at pc, innermost first: the inlined calls that pc is inside,
// then the physical function. Never empty (an unknown pc gives one frame
// with an empty function). For return addresses pass is_return_address =
// true: lines are looked up at pc-1 so that they name the call, as Go does.
const std::vector<SymbolFrame>& symbolize(std::uintptr_t pc, bool is_return_address);

// Cleans a demangled name for display: drops the parameter list, trailing
// qualifiers, a template function's return type and " [clone .cold]"
// suffixes: "void app::run<int>(int) const" -> "app::run<int>".
std::string display_name(const std::string& demangled);

}  // namespace goro::detail
