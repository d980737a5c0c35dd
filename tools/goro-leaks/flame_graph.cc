// The flame graph: a tree merged by function name, drawn as an icicle of
// SVG rectangles. See flame_graph.h for the invariants of the tree and the
// shape of the SVG.
#include "flame_graph.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace goro_leaks {
namespace {

// The child of `node` for `function`, inserted in name order when new.
// References to node's other children do not survive the call.
FlameNode& child(FlameNode& node, const std::string& function) {
  auto it = std::lower_bound(node.children.begin(), node.children.end(), function,
                             [](const FlameNode& n, const std::string& f) { return n.function < f; });
  if (it == node.children.end() || it->function != function) {
    it = node.children.insert(it, FlameNode{});
    it->function = function;
  }
  return *it;
}

Verdict worse(Verdict a, Verdict b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

// The verdict of each group of a snapshot with `n` groups; kOk for groups
// without a finding.
std::vector<Verdict> verdicts_by_group(std::size_t n, const std::vector<Finding>& findings) {
  std::vector<Verdict> v(n, Verdict::kOk);
  for (const Finding& f : findings) {
    if (f.group < n) v[f.group] = worse(v[f.group], f.verdict);
  }
  return v;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// FNV-1a: a stable hash, so a function keeps its color from report to report.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// flamegraph.pl's "hot" palette for ordinary frames; cool hues for tinted
// ones, so a leak's leaf stands out of the warm mass whatever its name.
std::string color(const std::string& function, Verdict tint) {
  std::uint64_t h = fnv1a(function);
  double v1 = static_cast<double>(h & 0xff) / 255, v2 = static_cast<double>((h >> 8) & 0xff) / 255,
         v3 = static_cast<double>((h >> 16) & 0xff) / 255;
  int r, g, b;
  if (tint == Verdict::kLeak) {  // magenta-purple
    r = 170 + static_cast<int>(40 * v1), g = 60 + static_cast<int>(40 * v2), b = 200 + static_cast<int>(55 * v3);
  } else if (tint == Verdict::kSuspect) {  // light blue
    r = 110 + static_cast<int>(40 * v1), g = 170 + static_cast<int>(40 * v2), b = 230 + static_cast<int>(25 * v3);
  } else {
    r = 205 + static_cast<int>(50 * v3), g = static_cast<int>(230 * v1), b = static_cast<int>(55 * v2);
  }
  return "rgb(" + std::to_string(r) + "," + std::to_string(g) + "," + std::to_string(b) + ")";
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// The byte offset just past the first `n` code points of s.
std::size_t utf8_prefix(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && n-- == 0) break;
  }
  return i;
}

// Depth of the deepest frame wide enough to draw (the root is depth 0).
int drawn_depth(const FlameNode& node, double scale, double min_width) {
  int deepest = 0;
  for (const FlameNode& c : node.children) {
    if (c.count * scale >= min_width) deepest = std::max(deepest, 1 + drawn_depth(c, scale, min_width));
  }
  return deepest;
}

class SvgWriter {
 public:
  SvgWriter(std::ostream& out, const FlameLayout& layout, std::int64_t total)
      : out_(out), layout_(layout), total_(total), scale_(layout.width / static_cast<double>(total)) {}

  // Draws `node` at x (units) and depth, then its children left to right
  // from the same x; the goroutines that end at `node` leave a gap at its
  // right end, under it.
  void frame(const FlameNode& node, double x, int depth) {
    double w = node.count * scale_;
    if (w < layout_.min_width) return;
    const std::string& name = node.function.empty() ? kRootName : node.function;
    double y = depth * layout_.row_height;
    out_ << "<g class=\"f" << tint_class(node.tint) << "\"><title>" << html_escape(name) << " \xe2\x80\x94 "
         << node.count << (node.count == 1 ? " goroutine (" : " goroutines (")
         << fixed(100.0 * node.count / total_, 1) << "%)</title><rect x=\"" << fixed(x, 2) << "\" y=\""
         << fixed(y, 2) << "\" width=\"" << fixed(w, 2) << "\" height=\"" << fixed(layout_.row_height - 1, 2)
         << "\" fill=\"" << (node.function.empty() ? std::string("rgb(200,200,200)") : color(name, node.tint))
         << "\" data-count=\"" << node.count << "\"/>";
    std::string label = fit_label(name, w, layout_);
    if (!label.empty()) {
      out_ << "<text x=\"" << fixed(x + 3, 2) << "\" y=\"" << fixed(y + layout_.row_height - 5, 2) << "\">"
           << html_escape(label) << "</text>";
    }
    out_ << "</g>\n";
    for (const FlameNode& c : node.children) {
      frame(c, x, depth + 1);
      x += c.count * scale_;
    }
  }

 private:
  static const char* tint_class(Verdict v) {
    switch (v) {
      case Verdict::kLeak: return " leak";
      case Verdict::kSuspect: return " suspect";
      case Verdict::kOk: break;
    }
    return "";
  }

  inline static const std::string kRootName = "all goroutines";
  std::ostream& out_;
  const FlameLayout& layout_;
  std::int64_t total_;
  double scale_;  // units per goroutine
};

}  // namespace

FlameNode build_flame_tree(const Snapshot& snapshot, const std::vector<Finding>& findings) {
  std::vector<Verdict> verdicts = verdicts_by_group(snapshot.groups.size(), findings);
  FlameNode root;
  for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
    const Group& group = snapshot.groups[g];
    FlameNode* node = &root;
    node->count += group.count;
    for (auto f = group.frames.rbegin(); f != group.frames.rend(); ++f) {  // outermost first
      node = &child(*node, f->function);
      node->count += group.count;
    }
    node->ends += group.count;
    if (node != &root) node->tint = worse(node->tint, verdicts[g]);
  }
  return root;
}

void write_flame_svg(std::ostream& out, const FlameNode& root, const FlameLayout& layout) {
  if (root.count <= 0) {
    out << "<svg class=\"flame\" viewBox=\"0 0 " << fixed(layout.width, 0) << " " << fixed(layout.row_height, 0)
        << "\" role=\"img\"><text x=\"3\" y=\"" << fixed(layout.row_height - 5, 2)
        << "\">no goroutines</text></svg>\n";
    return;
  }
  double scale = layout.width / static_cast<double>(root.count);
  double height = (drawn_depth(root, scale, layout.min_width) + 1) * layout.row_height;
  out << "<svg class=\"flame\" viewBox=\"0 0 " << fixed(layout.width, 2) << " " << fixed(height, 2)
      << "\" width=\"" << fixed(layout.width, 2) << "\" height=\"" << fixed(height, 2)
      << "\" font-family=\"ui-monospace, Menlo, Consolas, monospace\" font-size=\"" << fixed(layout.font_size, 2)
      << "\" role=\"img\" aria-label=\"flame graph\" data-total=\"" << root.count << "\">\n";
  SvgWriter(out, layout, root.count).frame(root, 0, 0);
  out << "</svg>\n";
}

std::string fit_label(const std::string& function, double width, const FlameLayout& layout) {
  double char_width = layout.font_size * 0.6;
  double room = (width - 6) / char_width;  // 3 units of padding each side
  if (room < 0) return "";
  auto fits = static_cast<std::size_t>(room);
  if (utf8_length(function) <= fits) return function;
  if (fits < 3) return "";
  return function.substr(0, utf8_prefix(function, fits - 2)) + "..";
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
          out += "\xef\xbf\xbd";  // U+FFFD: control characters are parse errors in HTML
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace goro_leaks
