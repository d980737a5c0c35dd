// debug=0 goroutine profile: a gzipped profile.proto (github.com/google/pprof
// proto/profile.proto) with sample type goroutine/count and period 1, the
// same shape as Go's runtime/pprof writes for its goroutine profile, so that
// `go tool pprof` opens it (top, list, traces, web, -http).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace goro::detail {

// One group of goroutines with the same stack and labels.
struct ProfileSample {
  std::int64_t count = 0;
  // Return addresses, innermost first (as walked from the goroutine's
  // stack). When first_is_pc is set, pcs[0] is the exact pc of a sampled
  // running goroutine instead of a return address.
  const std::uintptr_t* pcs = nullptr;
  std::size_t npcs = 0;
  bool first_is_pc = false;
  // Labels sorted by key (may be null: no labels).
  const std::vector<std::pair<std::string, std::string>>* labels = nullptr;
};

// Writes the samples as a gzipped profile.proto to out. time_nanos is the
// wall-clock time of the snapshot (Unix ns). Frames goro hides in its
// tracebacks (is_runtime_frame) are left out of the locations' lines, as
// Go's profile leaves runtime.goexit out. Throws std::runtime_error if
// compression fails; stream errors are the stream's (badbit/failbit).
void write_goroutine_proto(std::ostream& out, const std::vector<ProfileSample>& samples, std::int64_t time_nanos);

}  // namespace goro::detail
