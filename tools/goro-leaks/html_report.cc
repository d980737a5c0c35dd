// The HTML report: one page that a reader can mail, attach to a bug or open
// offline years later, so it is one file and fetches nothing — CSS, SVG
// and script are inline, fonts are the system's.
//
// Every string that comes from a dump (functions, arguments, files,
// states, labels, sources) or is made from one (the findings' words) goes
// through html_escape before it reaches the page: C++ functions are full of
// < > & ("std::vector<int>::operator()"), and a dump is input we do not
// control. Nothing from a dump is ever written inside <script> or <style>;
// the script reads what it needs from the escaped DOM.
//
// Sections, in order: overview, findings, the groups table, the flame
// graph, growth over time (with several snapshots only), and the stacks
// last, as they are long and read by reference (links and row clicks).
//
// Anchors: group i of the newest snapshot is "#group-i" (its stack), its
// row in the groups table carries data-group="i"; findings link there.
#include "html_report.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "flame_graph.h"

namespace goro_leaks {
namespace {

std::string e(const std::string& s) { return html_escape(s); }
std::string e(std::string_view s) { return html_escape(std::string(s)); }

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string hex(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// "/src/app/worker.go:42 +0x1d", as Go prints a frame's location.
std::string location(const Location& where) {
  std::string s = where.file;
  if (where.line > 0) s += ":" + std::to_string(where.line);
  if (where.offset >= 0) s += " +0x" + hex(where.offset);
  return s;
}

std::string short_location(const Location& where) {
  std::string file = where.file.substr(where.file.rfind('/') + 1);
  return where.line > 0 ? file + ":" + std::to_string(where.line) : file;
}

// "5–12 min", "7 min"; empty when the format has no ages or none was given.
std::string wait_range(const Group& g) {
  if (g.max_wait_minutes == 0) return "";
  if (g.min_wait_minutes == g.max_wait_minutes) return std::to_string(g.max_wait_minutes) + " min";
  return std::to_string(g.min_wait_minutes) + "\xe2\x80\x93" + std::to_string(g.max_wait_minutes) + " min";
}

std::string labels_text(const Group& g) {
  std::string s;
  for (const auto& [k, v] : g.labels) s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

std::string group_name(const Group& g) {
  const Frame* f = g.telling_frame();
  return f ? f->function : (g.state.empty() ? g.key : g.state);
}

const char* verdict_class(Verdict v) { return v == Verdict::kLeak ? "leak" : v == Verdict::kSuspect ? "suspect" : "ok"; }

class Page {
 public:
  Page(std::ostream& out, const Analysis& a) : out_(out), a_(a), newest_(a.snapshots.back()) {
    by_group_.assign(newest_.groups.size(), nullptr);
    for (const Finding& f : a.findings) {
      if (f.group < by_group_.size()) by_group_[f.group] = &f;
    }
  }

  void write() {
    head();
    overview();
    findings();
    groups_table();
    flame();
    if (a_.snapshots.size() > 1) growth();
    stacks();  // the reference part, long: last
    script();
  }

 private:
  std::int64_t count_verdict(Verdict v, std::int64_t* goroutines = nullptr) const {
    std::int64_t n = 0;
    for (const Finding& f : a_.findings) {
      if (f.verdict != v) continue;
      ++n;
      if (goroutines && f.group < newest_.groups.size()) *goroutines += newest_.groups[f.group].count;
    }
    return n;
  }

  std::string badge(Verdict v) const {
    return std::string("<span class=\"badge ") + verdict_class(v) + "\">" + e(verdict_name(v)) + "</span>";
  }

  std::string group_link(std::size_t g) const {
    return "<a href=\"#group-" + std::to_string(g) + "\">group " + std::to_string(g) + "</a>";
  }

  void head() {
    std::int64_t leaks = count_verdict(Verdict::kLeak), suspects = count_verdict(Verdict::kSuspect);
    out_ << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         << "<title>goro-leaks: " << plural(leaks, "leak", "leaks") << ", " << plural(suspects, "suspect", "suspects")
         << " \xe2\x80\x94 " << e(newest_.source) << "</title>\n"
         // First, so that it sees errors of everything after it.
         << "<script>window.onerror = function (msg, src, line) { var d = document.documentElement.dataset; "
            "d.errors = (d.errors ? d.errors + \"; \" : \"\") + msg + \" (line \" + line + \")\"; };</script>\n"
         << "<style>" << kStyle << "</style>\n</head>\n<body>\n"
         << "<header><h1>goro-leaks report</h1><nav><a href=\"#overview\">Overview</a> <a href=\"#findings\">"
            "Findings</a> <a href=\"#groups\">Groups</a> <a href=\"#flame\">Flame graph</a>"
         << (a_.snapshots.size() > 1 ? " <a href=\"#growth\">Growth</a>" : "")
         << " <a href=\"#stacks\">Stacks</a></nav></header>\n";
  }

  void overview() {
    std::int64_t leak_g = 0, suspect_g = 0;
    std::int64_t leaks = count_verdict(Verdict::kLeak, &leak_g), suspects = count_verdict(Verdict::kSuspect, &suspect_g);
    out_ << "<section id=\"overview\">\n<h2>Overview</h2>\n<p class=\"summary\"><span class=\"badge "
         << (leaks ? "leak" : "ok") << "\">" << plural(leaks, "leak", "leaks") << "</span> "
         << plural(leak_g, "goroutine", "goroutines") << " &nbsp; <span class=\"badge " << (suspects ? "suspect" : "ok")
         << "\">" << plural(suspects, "suspect", "suspects") << "</span> " << plural(suspect_g, "goroutine", "goroutines")
         << " &nbsp; in the newest snapshot: " << plural(newest_.total, "goroutine", "goroutines") << " in "
         << plural(static_cast<std::int64_t>(newest_.groups.size()), "group", "groups")
         << ". Goroutines are grouped by <b>" << e(similarity_name(a_.similarity)) << "</b> similarity.</p>\n";
    sources_table();
    cause_counts();
    out_ << "</section>\n";
  }

  void sources_table() {
    out_ << "<table class=\"sources\"><thead><tr><th class=\"num\">#</th><th>Source</th><th>Format</th>"
            "<th class=\"num\">Goroutines</th><th class=\"num\">Groups</th></tr></thead><tbody>\n";
    for (std::size_t i = 0; i < a_.snapshots.size(); ++i) {
      const Snapshot& s = a_.snapshots[i];
      out_ << "<tr><td class=\"num\">" << i + 1 << "</td><td class=\"mono\">" << e(s.source) << "</td><td>"
           << e(format_name(s.format)) << "</td><td class=\"num\">" << s.total << "</td><td class=\"num\">"
           << s.groups.size() << "</td></tr>\n";
    }
    out_ << "</tbody></table>\n";
  }

  // Leak and suspect findings per cause, most first.
  void cause_counts() {
    struct Row { Cause cause; std::int64_t leaks = 0, suspects = 0; };
    std::vector<Row> rows;
    for (const Finding& f : a_.findings) {
      if (f.verdict == Verdict::kOk) continue;
      auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.cause == f.cause; });
      if (it == rows.end()) it = rows.insert(rows.end(), Row{f.cause});
      (f.verdict == Verdict::kLeak ? it->leaks : it->suspects) += 1;
    }
    if (rows.empty()) return;
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& x, const Row& y) { return x.leaks + x.suspects > y.leaks + y.suspects; });
    out_ << "<table class=\"causes\"><thead><tr><th>Cause</th><th class=\"num\">Leaks</th><th class=\"num\">"
            "Suspects</th></tr></thead><tbody>\n";
    for (const Row& r : rows) {
      out_ << "<tr><td>" << e(cause_title(r.cause)) << " <code>" << e(cause_id(r.cause)) << "</code></td><td class=\"num\">"
           << r.leaks << "</td><td class=\"num\">" << r.suspects << "</td></tr>\n";
    }
    out_ << "</tbody></table>\n";
  }

