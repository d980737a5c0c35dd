#include "debug/symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace goro::detail {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string s(out);
  std::free(out);
  return s;
}

bool ends_with(const std::string& s, std::size_t end, const char* suffix) {
  std::size_t n = std::strlen(suffix);
  return end >= n && s.compare(end - n, n, suffix) == 0;
}

// Follows abstract_origin / specification links to the DIE that declares
// the function (the one nested in its namespaces and classes).
Dwarf_Die declaration_of(Dwarf_Die die) {
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_attr(&die, DW_AT_abstract_origin, &attr) == nullptr &&
        dwarf_attr(&die, DW_AT_specification, &attr) == nullptr) {
      break;
    }
    if (dwarf_formref_die(&attr, &next) == nullptr) break;
    die = next;
  }
  return die;
}

// "ns::Class::name" from the declaration's enclosing scopes, for functions
// that have no linkage name (internal linkage, inline-only templates).
std::string qualified_name(Dwarf_Die decl) {
  const char* base = dwarf_diename(&decl);
  if (base == nullptr) return "";
  std::string name = base;
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes_die(&decl, &scopes);
  for (int i = 1; i < n; ++i) {  // scopes[0] is decl itself
    int tag = dwarf_tag(&scopes[i]);
    const char* scope = dwarf_diename(&scopes[i]);
    if (tag == DW_TAG_namespace) {
      name = std::string(scope != nullptr ? scope : "(anonymous namespace)") + "::" + name;
    } else if (tag == DW_TAG_class_type || tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
      // Unnamed classes are lambdas' closure types.
      name = std::string(scope != nullptr ? scope : "{lambda}") + "::" + name;
    } else if (tag == DW_TAG_subprogram) {
      // Local classes (lambdas): main::{lambda}::operator(). An enclosing
      // function's concrete DIE often sits at the top of the unit with a
      // specification link to its declaration inside its namespaces: name
      // it from there and stop.
      std::string outer = qualified_name(declaration_of(scopes[i]));
      if (!outer.empty()) name = outer + "::" + name;
      break;
    }
  }
  std::free(scopes);
  return name;
}

// The display name of a subprogram or inlined-subroutine DIE.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, at, &attr) != nullptr) {
      if (const char* s = dwarf_formstring(&attr)) return display_name(demangle(s));
    }
  }
  return qualified_name(declaration_of(*die));
}

class DwflSession {
 public:
  DwflSession() {
    callbacks_.find_elf = dwfl_linux_proc_find_elf;
    callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
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

  std::vector<SymbolFrame> lookup(std::uintptr_t pc, bool is_return_address) {
    std::vector<SymbolFrame> frames;
    Dwfl_Module* mod = dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, pc) : nullptr;
    if (mod == nullptr && dwfl_ != nullptr) {
      refresh();
      mod = dwfl_addrmodule(dwfl_, pc);
    }
    SymbolFrame physical;
    if (mod == nullptr) {
      frames.push_back(physical);
      return frames;
    }
    // A return address after a call that never returns (a throw, a tail
    // position go()) is the first byte of the *next* function: everything,
    // the symbol included, is looked up at pc-1, the call instruction.
    Dwarf_Addr lookup_pc = is_return_address ? pc - 1 : pc;
    GElf_Off offset = 0;
    GElf_Sym sym;
    if (const char* name = dwfl_module_addrinfo(mod, lookup_pc, &offset, &sym, nullptr, nullptr, nullptr)) {
      physical.function = display_name(demangle(name));
      physical.entry = lookup_pc - offset;
    }
    Dwarf_Addr bias = 0;
    Dwarf_Die* cudie = cu_containing(mod, lookup_pc, &bias);
    if (cudie != nullptr) {
      if (Dwarf_Line* line = dwarf_getsrc_die(cudie, lookup_pc - bias)) {
        int lineno = 0;
        dwarf_lineno(line, &lineno);
        if (const char* file = dwarf_linesrc(line, nullptr, nullptr)) {
          physical.file = absolute(cudie, file);
          physical.line = lineno;
        }
      }
      expand_inlined(cudie, lookup_pc - bias, physical, frames);
    }
    frames.push_back(std::move(physical));
    return frames;
  }

