#include "text_output.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>

namespace goro_leaks {
namespace {

std::string top_frame(const Group& g) {
  const Frame* f = g.telling_frame();
  if (f == nullptr) return g.stack_unavailable > 0 ? "(stack unavailable)" : "(no frames)";
  return fmt::format("{} {}:{}", f->function, f->where.file, f->where.line);
}

std::string wait_range(const Group& g) {
  if (g.max_wait_minutes == 0) return "-";
  if (g.min_wait_minutes == g.max_wait_minutes) return fmt::format("{}m", g.max_wait_minutes);
  return fmt::format("{}-{}m", g.min_wait_minutes, g.max_wait_minutes);
}

std::string state_of(const Group& g) {
  if (g.state.empty()) return "?";
  std::string s = g.state_inferred ? "~" + g.state : g.state;
  if (g.leaked > 0) s += " (leaked)";
  return s;
}

std::string labels_of(const Group& g) {
  std::string s;
  for (const auto& [k, v] : g.labels) s += fmt::format("{}{}={}", s.empty() ? "" : ",", k, v);
  return s;
}

std::size_t shown(std::size_t n, const TextOptions& o) { return o.top == 0 ? n : std::min(n, o.top); }

void print_sources(std::ostream& out, const Analysis& a) {
  bool one_source = std::all_of(a.snapshots.begin(), a.snapshots.end(),
                                [&](const Snapshot& s) { return s.source == a.snapshots.front().source; });
  if (one_source && a.snapshots.size() > 1) {  // watch: the same URL polled
    fmt::print(out, "{}: {} snapshots ({})\n", a.snapshots.front().source, a.snapshots.size(),
               format_name(a.snapshots.back().format));
    return;
  }
  for (const Snapshot& s : a.snapshots) {
    fmt::print(out, "{}: {} goroutines in {} groups ({})\n", s.source, s.total, s.groups.size(), format_name(s.format));
  }
}

}  // namespace

void print_stack(std::ostream& out, const Group& g) {
  for (const Frame& f : g.frames) {
    fmt::print(out, "  {}({})\n  \t{}:{}\n", f.function, f.args, f.where.file, f.where.line);
  }
  if (g.elided_frames != 0) {
    fmt::print(out, "  ...{} frames elided...\n",
               g.elided_frames > 0 ? std::to_string(g.elided_frames) : std::string("additional"));
  }
  if (g.created_by) {
    const CreatedBy& c = *g.created_by;
    fmt::print(out, "  created by {}{}\n  \t{}:{}\n", c.function,
               c.creator_id != 0 ? fmt::format(" in goroutine {}", c.creator_id) : "", c.where.file, c.where.line);
  }
}

void print_summary(std::ostream& out, const Analysis& a, const TextOptions& o) {
  const Snapshot& s = a.snapshots.back();
  fmt::print(out, "{}: {} goroutines in {} groups ({}, similarity {})\n\n", s.source, s.total, s.groups.size(),
             format_name(s.format), similarity_name(a.similarity));
  fmt::print(out, "{:>8}  {:<24} {:>7}  {:<28} {}\n", "COUNT", "STATE", "WAIT", "CREATED BY", "WHERE");
  for (std::size_t i = 0; i < shown(s.groups.size(), o); ++i) {
    const Group& g = s.groups[i];
    std::string created = g.created_by ? g.created_by->function : "-";
    fmt::print(out, "{:>8}  {:<24} {:>7}  {:<28} {}", g.count, state_of(g), wait_range(g), created, top_frame(g));
    if (!g.labels.empty()) fmt::print(out, "  {{{}}}", labels_of(g));
    out << '\n';
  }
  if (shown(s.groups.size(), o) < s.groups.size()) {
    fmt::print(out, "... {} more groups (--top 0 shows all)\n", s.groups.size() - shown(s.groups.size(), o));
  }
  if (!o.stacks) return;
  for (std::size_t i = 0; i < shown(s.groups.size(), o); ++i) {
    const Group& g = s.groups[i];
    fmt::print(out, "\n{} goroutine{} [{}]{}:\n", g.count, g.count == 1 ? "" : "s", state_of(g),
               g.ids.empty() ? "" : fmt::format(" e.g. goroutine {}", g.ids.front()));
    print_stack(out, g);
  }
}

void print_diff(std::ostream& out, const Analysis& a, const TextOptions& o) {
  print_sources(out, a);
  std::string totals;
  for (std::int64_t t : a.diff.totals) totals += (totals.empty() ? "" : " -> ") + std::to_string(t);
  fmt::print(out, "\ntotal: {}\n\n{:>8}  {:<20} {:<16} {:<20} {}\n", totals, "GROWTH", "COUNTS", "FLAGS", "STATE", "WHERE");
  for (std::size_t i = 0; i < shown(a.diff.series.size(), o); ++i) {
    const GroupSeries& s = a.diff.series[i];
    const Group& g = a.snapshots[s.snapshot].groups[s.group];
    std::string counts;
    for (std::int64_t c : s.counts) counts += (counts.empty() ? "" : " ") + std::to_string(c);
    std::string flags = s.is_new ? "new" : s.vanished ? "vanished" : s.monotonic_growth ? "growing" : "";
    if (s.is_new && s.monotonic_growth && s.counts.size() > 2) flags = "new,growing";
    fmt::print(out, "{:>+8}  {:<20} {:<16} {:<20} {}\n", s.growth, counts, flags.empty() ? "-" : flags, state_of(g),
               top_frame(g));
  }
  if (shown(a.diff.series.size(), o) < a.diff.series.size()) {
    fmt::print(out, "... {} more groups (--top 0 shows all)\n", a.diff.series.size() - shown(a.diff.series.size(), o));
  }
}

void print_classify(std::ostream& out, const Analysis& a, const TextOptions& o) {
  const Snapshot& last = a.snapshots.back();
  std::size_t leaks = 0, suspects = 0, printed = 0;
  for (const Finding& f : a.findings) {
    leaks += f.verdict == Verdict::kLeak;
    suspects += f.verdict == Verdict::kSuspect;
    if (!o.all && f.verdict == Verdict::kOk) continue;
    if (o.top != 0 && printed == o.top) continue;
    ++printed;
    const Group& g = last.groups[f.group];
    fmt::print(out, "{:<7} {} — {} ({} goroutine{} [{}])\n", fmt::format("[{}]", verdict_name(f.verdict)), cause_id(f.cause),
               cause_title(f.cause), g.count, g.count == 1 ? "" : "s", state_of(g));
    fmt::print(out, "  where:    {}\n", top_frame(g));
    if (!f.source_line.empty()) fmt::print(out, "  source:   {}\n", f.source_line);
    for (const std::string& e : f.evidence) fmt::print(out, "  evidence: {}\n", e);
    if (!f.explanation.empty()) fmt::print(out, "  why:      {}\n", f.explanation);
    if (!f.fix.empty()) fmt::print(out, "  fix:      {}\n", f.fix);
    if (o.stacks) print_stack(out, g);
    out << '\n';
  }
  fmt::print(out, "{} leak{}, {} suspect{} in {} groups of {} goroutines ({} snapshot{})\n", leaks, leaks == 1 ? "" : "s",
             suspects, suspects == 1 ? "" : "s", last.groups.size(), last.total, a.snapshots.size(),
             a.snapshots.size() == 1 ? "" : "s");
}

}  // namespace goro_leaks
