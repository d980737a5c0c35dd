#include "debug/symbolizer.h"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace goro::detail {
namespace {

class Dwfl_Session {
 public:
  Dwfl_Session() {
    callbacks_.find_elf = dwfl_linux_proc_find_elf;
    callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
    callbacks_.debuginfo_path = nullptr;
    callbacks_.section_address = nullptr;
    dwfl_ = dwfl_begin(&callbacks_);
    refresh();
  }

  // Re-reads the process's mappings (libraries loaded since the last time).
  void refresh() {
    if (dwfl_ == nullptr) return;
    dwfl_report_begin(dwfl_);
    dwfl_linux_proc_report(dwfl_, getpid());
    dwfl_report_end(dwfl_, nullptr, nullptr);
  }

  SymbolInfo lookup(std::uintptr_t pc, bool is_return_address) {
    SymbolInfo info;
    if (dwfl_ == nullptr) return info;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, pc);
    if (mod == nullptr) {
      refresh();
      mod = dwfl_addrmodule(dwfl_, pc);
    }
    if (mod == nullptr) return info;
    GElf_Off offset = 0;
    GElf_Sym sym;
    const char* name = dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr);
    if (name != nullptr) {
      info.function = strip_parameters(demangle(name));
      info.entry = pc - offset;
    }
    Dwarf_Addr lookup_pc = is_return_address ? pc - 1 : pc;
    if (Dwfl_Line* line = dwfl_module_getsrc(mod, lookup_pc)) {
      int lineno = 0;
      const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
      if (file != nullptr) {
        info.file = file;
        info.line = lineno;
      }
    }
    return info;
  }

 private:
  static std::string demangle(const char* name) {
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || out == nullptr) return name;
    std::string s(out);
    std::free(out);
    return s;
  }

  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
};

struct CacheKey {
  std::uintptr_t pc;
  bool ret;
  bool operator==(const CacheKey&) const = default;
};
struct CacheKeyHash {
  std::size_t operator()(const CacheKey& k) const noexcept { return std::hash<std::uintptr_t>{}(k.pc * 2 + k.ret); }
};

std::mutex g_mu;
Dwfl_Session* g_session = nullptr;  // leaked: symbolization may run at exit
std::unordered_map<CacheKey, SymbolInfo, CacheKeyHash>* g_cache = nullptr;

bool ends_with(const std::string& s, std::size_t end, const char* suffix) {
  std::size_t n = std::strlen(suffix);
  return end >= n && s.compare(end - n, n, suffix) == 0;
}

}  // namespace

std::string strip_parameters(const std::string& d) {
  std::size_t end = d.size();
  // Trailing qualifiers of member functions.
  for (bool again = true; again;) {
    again = false;
    while (end > 0 && d[end - 1] == ' ') --end;
    for (const char* q : {" const", " volatile", " &&", " &", " noexcept"}) {
      if (ends_with(d, end, q)) {
        end -= std::strlen(q);
        again = true;
      }
    }
  }
  if (end == 0 || d[end - 1] != ')') return d.substr(0, end);
  int depth = 0;
  for (std::size_t i = end; i-- > 0;) {
    if (d[i] == ')') ++depth;
    if (d[i] == '(' && --depth == 0) {
      // "operator()" keeps its own parentheses.
      if (ends_with(d, i, "operator") && i + 1 < end && d[i + 1] == ')') return d.substr(0, end);
      return d.substr(0, i);
    }
  }
  return d.substr(0, end);
}

SymbolInfo symbolize(std::uintptr_t pc, bool is_return_address) {
  std::lock_guard lock(g_mu);
  if (g_session == nullptr) {
    g_session = new Dwfl_Session();
    g_cache = new std::unordered_map<CacheKey, SymbolInfo, CacheKeyHash>();
  }
  CacheKey key{pc, is_return_address};
  auto it = g_cache->find(key);
  if (it != g_cache->end()) return it->second;
  SymbolInfo info = g_session->lookup(pc, is_return_address);
  g_cache->emplace(key, info);
  return info;
}

}  // namespace goro::detail
