// The text forms of a goroutine snapshot, byte for byte Go's:
//  - debug=2 (runtime.Stack(all), pprof debug=2, crash and deadlock dumps):
//    every goroutine, the caller first, then by ID, blank-line separated;
//  - debug=1 (pprof's legacy text profile): identical stacks (with equal
//    labels) grouped, counted and sorted like Go's printCountProfile.
// Both stream their output in chunks to a sink and render each distinct
// stack and creation site once (a million goroutines usually share a few
// dozen stacks), so their cost is a few hundred ns per goroutine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "debug/capture.h"

namespace goro::detail {

using TextSink = std::function<void(std::string_view)>;

// debug=2. `skip_id`: leave that goroutine out (the crashing goroutine,
// already printed); 0 for none. `leading_newline`: start with "\n" as Go's
// tracebackothers does after a crashing goroutine's own traceback.
void write_goroutines_text(const RawSnapshot& snap, const TextSink& sink, std::uint64_t skip_id = 0,
                           bool leading_newline = false);

// A group of goroutines with the same stack and labels, as Go's count
// profiles key them.
struct StackGroup {
  std::int64_t count = 0;
  std::vector<std::uintptr_t> pcs;  // return addresses (an exact pc is stored +1)
  const std::vector<std::pair<std::string, std::string>>* labels = nullptr;  // into the snapshot
  std::string key;                  // Go's sort key: "@ 0x.. 0x..[\n# labels: {...}]"
};

// Groups sorted like Go: higher count first, then by key.
std::vector<StackGroup> group_stacks(const RawSnapshot& snap);

// debug=1.
void write_grouped_text(const RawSnapshot& snap, const TextSink& sink);

}  // namespace goro::detail
