// The --json output of each command: the same content as the text output,
// complete (no --top cut), as one JSON document. Field names are stable:
// scripts and CI read them (docs/goro-leaks.md lists them).
#pragma once

#include <nlohmann/json.hpp>

#include "analysis.h"

namespace goro_leaks {

nlohmann::json group_json(const Group& g);
// {"sources": [...], "similarity": ..., "groups": [group...]} of the newest snapshot.
nlohmann::json summary_json(const Analysis& a);
// {"sources": [...], "totals": [...], "series": [{counts, growth, new, vanished, growing, group}...]}
nlohmann::json diff_json(const Analysis& a);
// {"sources": [...], "findings": [{verdict, cause, title, explanation, fix, evidence, source_line, group}...],
//  "leaks": N, "suspects": N} (all groups, ok ones included)
nlohmann::json classify_json(const Analysis& a);

}  // namespace goro_leaks
