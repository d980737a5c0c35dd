// The human-readable output of each command.
#pragma once

#include <ostream>

#include "analysis.h"

namespace goro_leaks {

struct TextOptions {
  std::size_t top = 0;       // groups to show; 0: all
  bool stacks = false;       // each group's stack under the table
  bool all = false;          // classify: groups judged ok too
};

// One line per group of the newest snapshot: count, state, wait range,
// created by, labels, first user frame; sorted by count.
void print_summary(std::ostream& out, const Analysis& a, const TextOptions& o);
// One line per group series: growth, counts per snapshot, new/vanished/
// growing flags; sorted by growth. Totals per snapshot on top.
void print_diff(std::ostream& out, const Analysis& a, const TextOptions& o);
// Each suspect or leaking group (all groups with o.all): verdict, cause,
// evidence, explanation, fix, the blocking source line.
void print_classify(std::ostream& out, const Analysis& a, const TextOptions& o);
// A group's stack in Go's debug=2 form.
void print_stack(std::ostream& out, const Group& g);

}  // namespace goro_leaks