 private:
  // Walks the DWARF scopes at pc (innermost first). Each inlined subroutine
  // is a frame whose location is the line table's (for the innermost) or the
  // call site recorded by the next inner inlined subroutine; the physical
  // frame's location becomes the outermost call site.
  void expand_inlined(Dwarf_Die* cudie, Dwarf_Addr pc, SymbolFrame& physical, std::vector<SymbolFrame>& out) {
    std::vector<Dwarf_Die> path;
    scopes_at(cudie, pc, path);
    if (path.empty()) return;
    std::reverse(path.begin(), path.end());  // innermost first
    Dwarf_Die* scopes = path.data();
    int n = static_cast<int>(path.size());
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    dwarf_getsrcfiles(cudie, &files, &nfiles);
    std::string file = physical.file;
    int line = physical.line;
    for (int i = 0; i < n; ++i) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag == DW_TAG_subprogram) {
        // The ELF symbol names the physical function best (it is mangled,
        // hence fully qualified); DWARF is the fallback.
        if (physical.function.empty()) physical.function = die_function_name(&scopes[i]);
        break;
      }
      if (tag != DW_TAG_inlined_subroutine) continue;
      SymbolFrame f;
      f.function = die_function_name(&scopes[i]);
      f.file = file;
      f.line = line;
      f.entry = physical.entry;
      f.inlined = true;
      out.push_back(std::move(f));
      // Where this inlined body was called from: the next frame's location.
      Dwarf_Attribute attr;
      Dwarf_Word call_file = 0, call_line = 0;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &call_file) == 0 && files != nullptr &&
          call_file < nfiles) {
        if (const char* f2 = dwarf_filesrc(files, call_file, nullptr, nullptr)) file = absolute(cudie, f2);
      }
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line) == 0) {
        line = static_cast<int>(call_line);
      }
    }
    physical.file = file;
    physical.line = line;
  }

  // Go prints absolute paths; DWARF may name files relative to the unit's
  // compilation directory.
  static std::string absolute(Dwarf_Die* cudie, const char* file) {
    if (file[0] == '/') return file;
    Dwarf_Attribute attr;
    const char* dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
    if (dir == nullptr) return file;
    std::string out = dir;
    if (!out.empty() && out.back() != '/') out += '/';
    return out + file;
  }

  // The code-bearing DIEs containing pc below parent, outermost first:
  // subprogram, then nested inlined subroutines and lexical blocks.
  // dwarf_getscopes would do this, but libdw 0.188 gives up ("no address
  // value") on clang's DWARF 5 (DW_FORM_addrx / rnglistx), while
  // dwarf_haspc on each DIE handles every form.
  static bool scopes_at(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& path) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return false;
    do {
      int tag = dwarf_tag(&child);
      if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) {
        if (dwarf_haspc(&child, pc) == 1) {
          path.push_back(child);
          scopes_at(&child, pc, path);
          return true;
        }
        // A function that does not contain pc may still hold the definition
        // of one that does: gcc nests the member functions of local classes
        // (lambdas' operator()) inside their enclosing function's DIE.
        if (tag != DW_TAG_inlined_subroutine && scopes_at(&child, pc, path)) return true;
      } else if (tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
                 tag == DW_TAG_union_type) {
        // gcc nests some definitions in their namespace's or class's DIE.
        if (scopes_at(&child, pc, path)) return true;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
  }

  // The compilation unit whose ranges contain pc. libdw finds it through
  // .debug_aranges, which clang does not emit; in a binary mixing gcc and
  // clang objects it then answers with the nearest gcc CU. So check its
  // answer, and scan the CUs' ranges when it is wrong.
  static Dwarf_Die* cu_containing(Dwfl_Module* mod, Dwarf_Addr pc, Dwarf_Addr* bias) {
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, bias); cu != nullptr && dwarf_haspc(cu, pc - *bias) == 1) {
      return cu;
    }
    Dwarf_Die* cu = nullptr;
    while ((cu = dwfl_module_nextcu(mod, cu, bias)) != nullptr) {
      if (dwarf_haspc(cu, pc - *bias) == 1) return cu;
    }
    return nullptr;
  }

  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
};

