// PC → function, file:line, using elfutils' libdwfl on the running process.
//
// Results are cached by PC (a dump of a million goroutines has few distinct
// PCs). Thread-safe; not async-signal-safe (libdw allocates), so signal
// handlers only use it on their way to exiting the process.
#pragma once

#include <cstdint>
#include <string>

namespace goro::detail {

struct SymbolInfo {
  std::string function;   // demangled, parameter list removed ("ns::f")
  std::string file;       // "" when there is no line information
  int line = 0;
  std::uintptr_t entry = 0;  // function start, for "+0x" offsets (0: unknown)
};

// Symbolizes pc. For return addresses pass is_return_address = true: the
// line is looked up at pc-1 so that it names the call, as Go does.
SymbolInfo symbolize(std::uintptr_t pc, bool is_return_address);

// Demangled name without its parameter list and trailing qualifiers:
// "app::Server::run(int) const" -> "app::Server::run".
std::string strip_parameters(const std::string& demangled);

}  // namespace goro::detail
