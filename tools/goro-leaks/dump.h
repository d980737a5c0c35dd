// The data goro-leaks reads out of goroutine dumps, whatever their format:
// one record per goroutine (debug=2 text, crash tracebacks) or per group of
// identical goroutines (debug=1 text, profile.proto).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace goro_leaks {

struct Location {
  std::string file;
  int line = 0;
  std::int64_t offset = -1;  // "+0x1d"; -1 when absent (inlined frames)
};

struct Frame {
  std::string function;  // "main.worker", "sync.(*Mutex).Lock", "app::serve"
  std::string args;      // between the parentheses: "0xc000010000, 0x1", "...", ""
  Location where;
};

struct CreatedBy {
  std::string function;
  std::uint64_t creator_id = 0;  // 0: not given (Go before 1.21, or a plain thread in goro)
  Location where;
};

struct Goroutine {
  std::uint64_t id = 0;
  // Go's wait reason or status, without the markers below: "chan receive",
  // "running", "select (no cases)", "sync.Mutex.Lock".
  std::string state;
  int wait_minutes = 0;       // ", N minutes"
  bool locked_to_thread = false;
  bool durable = false;       // Go 1.25 "(durable)"
  bool leaked = false;        // Go 1.26 goroutineleak "(leaked)"
  bool stack_unavailable = false;  // "goroutine running on other thread; stack unavailable"
  std::vector<Frame> frames;  // innermost first
  int elided_frames = 0;      // "...N frames elided..." (-1: "additional frames elided")
  std::optional<CreatedBy> created_by;
  std::size_t header_line = 0;  // 1-based line of "goroutine N [...]:" in the input
};

// A group of goroutines with the same stack (and labels), as debug=1 text
// and profile.proto give them.
struct StackGroup {
  std::int64_t count = 0;
  std::vector<std::uint64_t> pcs;  // the "@" list: return addresses, innermost first
  std::vector<std::pair<std::string, std::string>> labels;  // in the dump's order
  std::vector<Frame> frames;       // the "#" lines (args empty); innermost first
  std::size_t line = 0;            // 1-based line of "<count> @ ..." in the input
};

}  // namespace goro_leaks
