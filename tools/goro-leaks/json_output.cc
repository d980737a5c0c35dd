#include "json_output.h"

namespace goro_leaks {
namespace {

using nlohmann::json;

json location_json(const Location& l) {
  json j = {{"file", l.file}, {"line", l.line}};
  if (l.offset >= 0) j["offset"] = l.offset;
  return j;
}

json sources_json(const Analysis& a) {
  json out = json::array();
  for (const Snapshot& s : a.snapshots) {
    out.push_back({{"source", s.source}, {"format", format_name(s.format)}, {"total", s.total},
                   {"groups", s.groups.size()}});
  }
  return out;
}

}  // namespace

json group_json(const Group& g) {
  json frames = json::array();
  for (const Frame& f : g.frames) {
    json j = location_json(f.where);
    j["function"] = f.function;
    j["args"] = f.args;
    frames.push_back(std::move(j));
  }
  json labels = json::object();
  for (const auto& [k, v] : g.labels) labels[k] = v;
  json j = {{"count", g.count},
            {"state", g.state},
            {"state_inferred", g.state_inferred},
            {"wait_minutes", {{"min", g.min_wait_minutes}, {"max", g.max_wait_minutes}}},
            {"leaked", g.leaked},
            {"locked_to_thread", g.locked_to_thread},
            {"stack_unavailable", g.stack_unavailable},
            {"frames", std::move(frames)},
            {"elided_frames", g.elided_frames},
            {"labels", std::move(labels)},
            {"ids", g.ids},
            {"first_line", g.first_line}};
  if (g.created_by) {
    json c = location_json(g.created_by->where);
    c["function"] = g.created_by->function;
    if (g.created_by->creator_id != 0) c["goroutine"] = g.created_by->creator_id;
    j["created_by"] = std::move(c);
  }
  if (const Frame* f = g.first_user_frame()) j["where"] = f->function;
  return j;
}

json summary_json(const Analysis& a) {
  json groups = json::array();
  for (const Group& g : a.snapshots.back().groups) groups.push_back(group_json(g));
  return {{"sources", sources_json(a)}, {"similarity", similarity_name(a.similarity)}, {"groups", std::move(groups)}};
}

json diff_json(const Analysis& a) {
  json series = json::array();
  for (const GroupSeries& s : a.diff.series) {
    series.push_back({{"counts", s.counts},
                      {"growth", s.growth},
                      {"new", s.is_new},
                      {"vanished", s.vanished},
                      {"growing", s.monotonic_growth},
                      {"group", group_json(a.snapshots[s.snapshot].groups[s.group])}});
  }
  return {{"sources", sources_json(a)}, {"similarity", similarity_name(a.similarity)},
          {"totals", a.diff.totals}, {"series", std::move(series)}};
}

json classify_json(const Analysis& a) {
  json findings = json::array();
  int leaks = 0, suspects = 0;
  for (const Finding& f : a.findings) {
    leaks += f.verdict == Verdict::kLeak;
    suspects += f.verdict == Verdict::kSuspect;
    json j = {{"verdict", verdict_name(f.verdict)},
              {"cause", cause_id(f.cause)},
              {"title", cause_title(f.cause)},
              {"explanation", f.explanation},
              {"fix", f.fix},
              {"evidence", f.evidence},
              {"group", group_json(a.snapshots.back().groups[f.group])}};
    if (!f.source_line.empty()) j["source_line"] = f.source_line;
    findings.push_back(std::move(j));
  }
  return {{"sources", sources_json(a)}, {"similarity", similarity_name(a.similarity)},
          {"leaks", leaks}, {"suspects", suspects}, {"findings", std::move(findings)}};
}

}  // namespace goro_leaks
