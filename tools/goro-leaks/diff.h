// Growth of groups over a series of snapshots (oldest first): which groups
// grew, which are new, which vanished, which grew at every step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot.h"

namespace goro_leaks {

struct GroupSeries {
  std::string key;
  std::vector<std::int64_t> counts;  // one per snapshot; 0 where absent
  // Where the group was last seen: indexes into snapshots[] and its groups[].
  std::size_t snapshot = 0, group = 0;
  std::int64_t growth = 0;           // last count - first count
  bool is_new = false;               // absent from the first snapshot
  bool vanished = false;             // absent from the last snapshot
  // Never shrank and grew overall over three or more snapshots, or grew
  // over two: the shape of a leak.
  bool monotonic_growth = false;
};

struct Diff {
  std::vector<std::int64_t> totals;  // per snapshot
  // Every group seen in any snapshot, by growth (largest first), then by
  // last count, then key.
  std::vector<GroupSeries> series;
};

// Matches groups across snapshots by key. The snapshots must have been
// read with the same similarity.
Diff diff_snapshots(const std::vector<Snapshot>& snapshots);

}  // namespace goro_leaks
