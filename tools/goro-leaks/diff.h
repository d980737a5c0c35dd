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
  // Never shrank and grew overall: the shape of a leak.
  bool monotonic_growth = false;
  int growth_steps = 0;              // how many steps between snapshots grew
};

struct Diff {
  // Groups are matched by Group::key; by Group::stack_key when the
  // snapshots are of different formats (only debug=2 has creators, only
  // debug=1 and profile.proto have labels).
  bool by_stack = false;
  std::vector<std::int64_t> totals;  // per snapshot
  // Every group seen in any snapshot, by growth (largest first), then by
  // last count, then key.
  std::vector<GroupSeries> series;
};

// Matches groups across snapshots by key. The snapshots must have been
// read with the same similarity.
Diff diff_snapshots(const std::vector<Snapshot>& snapshots);

// The key `diff` matches `g` by.
inline const std::string& diff_key(const Diff& d, const Group& g) { return d.by_stack ? g.stack_key : g.key; }

}  // namespace goro_leaks
