// Everything goro-leaks computes for a series of snapshots, in one place,
// for the printers (text, JSON, HTML).
#pragma once

#include <vector>

#include "classify.h"
#include "diff.h"
#include "snapshot.h"

namespace goro_leaks {

struct Analysis {
  Similarity similarity = Similarity::kIgnoreArgs;
  std::vector<Snapshot> snapshots;  // oldest first; at least one
  Diff diff;
  std::vector<Finding> findings;    // one per group of snapshots.back(), or none (see analyze)
};

// The diff and, unless `with_findings` is false (summary and diff need
// none: classification reads source files), the findings.
inline Analysis analyze(std::vector<Snapshot> snapshots, Similarity similarity, const ClassifyOptions& options,
                        bool with_findings = true) {
  Analysis a;
  a.similarity = similarity;
  a.snapshots = std::move(snapshots);
  a.diff = diff_snapshots(a.snapshots);
  if (with_findings) a.findings = classify(a.snapshots, a.diff, options);
  return a;
}

}  // namespace goro_leaks