  // Leaks first, then suspects, each by goroutine count; groups with a
  // likely cause but no evidence stay folded away at the end.
  void findings() {
    std::vector<const Finding*> shown, folded;
    for (const Finding& f : a_.findings) {
      if (f.group >= newest_.groups.size()) continue;
      if (f.verdict != Verdict::kOk) shown.push_back(&f);
      else if (f.cause != Cause::kNone) folded.push_back(&f);
    }
    std::stable_sort(shown.begin(), shown.end(), [&](const Finding* x, const Finding* y) {
      if (x->verdict != y->verdict) return static_cast<int>(x->verdict) > static_cast<int>(y->verdict);
      return newest_.groups[x->group].count > newest_.groups[y->group].count;
    });
    out_ << "<section id=\"findings\">\n<h2>Findings</h2>\n";
    if (shown.empty()) out_ << "<p class=\"muted\">No leaks or suspects in the newest snapshot.</p>\n";
    for (const Finding* f : shown) finding(*f);
    if (!folded.empty()) folded_findings(folded);
    out_ << "</section>\n";
  }

  void finding(const Finding& f) {
    const Group& g = newest_.groups[f.group];
    const Frame* at = g.telling_frame();
    out_ << "<article class=\"finding " << verdict_class(f.verdict) << "\" id=\"finding-" << f.group << "\">\n<h3>"
         << badge(f.verdict) << " " << e(cause_title(f.cause)) << " <code class=\"cause\">" << e(cause_id(f.cause))
         << "</code></h3>\n<p class=\"where\">" << group_link(f.group) << ": "
         << plural(g.count, "goroutine", "goroutines");
    if (!g.state.empty()) out_ << " [" << e(g.state) << "]";
    if (at) out_ << " in <code>" << e(at->function) << "</code> at <code>" << e(short_location(at->where)) << "</code>";
    out_ << "</p>\n";
    if (!f.explanation.empty()) out_ << "<p>" << e(f.explanation) << "</p>\n";
    if (!f.fix.empty()) out_ << "<p class=\"fix\"><b>Fix:</b> " << e(f.fix) << "</p>\n";
    if (!f.evidence.empty()) {
      out_ << "<ul class=\"evidence\">";
      for (const std::string& ev : f.evidence) out_ << "<li>" << e(ev) << "</li>";
      out_ << "</ul>\n";
    }
    if (!f.source_line.empty()) {
      out_ << "<pre class=\"source\"><span class=\"muted\">" << (at ? e(short_location(at->where)) : "") << "</span>  "
           << e(f.source_line) << "</pre>\n";
    }
    out_ << "</article>\n";
  }

