// Reads a goroutine profile in profile.proto form (debug=0: Go's
// pprof.Lookup("goroutine").WriteTo(w, 0), /debug/pprof/goroutine, goro's
// write_goroutine_profile(out, 0)), gzipped or not.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "dump.h"
#include "go_text_parser.h"

namespace goro_leaks {

struct ProfileInfo {
  std::string sample_type;    // "goroutine", or "goroutineleak" (Go 1.26: goroutines proven leaked)
  std::int64_t time_nanos = 0;
  std::int64_t total = 0;     // sum of the samples' counts
};

// The samples as groups: count, location addresses (innermost first),
// frames from the locations' lines (inlined calls first), string labels.
// Throws ParseError (line 0) when the input is not a profile: not gzip nor
// a protobuf message, cut short, a sample type other than a count, or ids
// that point nowhere.
std::vector<StackGroup> read_profile_proto(std::istream& in, ProfileInfo* info = nullptr);

// True when data starts like a gzip stream (0x1f 0x8b).
inline bool looks_gzipped(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

}  // namespace goro_leaks
