// A flame graph of one snapshot's goroutine stacks, as inline SVG for the
// HTML report.
//
//   FlameNode root = build_flame_tree(analysis.snapshots.back(), analysis.findings);
//   write_flame_svg(out, root);   // <svg class="flame" ...>...</svg>
//
// The tree merges stacks by function name from the outside in: the root
// ("all goroutines") has a child per outermost frame, each of those a child
// per next frame, down to the innermost (where the goroutine is blocked).
// Invariants: a node's count is the sum of its children's counts plus the
// goroutines whose stacks end at it (ends); children are sorted by function
// name, so a tree and its SVG depend only on the groups, not their order.
//
// The SVG is an icicle: the root is the top row, each row one frame deeper;
// a frame's width is proportional to its goroutine count (each rect carries
// data-count, so the proportion can be checked), its color a stable hash of
// the function name (warm hues), and frames where a leaking or suspect
// group's stack ends are tinted (class "leak" or "suspect"). Each frame has
// a <title> tooltip "function — N goroutines (P%)"; its label is cut to
// what fits. Frames narrower than kMinWidth are left out with everything
// below them: a million one-goroutine stacks would otherwise make an SVG of
// millions of invisible rectangles.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "classify.h"
#include "snapshot.h"

namespace goro_leaks {

struct FlameNode {
  std::string function;     // empty for the root
  std::int64_t count = 0;   // goroutines whose stacks pass through this frame
  std::int64_t ends = 0;    // of those, the ones whose innermost frame this is
  // The worst verdict of the groups ending here (kOk when none): what the
  // frame's tint says.
  Verdict tint = Verdict::kOk;
  std::vector<FlameNode> children;  // by function name
};

// The tree of `snapshot`'s groups, weighted by group count. `findings` (one
// per group, as classify gives them; may be empty) decide the tints.
// Groups without frames (stack unavailable) count only at the root.
FlameNode build_flame_tree(const Snapshot& snapshot, const std::vector<Finding>& findings);

struct FlameLayout {
  double width = 1180;       // SVG user units; the page scales it to fit
  double row_height = 18;
  double font_size = 11;     // monospace; a character is ~0.6 em wide
  double min_width = 0.5;    // narrower frames (and their subtrees) are left out
};

// Writes `root` as one <svg class="flame"> element (no XML prolog, no
// namespace URL: it is meant to be inline in HTML5). Every string from the
// dump is HTML-escaped. Writes an empty graph with a note when root.count
// is 0.
void write_flame_svg(std::ostream& out, const FlameNode& root, const FlameLayout& layout = {});

// The label for a frame `width` units wide: `function` whole, or cut to its
// first characters plus "..", or empty when not even that fits. Counts
// UTF-8 code points, never splits one, and does not escape.
std::string fit_label(const std::string& function, double width, const FlameLayout& layout = {});

// Escapes text for HTML content and attribute values (& < > " '), and
// replaces control characters (not valid in HTML) with U+FFFD.
std::string html_escape(const std::string& text);

}  // namespace goro_leaks
