// libFuzzer target: the whole of goro-leaks after the bytes arrive —
// format detection, parsing, grouping under each similarity, diff,
// classification and every printer (text, JSON, HTML) — on arbitrary bytes.
// Input is split at the first "\n--8<--\n" into two snapshots so that
// diff and the growth rules see series. A ParseError (from detection or a
// parser) is the only acceptable failure; the groups must add up to the
// total, and the printers must not throw (JSON replaces bytes that are not
// UTF-8 rather than failing, as the command does).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "analysis.h"
#include "fuzz_support.h"
#include "html_report.h"
#include "input.h"
#include "json_output.h"
#include "text_output.h"

namespace {

using namespace goro_leaks;

void check_totals(const Snapshot& s) {
  std::int64_t sum = 0;
  for (const Group& g : s.groups) {
    if (g.count <= 0) leaks_fuzz::fail("a group with a count below 1");
    if (__builtin_add_overflow(sum, g.count, &sum)) return;  // counts near INT64_MAX: the parser's business
  }
  if (sum != s.total) leaks_fuzz::fail("the groups do not add up to the snapshot's total");
}

void print_everything(const Analysis& a) {
  std::ostringstream sink;
  TextOptions all{0, true, true};
  print_summary(sink, a, all);
  print_diff(sink, a, all);
  print_classify(sink, a, all);
  for (const nlohmann::json& j : {summary_json(a), diff_json(a), classify_json(a)}) {
    sink << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  write_html_report(sink, a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::size_t cut = bytes.find("\n--8<--\n");
  std::vector<std::string> parts{bytes.substr(0, cut)};
  if (cut != std::string::npos) parts.push_back(bytes.substr(cut + 8));
  for (Similarity sim : {Similarity::kExact, Similarity::kIgnoreArgs, Similarity::kFunction}) {
    std::vector<Snapshot> snaps;
    bool ok = true;
    for (const std::string& part : parts) {
      ok = ok && leaks_fuzz::only_parse_errors(part, false, [&] {
        std::istringstream in(part);
        snaps.push_back(load_snapshot(in, "fuzz", sim));
      });
    }
    if (!ok) return 0;
    for (const Snapshot& s : snaps) check_totals(s);
    Analysis a = analyze(std::move(snaps), sim, ClassifyOptions{});
    if (a.findings.size() != a.snapshots.back().groups.size()) leaks_fuzz::fail("not one finding per group");
    print_everything(a);
  }
  return 0;
}
