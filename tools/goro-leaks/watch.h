// `goro-leaks watch URL`: polls a live goroutine endpoint and tracks growth.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

#include "analysis.h"
#include "input.h"

namespace goro_leaks {

struct WatchOptions {
  std::chrono::nanoseconds every{std::chrono::seconds(10)};
  std::chrono::nanoseconds duration{std::chrono::minutes(5)};
  Similarity similarity = Similarity::kIgnoreArgs;
  ClassifyOptions classify;
  FetchOptions fetch;
  bool progress = false;  // draw a progress bar on `progress_out` between polls (a terminal)
};

// Polls `url` right away, then every `every` until `duration` has passed
// (at least two polls), printing one line per poll to `out` (totals, the
// fastest-growing group) and, when asked, a progress bar to
// `progress_out`. A failed poll is reported on `progress_out` and skipped.
// Returns the analysis of all successful polls. Throws InputError when
// fewer than two polls succeeded (no growth can be measured from one).
Analysis watch(const std::string& url, const WatchOptions& options, std::ostream& out, std::ostream& progress_out);

}  // namespace goro_leaks
