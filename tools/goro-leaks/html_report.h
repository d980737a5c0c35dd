// `goro-leaks report --html`: one self-contained HTML page (inline CSS, SVG
// and a little script; nothing fetched from the network).
#pragma once

#include <ostream>

#include "analysis.h"

namespace goro_leaks {

// Writes the page: overview (sources, formats, totals, verdict counts),
// findings with cause, explanation, fix and evidence, the groups table of
// the newest snapshot, each group's stack, a flame graph of all goroutine
// stacks (inline SVG, width proportional to goroutine count), and, when
// there are several snapshots, the growth of each group over time.
// Everything taken from the dumps is HTML-escaped.
void write_html_report(std::ostream& out, const Analysis& analysis);

}  // namespace goro_leaks
