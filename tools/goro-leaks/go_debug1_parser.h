// A streaming parser for Go's debug=1 goroutine profile text (pprof's
// legacy format, printCountProfile), which goro writes too:
//
//   goroutine profile: total <N>              (Go 1.26's goroutineleak profile:
//                                             "goroutineleak profile: total <N>")
//   <count> @ 0x<pc> 0x<pc> ...
//   # labels: {"k":"v", "k2":"v2"}            (optional)
//   #	0x<pc>	<function>+0x<off>	<file>:<line>   (tab-aligned; one per frame)
//   #	0x<pc>                                  (a frame without a name)
//   <blank line>
//
// Groups are passed on as they end; the counts must add up to the header's
// total (a shorter sum means the input was cut). Malformed input is a
// ParseError naming the line.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>

#include "dump.h"
#include "go_text_parser.h"

namespace goro_leaks {

// Calls on_group for each group in input order; returns the header's total.
// *profile_name (when given) becomes the header's profile name: "goroutine",
// or "goroutineleak" for a profile of goroutines Go proved leaked.
std::int64_t parse_go_debug1(std::istream& in, const std::function<void(StackGroup&&)>& on_group,
                             std::string* profile_name = nullptr);

// Go's strconv.Unquote for a double-quoted string literal ("a\"b" -> a"b).
// Returns false when `quoted` is not one.
bool go_unquote(std::string_view quoted, std::string* out);

}  // namespace goro_leaks