  void folded_findings(const std::vector<const Finding*>& folded) {
    out_ << "<details class=\"folded\"><summary>"
         << plural(static_cast<std::int64_t>(folded.size()), "group", "groups")
         << " blocked with a likely cause but no evidence of a leak</summary><ul>\n";
    for (const Finding* f : folded) {
      const Group& g = newest_.groups[f->group];
      out_ << "<li>" << group_link(f->group) << " (" << g.count << "): " << e(cause_title(f->cause))
           << " <code>" << e(cause_id(f->cause)) << "</code> in <code>" << e(group_name(g)) << "</code></li>\n";
    }
    out_ << "</ul></details>\n";
  }

  void groups_table() {
    out_ << "<section id=\"groups\">\n<h2>Groups of the newest snapshot</h2>\n"
         << "<p class=\"tools\"><input type=\"search\" id=\"filter\" placeholder=\"Filter by function, state, label"
            "\xe2\x80\xa6\" aria-label=\"Filter groups\"> <span id=\"filter-count\" class=\"muted\"></span>"
            "<span class=\"muted\"> \xc2\xb7 click a row for its stack</span></p>\n"
         << "<table class=\"groups\"><thead><tr><th class=\"num\">#</th><th class=\"num\">Count</th><th>State</th>"
            "<th>Wait</th><th>Created by</th><th>Labels</th><th>First user frame</th><th>Verdict</th></tr></thead>"
            "<tbody>\n";
    for (std::size_t i = 0; i < newest_.groups.size(); ++i) group_row(i);
    out_ << "</tbody></table>\n</section>\n";
  }

