// A snapshot: one goroutine dump, whatever its format, reduced to groups of
// goroutines that look alike. Everything goro-leaks says is computed from
// snapshots, so a dump of a million goroutines costs memory per distinct
// stack, not per goroutine: the parsers hand over one goroutine (or one
// debug=1/proto group) at a time and the aggregator keeps only the groups.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dump.h"

namespace goro_leaks {

// The formats goro-leaks reads; see detect_format in input.h.
enum class Format {
  kGoText,        // debug=2 text, runtime.Stack, panic/fatal/SIGQUIT reports
  kGoDebug1,      // debug=1 text: "goroutine profile: total N" (or goroutineleak)
  kProfileProto,  // debug=0: profile.proto, gzipped or not
};
std::string_view format_name(Format f);  // "go-text", "go-debug1", "profile-proto"

// Which goroutines count as "the same", as panicparse's similarity:
//   kExact:      same state, functions, arguments, files and lines
//   kIgnoreArgs: arguments ignored (pointers differ between goroutines)
//   kFunction:   only the function names (lines ignored too)
enum class Similarity { kExact, kIgnoreArgs, kFunction };
std::string_view similarity_name(Similarity s);  // "exact", "ignore-args", "function"
// Parses "exact" | "ignore-args" | "function"; nullopt otherwise.
std::optional<Similarity> parse_similarity(std::string_view name);

// Goroutines with the same key: state, visible stack, creation site and
// labels under the chosen similarity.
struct Group {
  std::string key;               // identity across snapshots (for diff)
  // The part of key that every format has: the frames alone (no state,
  // creator or labels). diff matches by it when the snapshots' formats differ.
  std::string stack_key;
  std::int64_t count = 0;
  // Go's wait reason ("chan receive", "semacquire", "IO wait", "running");
  // for debug=1 and profile.proto, which carry none, inferred from the
  // runtime frames when possible (state_inferred), else empty.
  std::string state;
  bool state_inferred = false;
  int min_wait_minutes = 0, max_wait_minutes = 0;  // ", N minutes" range
  std::int64_t leaked = 0;             // goroutines Go marked "(leaked)"
  std::int64_t locked_to_thread = 0;
  std::int64_t stack_unavailable = 0;  // "running on other thread"
  std::vector<Frame> frames;           // the first member's, innermost first
  // Frames of the runtime's own the dump had above the first shown one
  // (profile.proto keeps runtime.gopark, runtime.chanrecv2, ...); empty for
  // text formats, which hide them. Used to infer the state and the operation.
  std::vector<std::string> runtime_frames;
  int elided_frames = 0;
  std::optional<CreatedBy> created_by;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::uint64_t> ids;      // the first kMaxGroupIds members' IDs
  std::size_t first_line = 0;          // where the first member starts in the input
  // Holds the goroutine that wrote the dump: Go's runtime.Stack, its
  // debug=2 profile and goro list it first, running, as do crash reports
  // for the crashing one. It runs because it is dumping, not because it loops.
  bool took_dump = false;

  static constexpr std::size_t kMaxGroupIds = 16;
  // The first frame that is not Go's or goro's runtime or standard library
  // internals: where the user's code is blocked. nullptr when none.
  const Frame* first_user_frame() const;
  // The frame a reader recognises the group by: the first user frame, else
  // the innermost one; nullptr when the group has no frames.
  const Frame* telling_frame() const;
};

struct Snapshot {
  std::string source;             // the path, "-" or the URL it came from
  Format format = Format::kGoText;
  std::int64_t total = 0;         // goroutines in the dump
  bool has_states = false;        // the format names each goroutine's state
  // A goroutineleak profile (Go 1.26): every goroutine in it was proven
  // leaked by the garbage collector, so each group counts as leaked.
  bool leak_profile = false;
  std::vector<Group> groups;      // by count (largest first), then key
};

// Reads one dump of the given format from `in` and groups it. Throws
// ParseError (with the line) on malformed input.
Snapshot read_snapshot(std::istream& in, Format format, Similarity similarity, std::string source);

// Go's wait reason for a goroutine whose stack starts with these runtime
// frames (innermost first), e.g. {"runtime.gopark","runtime.chanrecv",
// "runtime.chanrecv1"} -> "chan receive"; empty when not recognised.
std::string infer_state(const std::vector<std::string>& runtime_frames);

// True for functions of Go's runtime that Go's own text dumps hide
// ("runtime.gopark", "runtime.goexit"), not "runtime/pprof." ones.
bool is_go_runtime_function(std::string_view function);

}  // namespace goro_leaks
