// Introspection: what every goroutine is doing, in Go's own formats.
//
//   goro::debug::write_goroutine_profile(std::cout, 2);  // like pprof debug=2
//   for (const auto& g : goro::debug::snapshot().goroutines)
//     if (g.wait_reason == "chan send" && g.wait_duration > std::chrono::minutes(5)) ...
//
// Nothing here stops the world. Goroutines that are parked or runnable are
// read from the context they saved when they last switched out; goroutines
// running on other workers are sampled by signalling their worker thread
// (SIGURG, as Go's preemption does), so an endless loop shows where it
// spins. A snapshot is therefore a sample: a goroutine may change state
// while the snapshot is taken, and each goroutine is shown in a state it
// really was in (a stack torn by a concurrent resume is re-read).
//
// Formats (byte for byte Go's, see docs/formats.md):
//  - debug=2: runtime.Stack(all)/pprof debug=2 text, one block per goroutine:
//      goroutine 7 [chan receive, 3 minutes]:
//      app::consume(...)
//      	/src/app.cc:42 +0x1d
//      created by app::serve in goroutine 1
//      	/src/app.cc:60 +0x88
//  - debug=1: "goroutine profile: total N" and groups of identical stacks,
//    counted and sorted like Go's legacy text profile, tabwriter-aligned;
//  - debug=0: a gzipped profile.proto that `go tool pprof` reads.
// Function names are demangled C++ without parameter lists; goro's own
// runtime frames are hidden the way Go hides runtime frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "goro/labels.h"

namespace goro::debug {

// One frame of a goroutine's stack. Inlined calls get a frame of their own
// (sharing pc and entry with the function they were inlined into).
struct Frame {
  std::string function;   // demangled, without parameters; "" when unknown
  std::string file;       // "" when the binary has no line information
  int line = 0;
  std::uintptr_t pc = 0;     // the return address (or, for the innermost frame
                             // of a sampled running goroutine, the exact pc)
  std::uintptr_t entry = 0;  // the physical function's first instruction (0: unknown)
  bool inlined = false;
};

struct Goroutine {
  std::uint64_t id = 0;
  // Go's status word: "running", "runnable" or "waiting".
  std::string status;
  // Go's wait reason when waiting ("chan receive", "sync.Mutex.Lock", ...),
  // otherwise "".
  std::string wait_reason;
  // How long it has been waiting (zero unless waiting). Coarse: the
  // runtime records park times with a ~1 ms clock.
  std::chrono::nanoseconds wait_duration{0};
  std::uint64_t creator_id = 0;  // 0: created by a plain thread (or main)
  Frame created_by;              // the go() call site; function "" when unknown
  Labels labels;
  // The stack, innermost first, runtime frames hidden. Empty when the
  // goroutine runs on another worker that did not answer the sample
  // (stack_available false) or has not started yet.
  std::vector<Frame> stack;
  bool stack_available = true;
  bool is_main = false;     // the goroutine goro::run started
  bool is_current = false;  // the goroutine that took the snapshot
};

struct Snapshot {
  // Every goroutine alive when the snapshot was taken: the calling
  // goroutine first (if the caller is one), then main, then by ID.
  std::vector<Goroutine> goroutines;
  std::chrono::system_clock::time_point taken_at;
};

// Takes a snapshot of every goroutine, symbolized. Does not stop the world;
// costs about a microsecond per goroutine plus symbolization of stacks not
// seen before. On a goroutine it yields about every millisecond, so others
// keep running on its worker. Works from plain threads too.
Snapshot snapshot();

// Writes the goroutine profile like Go's pprof.Lookup("goroutine").WriteTo(w,
// debug): 0 (gzipped profile.proto), 1 (grouped text) or 2 (every
// goroutine, like runtime.Stack(all)). Streams: output is produced in
// pieces as it is formatted, never as one string, so a million goroutines
// take memory for the capture (tens of bytes per goroutine) and not for
// the text. Throws std::invalid_argument for another debug value; stream
// errors are reported by the stream (badbit/failbit).
void write_goroutine_profile(std::ostream& out, int debug);

// The calling goroutine's stack (all = false) or every goroutine's (all =
// true) in debug=2 format, like runtime.Stack. Off goroutines, all = false
// gives "". For large processes prefer write_goroutine_profile(out, 2),
// which streams.
std::string stack(bool all = false);

// Turns deadlock detection on or off (default on; GORO_DEADLOCK=0 starts
// with it off) and returns the previous setting. With it on, a program whose
// goroutines are all blocked for good -- every worker idle, no timer
// pending, no thread but goro's own and the one in goro::run -- dies like
// Go's: "fatal error: all goroutines are asleep - deadlock!", every
// goroutine's stack, exit status 2. Programs whose plain threads wake
// goroutines are never reported while such a thread exists.
bool set_deadlock_detection(bool enabled) noexcept;

// Sets how much a dying program prints, like debug.SetTraceback /
// GOTRACEBACK: "none", "single" (the failing goroutine; fatal errors print
// every goroutine), "all", "system" (as all) or "crash" (all, then abort()
// for a core dump). Throws std::invalid_argument for another value.
void set_traceback(const std::string& level);

}  // namespace goro::debug