  void group_row(std::size_t i) {
    const Group& g = newest_.groups[i];
    const Finding* f = by_group_[i];
    Verdict v = f ? f->verdict : Verdict::kOk;
    std::string stack;  // what the filter box matches besides the row's text
    for (const Frame& fr : g.frames) stack += fr.function + " ";
    out_ << "<tr data-group=\"" << i << "\" class=\"" << verdict_class(v) << "\" data-stack=\"" << e(stack) << "\">"
         << "<td class=\"num\"><a href=\"#group-" << i << "\">" << i << "</a></td><td class=\"num\">" << g.count
         << "</td><td>" << state_html(g) << "</td><td class=\"nowrap\">" << wait_range(g) << "</td><td>";
    if (g.created_by) {
      out_ << "<code title=\"" << e(location(g.created_by->where)) << "\">" << e(g.created_by->function) << "</code>";
    }
    out_ << "</td><td class=\"mono\">" << e(labels_text(g)) << "</td><td>";
    if (const Frame* u = g.first_user_frame()) {
      out_ << "<code>" << e(u->function) << "</code> <span class=\"muted\">" << e(short_location(u->where)) << "</span>";
    }
    out_ << "</td><td class=\"nowrap\">" << badge(v);
    if (f && f->cause != Cause::kNone) out_ << " <span class=\"muted\">" << e(cause_id(f->cause)) << "</span>";
    out_ << "</td></tr>\n";
  }

  std::string state_html(const Group& g) const {
    std::string s = e(g.state);
    if (g.state_inferred) s += " <span class=\"muted\" title=\"inferred from the runtime frames\">(inferred)</span>";
    if (g.leaked) s += " <span class=\"badge leak\">" + std::to_string(g.leaked) + " leaked</span>";
    if (g.locked_to_thread) s += " <span class=\"muted\">locked to thread</span>";
    return s;
  }

  void stacks() {
    out_ << "<section id=\"stacks\">\n<h2>Stacks</h2>\n";
    for (std::size_t i = 0; i < newest_.groups.size(); ++i) stack(i);
    out_ << "</section>\n";
  }

  // One group's stack as Go prints a goroutine's, headed by its count.
  // Open when it leaks or is suspect: those are the stacks one reads.
  void stack(std::size_t i) {
    const Group& g = newest_.groups[i];
    Verdict v = by_group_[i] ? by_group_[i]->verdict : Verdict::kOk;
    out_ << "<details class=\"stack " << verdict_class(v) << "\" id=\"group-" << i << "\""
         << (v != Verdict::kOk ? " open" : "") << "><summary><b>group " << i << "</b> \xc2\xb7 "
         << plural(g.count, "goroutine", "goroutines");
    if (!g.state.empty()) out_ << " [" << e(g.state) << "]";
    out_ << " \xc2\xb7 <code>" << e(group_name(g)) << "</code> " << badge(v) << "</summary>\n<pre>";
    stack_head(g);
    const Frame* user = g.first_user_frame();
    for (const std::string& rf : g.runtime_frames) out_ << "<span class=\"muted\">" << e(rf) << "</span>\n";
    for (const Frame& f : g.frames) {
      out_ << (&f == user ? "<b>" : "") << e(f.function) << "(" << e(f.args) << ")" << (&f == user ? "</b>" : "")
           << "\n\t" << e(location(f.where)) << "\n";
    }
    if (g.elided_frames > 0) out_ << "...<i>" << g.elided_frames << " frames elided</i>...\n";
    if (g.elided_frames < 0) out_ << "...<i>additional frames elided</i>...\n";
    if (g.created_by) {
      out_ << "created by " << e(g.created_by->function);
      if (g.created_by->creator_id) out_ << " in goroutine " << g.created_by->creator_id;
      out_ << "\n\t" << e(location(g.created_by->where)) << "\n";
    }
    out_ << "</pre></details>\n";
  }

