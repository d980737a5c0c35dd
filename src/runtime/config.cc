#include "runtime/config.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace goro::detail {
namespace {

constexpr std::size_t kDefaultStackSize = std::size_t{256} << 10;
constexpr std::size_t kMinStackSize = std::size_t{16} << 10;
constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;

int cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

bool env_flag(const char* name, bool dflt) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return dflt;
  if (std::strcmp(v, "0") == 0) return false;
  if (std::strcmp(v, "1") == 0) return true;
  std::fprintf(stderr, "goro: ignoring invalid %s=\"%s\" (want 0 or 1)\n", name, v);
  return dflt;
}

void load(RuntimeConfig& c) {
  c.maxprocs = cpu_count();
  c.stack_size = kDefaultStackSize;
  c.ncpu = cpu_count();
  if (const char* v = std::getenv("GORO_MAXPROCS"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(v, &end, 10);
    if (errno == 0 && *end == '\0' && n >= 1 && n <= 256) {
      c.maxprocs = static_cast<int>(n);
    } else {
      std::fprintf(stderr, "goro: ignoring invalid GORO_MAXPROCS=\"%s\" (want 1..256)\n", v);
    }
  }
  if (const char* v = std::getenv("GORO_STACK_SIZE"); v != nullptr && *v != '\0') {
    std::size_t n = parse_size(v);
    if (n >= kMinStackSize && n <= kMaxStackSize) {
      c.stack_size = round_to_pages(n);
    } else {
      std::fprintf(stderr, "goro: ignoring invalid GORO_STACK_SIZE=\"%s\" (want 16K..1G)\n", v);
    }
  }
  c.deadlock_detection.store(env_flag("GORO_DEADLOCK", true), std::memory_order_relaxed);
  c.dump_on_sigquit = env_flag("GORO_SIGQUIT", true);
  const char* name = "GORO_TRACEBACK";
  const char* tb = std::getenv(name);
  if (tb == nullptr || *tb == '\0') {
    name = "GOTRACEBACK";
    tb = std::getenv(name);
  }
  TracebackLevel level = TracebackLevel::kSingle;
  if (tb != nullptr && *tb != '\0' && !parse_traceback(tb, &level)) {
    std::fprintf(stderr, "goro: ignoring invalid %s=\"%s\" (want none, single, all, system or crash)\n", name, tb);
  }
  c.traceback.store(level, std::memory_order_relaxed);
}

}  // namespace

std::size_t round_to_pages(std::size_t n) noexcept {
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

std::size_t parse_size(const char* text) noexcept {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || text[0] == '-') return 0;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  if (shift != 0) {
    ++end;
    if (*end == 'i' || *end == 'I') ++end;
    if (*end == 'B' || *end == 'b') ++end;
  }
  if (*end != '\0') return 0;
  if (n > (~0ULL >> shift)) return 0;
  return static_cast<std::size_t>(n << shift);
}

bool parse_traceback(const char* text, TracebackLevel* out) noexcept {
  struct Name {
    const char* name;
    TracebackLevel level;
  };
  static constexpr Name kNames[] = {
      {"none", TracebackLevel::kNone},   {"0", TracebackLevel::kNone},     {"single", TracebackLevel::kSingle},
      {"1", TracebackLevel::kSingle},    {"all", TracebackLevel::kAll},    {"2", TracebackLevel::kAll},
      {"system", TracebackLevel::kAll},  {"crash", TracebackLevel::kCrash},
  };
  for (const Name& n : kNames) {
    if (std::strcmp(text, n.name) == 0) {
      *out = n.level;
      return true;
    }
  }
  return false;
}

RuntimeConfig& runtime_config() {
  static RuntimeConfig* config = [] {
    auto* c = new RuntimeConfig();  // leaked: read by crash handlers at exit
    load(*c);
    return c;
  }();
  return *config;
}

}  // namespace goro::detail
