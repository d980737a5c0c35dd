// goro-leaks: reads goroutine dumps (Go's and goro's) and says what leaks.
//
//   goro-leaks summary  DUMP               groups of identical stacks
//   goro-leaks diff     A B [C ...]        growth between snapshots
//   goro-leaks classify DUMP [DUMP ...]    a cause and a verdict per group
//   goro-leaks report   --html OUT DUMP... one self-contained HTML page
//   goro-leaks watch    URL                poll a live endpoint
//
// A DUMP is a file, "-" (stdin) or an http(s) URL; the format is detected.
// Exit codes: 0 done, 1 --fail-on held, 2 bad usage or input (fail_on.h).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "analysis.h"
#include "duration.h"
#include "fail_on.h"
#include "go_text_parser.h"
#include "html_report.h"
#include "input.h"
#include "json_output.h"
#include "text_output.h"
#include "watch.h"

namespace goro_leaks {
namespace {

struct Options {
  std::vector<std::string> inputs;
  bool json = false;
  std::string fail_on;
  bool fail_on_given = false;  // --fail-on "" is an error, not "no check"
  std::string similarity = "ignore-args";
  std::vector<std::string> sources;
  std::int64_t min_count = 10;
  std::string min_wait = "5m";
  std::size_t top = 0;
  bool stacks = false;
  bool all = false;
  std::string timeout = "30s";
  std::string html;
  std::string every = "10s";
  std::string duration = "5m";
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::chrono::nanoseconds duration_flag(const std::string& flag, const std::string& value) {
  auto d = parse_duration(value);
  if (!d) throw UsageError(flag + ": \"" + value + "\" is not a duration (like 500ms, 10s, 5m)");
  return *d;
}

Similarity similarity_flag(const Options& o) {
  auto s = parse_similarity(o.similarity);
  if (!s) throw UsageError("--similarity: \"" + o.similarity + "\" is not one of exact, ignore-args, function");
  return *s;
}

ClassifyOptions classify_options(const Options& o) {
  ClassifyOptions c;
  c.min_count = o.min_count;
  c.min_wait_minutes = static_cast<int>(duration_flag("--min-wait", o.min_wait) / std::chrono::minutes(1));
  // The stacks' files are looked up under the current directory unless told.
  c.source_roots = o.sources.empty() ? std::vector<std::string>{"."} : o.sources;
  return c;
}

FetchOptions fetch_options(const Options& o) {
  FetchOptions f;
  f.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(duration_flag("--timeout", o.timeout));
  if (f.timeout <= std::chrono::milliseconds(0)) throw UsageError("--timeout must be at least 1ms");
  return f;
}

Analysis load(const Options& o, bool with_findings) {
  Similarity sim = similarity_flag(o);
  std::vector<Snapshot> snaps;
  for (const std::string& in : o.inputs) {
    try {
      snaps.push_back(load_snapshot(in, sim, fetch_options(o)));
    } catch (const ParseError& e) {
      // profile.proto has no lines: its errors carry line 0, not worth saying.
      std::string what = e.what();
      if (e.line() == 0 && what.rfind("line 0: ", 0) == 0) what.erase(0, 8);
      throw InputError(in + ": " + what);
    }
  }
  return analyze(std::move(snaps), sim, classify_options(o), with_findings);
}

void print_json(const nlohmann::json& j) {
  // Dumps may hold bytes that are not UTF-8: replace them, never fail.
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

TextOptions text_options(const Options& o) { return {o.top, o.stacks, o.all}; }

// --fail-on, evaluated after the output: says which terms held.
int verdict(const std::optional<FailOn>& fail_on, const Analysis& a) {
  if (!fail_on) return kExitOk;
  std::vector<std::string> held = fail_on->matches(a);
  for (const std::string& h : held) std::cerr << "goro-leaks: --fail-on " << h << '\n';
  return held.empty() ? kExitOk : kExitFailOn;
}

// The last line of `watch`: one word for a glance at a terminal or a log.
void print_watch_verdict(std::ostream& out, const Analysis& a) {
  auto worst = Verdict::kOk;
  const Finding* top = nullptr;
  for (const Finding& f : a.findings) {
    if (f.verdict > worst) worst = f.verdict, top = &f;
  }
  if (top == nullptr) {
    out << "verdict: no leak over " << a.snapshots.size() << " polls\n";
    return;
  }
  const Group& g = a.snapshots.back().groups[top->group];
  const Frame* where = g.telling_frame();
  out << "verdict: " << (worst == Verdict::kLeak ? "LEAK" : "SUSPECT") << " — " << cause_id(top->cause) << " at "
      << (where != nullptr ? where->function : "?") << " ("
      << g.count << " goroutines)\n";
}

int run(const std::string& command, const Options& o) {
  std::optional<FailOn> fail_on;
  if (o.fail_on_given) fail_on.emplace(o.fail_on);  // bad expressions fail before any work
  Analysis a;
  if (command == "watch") {
    WatchOptions w;
    w.every = duration_flag("--every", o.every);
    w.duration = duration_flag("--for", o.duration);
    if (w.every <= std::chrono::nanoseconds(0)) throw UsageError("--every must be positive");
    w.similarity = similarity_flag(o);
    w.classify = classify_options(o);
    w.fetch = fetch_options(o);
    w.progress = !o.json && isatty(STDERR_FILENO);
    a = watch(o.inputs.front(), w, o.json ? std::cerr : std::cout, std::cerr);
  } else {
    // summary and diff print no findings; --fail-on may judge them.
    a = load(o, command == "classify" || command == "report" || o.fail_on_given);
  }
  TextOptions t = text_options(o);
  if (command == "summary") {
    o.json ? print_json(summary_json(a)) : print_summary(std::cout, a, t);
  } else if (command == "diff") {
    o.json ? print_json(diff_json(a)) : print_diff(std::cout, a, t);
  } else if (command == "classify") {
    o.json ? print_json(classify_json(a)) : print_classify(std::cout, a, t);
  } else if (command == "watch") {
    if (o.json) {
      nlohmann::json j = diff_json(a);
      j["findings"] = classify_json(a)["findings"];
      print_json(j);
    } else {
      std::cout << '\n';
      print_diff(std::cout, a, TextOptions{10, false, false});
      std::cout << '\n';
      print_classify(std::cout, a, t);
      print_watch_verdict(std::cout, a);
    }
  } else if (command == "report") {
    std::ofstream out(o.html, std::ios::binary);
    if (!out) throw InputError(o.html + ": cannot create the report: " + std::strerror(errno));
    write_html_report(out, a);
    out.close();
    if (!out) throw InputError(o.html + ": write failed");
    if (o.json) print_json(classify_json(a));
    else std::cout << "goro-leaks: wrote " << o.html << '\n';
  }
  return verdict(fail_on, a);
}

void common_flags(CLI::App* cmd, Options& o) {
  cmd->add_flag("--json", o.json, "Print JSON instead of text");
  cmd->add_option("--fail-on", o.fail_on,
                  "Exit 1 when EXPR holds: leak, suspect, cause=ID, count>N, total>N, growth>N, "
                  "total-growth>N, leaks>N, suspects>N; terms separated by commas (any holds)");
  cmd->add_option("--similarity", o.similarity, "Which goroutines are the same: exact, ignore-args, function")
      ->capture_default_str();
  // One directory per --source, so that the dumps after it stay dumps.
  cmd->add_option("--source", o.sources,
                  "Directory to find the stacks' source files in (repeatable; default: the current directory)")
      ->allow_extra_args(false);
  cmd->add_option("--min-count", o.min_count, "A blocked group this large is a suspect")->capture_default_str();
  cmd->add_option("--min-wait", o.min_wait, "A group blocked this long is a suspect")->capture_default_str();
  cmd->add_option("--top", o.top, "Show only the first N groups (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--stacks", o.stacks, "Print each group's stack");
  cmd->add_option("--timeout", o.timeout, "Connect and read timeout for URLs")->capture_default_str();
}

}  // namespace
}  // namespace goro_leaks

int main(int argc, char** argv) {
  using namespace goro_leaks;
  CLI::App app{"goro-leaks: finds leaking goroutines in Go and goro dumps (debug=2 text, debug=1 text, profile.proto; "
               "files, - for stdin, or http(s) URLs)"};
  app.require_subcommand(1);
  app.footer("A DUMP is a file, - (stdin) or an http(s) URL; its format is detected.\n"
             "Exit status: 0 done, 1 the --fail-on condition held, 2 bad usage or unreadable input.\n"
             "Guide: docs/goro-leaks.md");
  Options o;
  CLI::App* summary = app.add_subcommand("summary", "Groups of identical stacks, largest first");
  summary->add_option("dump", o.inputs, "Dump file, - or URL")->required()->expected(1);
  CLI::App* diff = app.add_subcommand("diff", "Growth of each group between snapshots (oldest first)");
  diff->add_option("dumps", o.inputs, "Two or more dumps, oldest first")->required()->expected(2, -1);
  CLI::App* classify = app.add_subcommand("classify", "Cause and verdict for each suspect group");
  classify->add_option("dumps", o.inputs, "One or more dumps of the same program, oldest first")->required();
  classify->add_flag("--all", o.all, "Show groups judged ok too");
  CLI::App* report = app.add_subcommand("report", "Write a self-contained HTML report");
  report->add_option("--html", o.html, "Output file")->required();
  report->add_option("dumps", o.inputs, "One or more dumps, oldest first")->required();
  CLI::App* watch = app.add_subcommand("watch", "Poll a live endpoint and report growth");
  watch->add_option("url", o.inputs, "URL of a goroutine dump (e.g. http://host/debug/pprof/goroutine?debug=2)")
      ->required()->expected(1);
  watch->add_option("--every", o.every, "Poll interval")->capture_default_str();
  watch->add_option("--for", o.duration, "How long to watch")->capture_default_str();
  for (CLI::App* cmd : {summary, diff, classify, report, watch}) common_flags(cmd, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitError;
  }
  CLI::App* command = app.get_subcommands().front();
  o.fail_on_given = command->count("--fail-on") > 0;
  try {
    return run(command->get_name(), o);
  } catch (const std::exception& e) {  // InputError, UsageError, FailOnError, ParseError
    std::cerr << "goro-leaks: " << e.what() << '\n';
    return kExitError;
  }
}