  // "12 goroutines [chan receive, 5-12 minutes]: 1, 7, 9, ..." and labels.
  void stack_head(const Group& g) {
    out_ << plural(g.count, "goroutine", "goroutines") << " [" << e(g.state.empty() ? "state unknown" : g.state);
    if (g.max_wait_minutes) out_ << ", " << wait_range(g);
    if (g.locked_to_thread) out_ << ", locked to thread";
    out_ << "]";
    if (!g.ids.empty()) {
      out_ << ": ids";
      for (std::uint64_t id : g.ids) out_ << " " << id;
      if (static_cast<std::int64_t>(g.ids.size()) < g.count) out_ << " \xe2\x80\xa6";
    }
    out_ << "\n";
    if (!g.labels.empty()) out_ << "labels: " << e(labels_text(g)) << "\n";
    if (g.stack_unavailable) {
      out_ << "<i>" << plural(g.stack_unavailable, "goroutine", "goroutines")
           << " running on another thread; stack unavailable</i>\n";
    }
    if (g.leaked) out_ << "<i>" << g.leaked << " marked (leaked) by Go</i>\n";
    out_ << "\n";
  }

  void flame() {
    out_ << "<section id=\"flame\">\n<h2>Flame graph</h2>\n<p class=\"muted\">The newest snapshot's "
         << plural(newest_.total, "goroutine", "goroutines")
         << ": the outermost frame at the top, each row a frame deeper; a frame's width is its goroutine count. "
            "Hover a frame for its count, click it to filter the groups. <span class=\"swatch leak\"></span> a leaking group's innermost frame, "
            "<span class=\"swatch suspect\"></span> a suspect one's.</p>\n<div class=\"flame-wrap\">\n";
    write_flame_svg(out_, build_flame_tree(newest_, a_.findings));
    out_ << "</div>\n</section>\n";
  }

  void growth() {
    out_ << "<section id=\"growth\">\n<h2>Growth over time</h2>\n<p class=\"muted\">"
         << a_.snapshots.size() << " snapshots, oldest first. <i>grows</i>: never shrank and grew; <i>new</i>: "
            "absent from the first; <i>vanished</i>: absent from the last.</p>\n"
         << "<table class=\"growth\"><thead><tr><th>Group</th><th>Trend</th><th>Counts</th><th class=\"num\">"
            "Growth</th><th>Flags</th></tr></thead><tbody>\n<tr class=\"total\"><td><b>all goroutines</b></td><td>"
         << sparkline(a_.diff.totals, false) << "</td><td class=\"mono\">" << counts(a_.diff.totals)
         << "</td><td class=\"num\">" << signed_growth(a_.diff.totals) << "</td><td></td></tr>\n";
    for (const GroupSeries& s : a_.diff.series) series_row(s);
    out_ << "</tbody></table>\n</section>\n";
  }