struct CacheKeyHash {
  std::size_t operator()(std::uintptr_t k) const noexcept { return std::hash<std::uintptr_t>{}(k); }
};

std::mutex g_mu;
DwflSession* g_session = nullptr;  // leaked: symbolization may run at exit
// Key: pc * 2 + is_return_address. Values are never erased, so references
// handed out stay valid.
std::unordered_map<std::uintptr_t, std::vector<SymbolFrame>, CacheKeyHash>* g_cache = nullptr;

// Template argument lists longer than this are shown as "<...>", as Go
// shows a generic function's type arguments as "[...]": a select over three
// channels would otherwise print a 300-character name for every goroutine.
constexpr std::size_t kMaxTemplateArgs = 64;

std::string elide_long_template_args(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    // "operator<", "operator<<", "operator<=>": no argument list.
    if (c != '<' || ends_with(name, i, "operator") || ends_with(name, i, "operator<")) {
      out += c;
      continue;
    }
    int depth = 0;
    std::size_t close = std::string::npos;
    for (std::size_t j = i; j < name.size(); ++j) {
      if (name[j] == '<') ++depth;
      if (name[j] == '>' && --depth == 0) {
        close = j;
        break;
      }
    }
    if (close == std::string::npos || close - i - 1 <= kMaxTemplateArgs) {
      out += c;
      continue;
    }
    out += "<...>";
    i = close;
  }
  return out;
}

}  // namespace

std::string display_name(const std::string& demangled) {
  // ABI tags ("stack[abi:cxx11]") say nothing a reader needs.
  std::string d = demangled;
  for (std::size_t tag; (tag = d.find("[abi:")) != std::string::npos;) {
    std::size_t close = d.find(']', tag);
    if (close == std::string::npos) break;
    d.erase(tag, close - tag + 1);
  }
  std::size_t end = d.size();
  // " [clone .cold]", " [clone .isra.0]", ...
  for (std::size_t clone; (clone = d.rfind(" [clone ", end)) != std::string::npos && d[end - 1] == ']';) end = clone;
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
  // The parameter list; "operator()" keeps its own parentheses.
  if (end > 0 && d[end - 1] == ')') {
    int depth = 0;
    for (std::size_t i = end; i-- > 0;) {
      if (d[i] == ')') ++depth;
      if (d[i] == '(' && --depth == 0) {
        if (!(ends_with(d, i, "operator") && i + 1 < end && d[i + 1] == ')')) end = i;
        break;
      }
    }
  }
  // A return type: the last space outside brackets, unless it belongs to
  // "operator new", "operator int" and the like.
  std::size_t begin = 0;
  int depth = 0;
  for (std::size_t i = 0; i < end; ++i) {
    char c = d[i];
    if (c == '<' || c == '(' || c == '[' || c == '{') ++depth;
    if (c == '>' || c == ')' || c == ']' || c == '}') --depth;
    // clang names a lambda inside a const member function
    // "f() const::{lambda()#1}": that space is part of the scope.
    if (c == ' ' && depth == 0 && !ends_with(d, i, "operator") && d.compare(i + 1, 7, "const::") != 0) begin = i + 1;
  }
  return elide_long_template_args(d.substr(begin, end - begin));
}

const std::vector<SymbolFrame>& symbolize(std::uintptr_t pc, bool is_return_address) {
  std::lock_guard lock(g_mu);
  if (g_session == nullptr) {
    g_session = new DwflSession();
    g_cache = new std::unordered_map<std::uintptr_t, std::vector<SymbolFrame>, CacheKeyHash>();
  }
  std::uintptr_t key = pc * 2 + (is_return_address ? 1 : 0);
  auto it = g_cache->find(key);
  if (it != g_cache->end()) return it->second;
  return g_cache->emplace(key, g_session->lookup(pc, is_return_address)).first->second;
}

}  // namespace goro::detail
