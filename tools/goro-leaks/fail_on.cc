#include "fail_on.h"

#include <algorithm>
#include <array>

#include "text_util.h"

namespace goro_leaks {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool compare(std::int64_t lhs, const std::string& op, std::int64_t rhs) {
  if (op == ">") return lhs > rhs;
  if (op == ">=") return lhs >= rhs;
  if (op == "<") return lhs < rhs;
  if (op == "<=") return lhs <= rhs;
  return lhs == rhs;
}

constexpr std::array<std::string_view, 6> kMetrics = {"count", "total", "growth", "total-growth", "leaks", "suspects"};

bool is_cause_id(std::string_view id) {
  for (int c = static_cast<int>(Cause::kNone); c <= static_cast<int>(Cause::kUnknownBlocked); ++c) {
    if (cause_id(static_cast<Cause>(c)) == id) return true;
  }
  return false;
}

// The value of a metric, and which group gave it (for the message).
std::pair<std::int64_t, std::string> measure(const Analysis& a, const std::string& metric) {
  const Snapshot& last = a.snapshots.back();
  auto first_user = [](const Group& g) {
    const Frame* f = g.telling_frame();
    return f != nullptr ? f->function : std::string("?");
  };
  if (metric == "count") {
    if (last.groups.empty()) return {0, ""};
    return {last.groups.front().count, first_user(last.groups.front())};  // groups are sorted by count
  }
  if (metric == "total") return {last.total, ""};
  if (metric == "total-growth") return {a.diff.totals.back() - a.diff.totals.front(), ""};
  if (metric == "growth") {
    if (a.diff.series.empty()) return {0, ""};
    const GroupSeries& s = a.diff.series.front();  // sorted by growth
    return {s.growth, first_user(a.snapshots[s.snapshot].groups[s.group])};
  }
  Verdict at_least = metric == "leaks" ? Verdict::kLeak : Verdict::kSuspect;
  return {std::count_if(a.findings.begin(), a.findings.end(), [&](const Finding& f) { return f.verdict >= at_least; }),
          ""};
}

}  // namespace

FailOn::FailOn(std::string_view expr) : text_(expr) {
  std::string_view rest = expr;
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view t = trim(rest.substr(0, comma));
    if (t.empty()) throw FailOnError("--fail-on: empty term in \"" + text_ + "\"");
    Term term;
    term.text = std::string(t);
    if (t == "leak" || t == "leaked" || t == "suspect") {
      term.metric = t == "suspect" ? "suspect" : "leak";
    } else if (starts_with(t, "cause=")) {
      term.metric = "cause";
      term.cause = std::string(t.substr(6));
      if (!is_cause_id(term.cause)) throw FailOnError("--fail-on: unknown cause \"" + term.cause + "\"");
    } else {
      std::size_t op = t.find_first_of("<>=");
      if (op == std::string_view::npos) throw FailOnError("--fail-on: unknown term \"" + term.text + "\"");
      term.metric = std::string(trim(t.substr(0, op)));
      std::size_t num = t.find_first_not_of("<>=", op);
      term.op = std::string(t.substr(op, num - op));
      if (std::find(kMetrics.begin(), kMetrics.end(), term.metric) == kMetrics.end()) {
        throw FailOnError("--fail-on: unknown metric \"" + term.metric + "\" (count, total, growth, total-growth, leaks, suspects)");
      }
      if (term.op != ">" && term.op != ">=" && term.op != "<" && term.op != "<=" && term.op != "==") {
        throw FailOnError("--fail-on: unknown operator \"" + term.op + "\" in \"" + term.text + "\"");
      }
      if (num == std::string_view::npos || !parse_int(trim(t.substr(num)), &term.value)) {
        throw FailOnError("--fail-on: \"" + term.text + "\" needs a whole number after " + term.op);
      }
    }
    terms_.push_back(std::move(term));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
}

std::vector<std::string> FailOn::matches(const Analysis& a) const {
  std::vector<std::string> out;
  for (const Term& t : terms_) {
    if (t.metric == "leak" || t.metric == "suspect" || t.metric == "cause") {
      Verdict at_least = t.metric == "leak" ? Verdict::kLeak : Verdict::kSuspect;
      for (const Finding& f : a.findings) {
        if (f.verdict < at_least || (t.metric == "cause" && cause_id(f.cause) != t.cause)) continue;
        const Group& g = a.snapshots.back().groups[f.group];
        out.push_back(t.text + ": " + std::to_string(g.count) + " goroutines, " + std::string(cause_id(f.cause)) + ", " +
                      std::string(verdict_name(f.verdict)));
        break;
      }
      continue;
    }
    auto [value, who] = measure(a, t.metric);
    if (compare(value, t.op, t.value)) {
      out.push_back(t.text + ": " + t.metric + " is " + std::to_string(value) + (who.empty() ? "" : " (" + who + ")"));
    }
  }
  return out;
}

}  // namespace goro_leaks