  void series_row(const GroupSeries& s) {
    const Group* g = s.snapshot < a_.snapshots.size() && s.group < a_.snapshots[s.snapshot].groups.size()
                         ? &a_.snapshots[s.snapshot].groups[s.group]
                         : nullptr;
    std::string name = g ? group_name(*g) : s.key;
    bool current = s.snapshot + 1 == a_.snapshots.size() && g;
    out_ << "<tr" << (s.monotonic_growth ? " class=\"grows\"" : "") << "><td>";
    if (current) out_ << "<a href=\"#group-" << s.group << "\"><code>" << e(name) << "</code></a>";
    else out_ << "<code>" << e(name) << "</code>";
    if (g && !g->state.empty()) out_ << " <span class=\"muted\">[" << e(g->state) << "]</span>";
    out_ << "</td><td>" << sparkline(s.counts, s.monotonic_growth) << "</td><td class=\"mono\">" << counts(s.counts)
         << "</td><td class=\"num\">" << (s.growth > 0 ? "+" : "") << s.growth << "</td><td>";
    if (s.monotonic_growth) out_ << "<span class=\"flag grows\">grows</span> ";
    if (s.is_new) out_ << "<span class=\"flag new\">new</span> ";
    if (s.vanished) out_ << "<span class=\"flag vanished\">vanished</span>";
    out_ << "</td></tr>\n";
  }

  static std::string counts(const std::vector<std::int64_t>& c) {
    std::string s;
    for (std::size_t i = 0; i < c.size(); ++i) s += (i ? " \xe2\x86\x92 " : "") + std::to_string(c[i]);
    return s;
  }

  static std::string signed_growth(const std::vector<std::int64_t>& c) {
    if (c.empty()) return "";
    std::int64_t d = c.back() - c.front();
    return (d > 0 ? "+" : "") + std::to_string(d);
  }

  // A 100x20 line of the counts, scaled to their maximum, with a dot on the
  // newest. Red when the series grows like a leak.
  static std::string sparkline(const std::vector<std::int64_t>& c, bool grows) {
    if (c.empty()) return "";
    std::int64_t max = 1;
    for (std::int64_t v : c) max = std::max(max, v);
    std::string points, last;
    for (std::size_t i = 0; i < c.size(); ++i) {
      double x = c.size() > 1 ? 2 + 96.0 * i / (c.size() - 1) : 50;
      double y = 18 - 16.0 * c[i] / max;
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.1f,%.1f", x, y);
      points += (i ? " " : "") + std::string(buf);
      last = buf;
    }
    std::string cx = last.substr(0, last.find(',')), cy = last.substr(last.find(',') + 1);
    return std::string("<svg class=\"spark") + (grows ? " grows" : "") +
           "\" viewBox=\"0 0 100 20\" width=\"100\" height=\"20\" aria-hidden=\"true\"><polyline points=\"" + points +
           "\"/><circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"2\"/></svg>";
  }

  // Filter box, row clicks (to the stack) and flame graph clicks (filter
  // the groups by that frame's function). Sets data-ready last, so a test (or a
  // reader's devtools) can tell that it ran to the end.
  void script() {
    out_ << "<script>" << kScript << "</script>\n</body>\n</html>\n";
  }

