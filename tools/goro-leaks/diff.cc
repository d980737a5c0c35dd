// Matching groups across snapshots by key.
#include "diff.h"

#include <algorithm>
#include <unordered_map>

namespace goro_leaks {
namespace {

bool never_shrinks(const std::vector<std::int64_t>& counts) {
  return std::adjacent_find(counts.begin(), counts.end(), std::greater<>()) == counts.end();
}

}  // namespace

Diff diff_snapshots(const std::vector<Snapshot>& snapshots) {
  Diff d;
  const std::size_t n = snapshots.size();
  std::unordered_map<std::string_view, std::size_t> index;  // key -> series
  for (const Snapshot& s : snapshots) d.by_stack |= s.format != snapshots.front().format;
  for (std::size_t s = 0; s < n; ++s) {
    d.totals.push_back(snapshots[s].total);
    for (std::size_t g = 0; g < snapshots[s].groups.size(); ++g) {
      const Group& group = snapshots[s].groups[g];
      const std::string& key = diff_key(d, group);
      auto [it, added] = index.try_emplace(key, d.series.size());
      if (added) {
        GroupSeries& fresh = d.series.emplace_back();
        fresh.key = key;
        fresh.counts.assign(n, 0);
      }
      GroupSeries& series = d.series[it->second];
      series.counts[s] += group.count;
      series.snapshot = s;
      series.group = g;
    }
  }
  for (GroupSeries& s : d.series) {
    s.growth = s.counts.back() - s.counts.front();
    s.is_new = n > 1 && s.counts.front() == 0;
    s.vanished = n > 1 && s.counts.back() == 0;
    s.monotonic_growth = n > 1 && s.growth > 0 && never_shrinks(s.counts);
    for (std::size_t i = 1; i < n; ++i) s.growth_steps += s.counts[i] > s.counts[i - 1];
  }
  std::sort(d.series.begin(), d.series.end(), [](const GroupSeries& a, const GroupSeries& b) {
    if (a.growth != b.growth) return a.growth > b.growth;
    if (a.counts.back() != b.counts.back()) return a.counts.back() > b.counts.back();
    return a.key < b.key;
  });
  return d;
}

}  // namespace goro_leaks
