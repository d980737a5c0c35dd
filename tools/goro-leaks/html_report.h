// `goro-leaks report --html`: one self-contained HTML page (inline CSS, SVG
// and a little script; nothing fetched from the network).
#pragma once

#include <ostream>

#include "analysis.h"

namespace goro_leaks {

// Writes the page, in this order: overview (sources, formats, totals,
// verdict counts per cause), findings (cause, verdict, explanation, fix,
// evidence, the blocking source line), the groups table of the newest
// snapshot (filterable; a click opens the group's stack), a flame graph of
// all goroutine stacks (inline SVG, width proportional to goroutine count),
// with several snapshots the growth of each group over time (sparklines),
// and last every group's stack. Everything taken from the dumps is
// HTML-escaped.
void write_html_report(std::ostream& out, const Analysis& analysis);

}  // namespace goro_leaks