  static constexpr const char* kStyle = R"css(
:root { color-scheme: light; --fg: #1f2328; --muted: #656d76; --line: #d8dee4; --head: #f6f8fa;
  --leak: #b42318; --suspect: #b54708; --ok: #1a7f37; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1260px; padding: 16px 24px 48px; color: var(--fg); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: baseline; gap: 24px; border-bottom: 2px solid var(--fg); padding-bottom: 6px; }
h1 { font-size: 20px; margin: 0; }
nav a { margin-right: 12px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 3px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 4px; }
p { margin: 6px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
table.sources, table.causes { width: auto; min-width: 50%; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12px; }
td code { overflow-wrap: anywhere; }
pre { background: var(--head); border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
  margin: 6px 0; overflow-x: auto; tab-size: 4; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: 600;
  line-height: 18px; color: #fff; background: var(--muted); }
.badge.leak { background: var(--leak); }
.badge.suspect { background: var(--suspect); }
.badge.ok { background: #dafbe1; color: var(--ok); }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--muted); border-radius: 4px;
  padding: 8px 12px; margin: 10px 0; }
.finding.leak { border-left-color: var(--leak); }
.finding.suspect { border-left-color: var(--suspect); }
.finding code.cause { color: var(--muted); font-weight: normal; }
.fix { background: #f0f7ff; padding: 4px 8px; border-radius: 3px; }
.evidence { margin: 4px 0; padding-left: 20px; }
pre.source { background: #fffbe6; border-color: #f0d98c; }
.tools input { font: inherit; padding: 3px 8px; width: 320px; border: 1px solid var(--line); border-radius: 4px; }
table.groups tbody tr { cursor: pointer; }
table.groups tbody tr:hover { background: #f3f7fd; }
table.groups tr.leak td:first-child { box-shadow: inset 3px 0 var(--leak); }
table.groups tr.suspect td:first-child { box-shadow: inset 3px 0 var(--suspect); }
details.stack { margin: 4px 0; }
details.stack > summary { cursor: pointer; padding: 2px 0; }
details.stack:target > summary { background: #fff8c5; }
details.folded { margin: 10px 0; }
.flame-wrap { border: 1px solid var(--line); border-radius: 4px; padding: 4px; overflow-x: auto; }
svg.flame { display: block; max-width: 100%; height: auto; }
svg.flame text { fill: #000; pointer-events: none; }
svg.flame g.f { cursor: pointer; }
svg.flame g.f:hover rect { stroke: #000; stroke-width: 1; }
svg.flame g.leak rect { stroke: #4a1457; stroke-width: 1.5; }
svg.flame g.suspect rect { stroke: #1d4f7a; stroke-width: 1.5; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; border-radius: 2px; }
.swatch.leak { background: rgb(190,80,228); border: 1px solid #4a1457; }
.swatch.suspect { background: rgb(130,190,242); border: 1px solid #1d4f7a; }
svg.spark { vertical-align: middle; }
svg.spark polyline { fill: none; stroke: var(--muted); stroke-width: 1.5; }
svg.spark circle { fill: var(--muted); }
svg.spark.grows polyline { stroke: var(--leak); }
svg.spark.grows circle { fill: var(--leak); }
table.growth tr.total td { background: var(--head); }
.flag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 12px; border: 1px solid var(--line); }
.flag.grows { color: var(--leak); border-color: var(--leak); }
.flag.new { color: var(--link); border-color: var(--link); }
.flag.vanished { color: var(--muted); }
)css";

  static constexpr const char* kScript = R"js(
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.groups tbody tr"));
  var box = document.getElementById("filter"), shown = document.getElementById("filter-count");
  function filter() {
    var q = box.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var hit = !q || (r.textContent + " " + r.dataset.stack).toLowerCase().indexOf(q) !== -1;
      r.hidden = !hit;
      if (hit) n++;
    });
    shown.textContent = n + " of " + rows.length + " groups";
  }
  function openTarget() {
    var t = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (t && t.tagName === "DETAILS") t.open = true;
  }
  box.addEventListener("input", filter);
  rows.forEach(function (r) {
    r.addEventListener("click", function (ev) {
      if (ev.target.closest("a")) return;
      location.hash = "group-" + r.dataset.group;
      openTarget();  // hashchange comes later, and not at all when the hash is the same
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("svg.flame g.f"), function (g, i) {
    g.addEventListener("click", function () {
      var t = g.querySelector("title").textContent;
      box.value = i === 0 ? "" : t.slice(0, t.lastIndexOf(" \u2014 "));  // the root: all groups
      filter();
      location.hash = "groups";
    });
  });
  window.addEventListener("hashchange", openTarget);
  openTarget();
  filter();
  document.documentElement.dataset.ready = "1";
})();
)js";

  std::ostream& out_;
  const Analysis& a_;
  const Snapshot& newest_;
  std::vector<const Finding*> by_group_;  // newest_.groups[i]'s finding, or nullptr
};

}  // namespace

void write_html_report(std::ostream& out, const Analysis& analysis) {
  if (analysis.snapshots.empty()) {
    out << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>goro-leaks: no snapshots</title>"
           "</head><body><p>No snapshots.</p></body></html>\n";
    return;
  }
  Page(out, analysis).write();
}

}  // namespace goro_leaks
