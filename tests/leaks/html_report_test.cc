// goro-leaks' HTML report: one self-contained page, everything from the
// dumps escaped, every section there, a flame graph whose widths are the
// goroutine counts, growth only when there is a series; and a real browser
// (headless Chromium, when installed) renders it and runs its script
// without an error.
//
// The Analysis is built by hand, not by analyze(): the page must show
// whatever the classifier says, and its names are chosen to be hostile.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flame_graph.h"
#include "html_report.h"

namespace {

using namespace goro_leaks;

// ---------------------------------------------------------------------------
// The analysis under test.

constexpr const char* kScriptName = "<script>alert(1)</script>";
constexpr const char* kMapCall = "std::map<int, std::string>::operator()";
constexpr const char* kUrlSource = "http://localhost:6060/debug/pprof/goroutine?debug=2";

Frame frame(std::string function, std::string file, int line, std::string args = "") {
  return Frame{std::move(function), std::move(args), Location{std::move(file), line, 0x1d}};
}

Group group(std::string key, std::int64_t count, std::string state, std::vector<Frame> frames) {
  Group g;
  g.key = std::move(key);
  g.count = count;
  g.state = std::move(state);
  g.frames = std::move(frames);
  g.created_by = CreatedBy{"main.(*Server).Serve<T>", 1, Location{"/src/app/main.go", 42, 0x55}};
  for (std::uint64_t id = 1; id <= 3 && static_cast<std::int64_t>(id) <= count; ++id) g.ids.push_back(100 + id);
  return g;
}

// The newest snapshot, 60 goroutines:
//   main.main (57) -> main.pipeline (50) -> <script>... (30, leak)
//                                        -> std::map<...>::operator() (20, suspect)
//                  -> app::serve (6) -> sync.(*Mutex).Lock (6, leak)
//                  (1 ends in main.main itself)
//   net/http.(*Transport).dialConn (3) -> net/http.(*persistConn).readLoop (3)
std::vector<Group> newest_groups(std::int64_t scale_first) {
  Group hostile = group("k-script", 30 * scale_first / 3, "chan receive (nil chan)",
                        {frame(kScriptName, "/src/<evil>&\"quoted'.go", 7, "0xc000010000, \"x\""),
                         frame("main.pipeline", "/src/app/pipeline.go", 31), frame("main.main", "/src/app/main.go", 12)});
  hostile.min_wait_minutes = 5, hostile.max_wait_minutes = 12, hostile.leaked = 2;
  hostile.labels = {{"a&b", "\"><img src=x onerror=alert(2)>"}, {"job", "ingest"}};
  Group map = group("k-map", 20, "select <x>",
                    {frame(kMapCall, "/src/app/table.h", 88, "this=0x7ffd, k=<int>"),
                     frame("main.pipeline", "/src/app/pipeline.go", 35), frame("main.main", "/src/app/main.go", 12)});
  map.runtime_frames = {"runtime.gopark", "runtime.selectgo"};
  Group mutex = group("k-mutex", 6, "sync.Mutex.Lock",
                      {frame("sync.(*Mutex).Lock", "/go/src/sync/mutex.go", 81), frame("app::serve", "/src/app/serve.cc", 9),
                       frame("main.main", "/src/app/main.go", 14)});
  mutex.state_inferred = true;
  Group http = group("k-http", 3, "IO wait",
                     {frame("net/http.(*persistConn).readLoop", "/go/src/net/http/transport.go", 2205),
                      frame("net/http.(*Transport).dialConn", "/go/src/net/http/transport.go", 1777)});
  http.created_by->function = "net/http.(*Transport).dialConn";
  Group running = group("k-main", 1, "running", {frame("main.main", "/src/app/main.go", 20)});
  running.created_by.reset();
  running.elided_frames = 3;
  running.locked_to_thread = 1;
  return {hostile, map, mutex, http, running};
}

Snapshot snapshot(std::string source, Format format, std::vector<Group> groups) {
  Snapshot s;
  s.source = std::move(source);
  s.format = format;
  s.has_states = format == Format::kGoText;
  s.groups = std::move(groups);
  for (const Group& g : s.groups) s.total += g.count;
  return s;
}

Finding finding(std::size_t group, Cause cause, Verdict verdict, std::vector<std::string> evidence = {}) {
  Finding f;
  f.group = group;
  f.cause = cause;
  f.verdict = verdict;
  f.explanation = "explained <b>not bold</b> & \"quoted\"";
  f.fix = "fix it: pass ctx & cancel()";
  f.evidence = std::move(evidence);
  return f;
}

std::vector<Finding> newest_findings() {
  Finding nil = finding(0, Cause::kNilChannelReceive, Verdict::kLeak, {"grew 10 -> 20 -> 30", "2 marked (leaked)"});
  nil.source_line = "v := <-ch // never \"sent\" & never closed";
  return {nil, finding(1, Cause::kProducerConsumer, Verdict::kSuspect, {"20 goroutines"}),
          finding(2, Cause::kMutexNeverUnlocked, Verdict::kLeak, {"blocked 12 minutes"}),
          finding(3, Cause::kHttpBodyNotClosed, Verdict::kOk), finding(4, Cause::kNone, Verdict::kOk)};
}

GroupSeries series(std::string key, std::vector<std::int64_t> counts, std::size_t snap, std::size_t group) {
  GroupSeries s;
  s.key = std::move(key);
  s.counts = std::move(counts);
  s.snapshot = snap, s.group = group;
  s.growth = s.counts.back() - s.counts.front();
  s.is_new = s.counts.front() == 0;
  s.vanished = s.counts.back() == 0;
  return s;
}

// Three snapshots (the first from a URL): the script group grows 10 -> 20
// -> 30, the map group is new, "k-old" vanished after the second.
Analysis three_snapshots() {
  Analysis a;
  a.similarity = Similarity::kIgnoreArgs;
  std::vector<Group> first = newest_groups(1), second = newest_groups(2);
  first.erase(first.begin() + 1);  // no map group yet
  Group old = group("k-old", 1, "chan send", {frame("main.oldWorker", "/src/app/old.go", 5)});
  first.push_back(old), second.push_back(old);
  a.snapshots = {snapshot(kUrlSource, Format::kGoDebug1, first), snapshot("dumps/b.txt", Format::kGoText, second),
                 snapshot("dumps/<c>&.pb.gz", Format::kProfileProto, newest_groups(3))};
  a.diff.totals = {a.snapshots[0].total, a.snapshots[1].total, a.snapshots[2].total};
  a.diff.series = {series("k-script", {10, 20, 30}, 2, 0), series("k-map", {0, 20, 20}, 2, 1),
                   series("k-mutex", {6, 6, 6}, 2, 2),   series("k-http", {3, 3, 3}, 2, 3),
                   series("k-main", {1, 1, 1}, 2, 4),    series("k-old", {1, 1, 0}, 1, 5)};
  a.diff.series[0].monotonic_growth = a.diff.series[1].monotonic_growth = true;
  a.findings = newest_findings();
  return a;
}

Analysis one_snapshot() {
  Analysis a;
  a.similarity = Similarity::kFunction;
  a.snapshots = {snapshot("dumps/only.txt", Format::kGoText, newest_groups(3))};
  a.diff.totals = {a.snapshots[0].total};
  for (std::size_t i = 0; i < a.snapshots[0].groups.size(); ++i) {
    const Group& g = a.snapshots[0].groups[i];
    a.diff.series.push_back(series(g.key, {g.count}, 0, i));
  }
  a.findings = newest_findings();
  return a;
}

std::string report(const Analysis& a) {
  std::ostringstream out;
  write_html_report(out, a);
  return out.str();
}

std::size_t occurrences(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

// ---------------------------------------------------------------------------
// A strict scan of the page's markup: every tag and attribute is one the
// report writes itself (so nothing from a dump became markup), every link
// is in-page, every & starts an entity, and raw text (<script>, <style>)
// holds no URL.

struct Tag {
  std::string name;  // lower case; "/p" for an end tag
  std::map<std::string, std::string> attrs;
};

const std::set<std::string> kTags = {
    "html", "head", "meta", "title", "script", "style", "body", "header", "nav", "h1", "h2", "h3", "section",
    "article", "p", "a", "b", "i", "span", "code", "pre", "ul", "li", "table", "thead", "tbody", "tr", "th",
    "td", "details", "summary", "input", "div", "svg", "g", "rect", "text", "polyline", "circle"};
const std::set<std::string> kAttrs = {"lang", "charset", "name", "content", "class", "id", "href", "title", "type",
                                      "placeholder", "open", "role", "viewbox", "width", "height", "x", "y", "fill",
                                      "font-family", "font-size", "points", "cx", "cy", "r"};

bool allowed_attr(const std::string& name) {
  return kAttrs.count(name) || name.rfind("data-", 0) == 0 || name.rfind("aria-", 0) == 0;
}

void expect_entities_ok(const std::string& text, std::size_t at) {
  static const std::regex entity("^&(amp|lt|gt|quot|nbsp|#39);");
  for (std::size_t p = text.find('&'); p != std::string::npos; p = text.find('&', p + 1)) {
    EXPECT_TRUE(std::regex_search(text.substr(p, 8), entity)) << "bare & at " << at + p << ": " << text.substr(p, 40);
  }
}

// Parses one tag starting at html[p] == '<'; returns the index after '>'.
std::size_t parse_tag(const std::string& html, std::size_t p, Tag* tag) {
  std::size_t i = p + 1;
  if (html[i] == '/') tag->name = "/", ++i;
  while (i < html.size() && std::isalnum(static_cast<unsigned char>(html[i]))) tag->name += std::tolower(html[i++]);
  while (i < html.size() && html[i] != '>') {
    if (std::isspace(static_cast<unsigned char>(html[i])) || html[i] == '/') { ++i; continue; }
    std::string name, value;
    while (i < html.size() && !std::strchr(" =>/\t\n", html[i])) name += std::tolower(html[i++]);
    if (html[i] == '=') {
      char quote = html[++i];
      EXPECT_EQ(quote, '"') << "unquoted attribute " << name << " at " << i;
      std::size_t end = html.find(quote, i + 1);
      value = html.substr(i + 1, end - i - 1);
      i = end + 1;
    }
    expect_entities_ok(value, i);
    tag->attrs[name] = value;
  }
  return i + 1;
}

void check_tag(const Tag& t, std::size_t at) {
  std::string name = t.name[0] == '/' ? t.name.substr(1) : t.name;
  EXPECT_TRUE(kTags.count(name)) << "tag <" << t.name << "> at " << at;
  for (const auto& [k, v] : t.attrs) {
    EXPECT_TRUE(allowed_attr(k)) << "attribute " << k << " of <" << t.name << "> at " << at;
    EXPECT_EQ(v.find("://"), std::string::npos) << k << "=\"" << v << "\" at " << at;
    if (k == "href") {
      EXPECT_EQ(v.rfind("#", 0), 0u) << "a link out of the page: " << v;
    }
  }
  if (t.name == "meta" && t.attrs.count("http-equiv")) ADD_FAILURE() << "meta http-equiv";
}

// Scans the page; returns its tags in order.
std::vector<Tag> scan(const std::string& html) {
  std::vector<Tag> tags;
  const std::string doctype = "<!doctype html>";
  EXPECT_EQ(html.rfind(doctype, 0), 0u);
  std::size_t p = doctype.size();
  while (p < html.size()) {
    std::size_t lt = html.find('<', p);
    expect_entities_ok(html.substr(p, lt == std::string::npos ? std::string::npos : lt - p), p);
    if (lt == std::string::npos) break;
    Tag t;
    p = parse_tag(html, lt, &t);
    check_tag(t, lt);
    if (t.name == "script" || t.name == "style") {  // raw text up to its end tag
      std::size_t end = html.find("</" + t.name, p);
      std::string raw = html.substr(p, end - p);
      EXPECT_FALSE(has(raw, "http") || has(raw, "url(") || has(raw, "@import") || has(raw, "fetch(") ||
                   has(raw, "XMLHttpRequest")) << "<" << t.name << "> at " << lt << " reaches out";
      p = end;
    }
    tags.push_back(std::move(t));
  }
  return tags;
}

std::size_t count_tags(const std::vector<Tag>& tags, const std::string& name) {
  std::size_t n = 0;
  for (const Tag& t : tags) n += t.name == name;
  return n;
}

// ---------------------------------------------------------------------------

TEST(HtmlReport, IsOneSelfContainedHtml5Document) {
  std::string html = report(three_snapshots());
  std::vector<Tag> tags = scan(html);
  EXPECT_TRUE(has(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(std::regex_search(html, std::regex("<title>[^<]+</title>")));
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
  for (const char* once : {"html", "head", "body", "/html", "/head", "/body"}) {
    EXPECT_EQ(count_tags(tags, once), 1u) << once;
  }
  auto head_end = std::find_if(tags.begin(), tags.end(), [](const Tag& t) { return t.name == "/head"; });
  EXPECT_EQ(std::count_if(tags.begin(), head_end, [](const Tag& t) { return t.name == "title"; }), 1);
  for (const char* never : {"link", "img", "iframe", "object", "embed", "image", "use", "base", "form"}) {
    EXPECT_EQ(count_tags(tags, never), 0u) << never;
  }
  // The only URL on the page is a source's, as text: nothing to fetch.
  EXPECT_EQ(occurrences(html, "http://"), 1u);
  EXPECT_EQ(occurrences(html, "https://"), 0u);
  EXPECT_TRUE(has(html, "<td class=\"mono\">" + std::string(kUrlSource) + "</td>"));
  for (const Tag& t : tags) EXPECT_FALSE(t.attrs.count("src") || t.attrs.count("srcset")) << t.name;
  // Two scripts (the error trap first in <head>, the page's at the end);
  // neither has a src.
  EXPECT_EQ(count_tags(tags, "script"), 2u);
}

TEST(HtmlReport, EscapesEverythingFromTheDumps) {
  std::string html = report(three_snapshots());
  scan(html);  // no tag or attribute the report does not write itself
  EXPECT_FALSE(has(html, kScriptName));
  EXPECT_FALSE(has(html, "<img"));
  EXPECT_FALSE(has(html, "<b>not bold"));
  EXPECT_FALSE(has(html, "<evil>"));
  EXPECT_FALSE(has(html, "std::map<int"));
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;(0xc000010000, &quot;x&quot;)"));
  EXPECT_TRUE(has(html, "std::map&lt;int, std::string&gt;::operator()(this=0x7ffd, k=&lt;int&gt;)"));
  EXPECT_TRUE(has(html, "/src/&lt;evil&gt;&amp;&quot;quoted&#39;.go:7 +0x1d"));
  EXPECT_TRUE(has(html, "a&amp;b=&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));  // a label, as text
  EXPECT_TRUE(has(html, "select &lt;x&gt;"));
  EXPECT_TRUE(has(html, "explained &lt;b&gt;not bold&lt;/b&gt; &amp; &quot;quoted&quot;"));
  EXPECT_TRUE(has(html, "v := &lt;-ch // never &quot;sent&quot; &amp; never closed"));
  EXPECT_TRUE(has(html, "dumps/&lt;c&gt;&amp;.pb.gz"));
  // The flame graph's tooltips and labels too.
  EXPECT_TRUE(has(html, "<title>&lt;script&gt;alert(1)&lt;/script&gt; \xe2\x80\x94 30 goroutines (50.0%)</title>"));
}

TEST(HtmlReport, ControlCharactersFromADumpAreReplaced) {
  Analysis a = one_snapshot();
  a.snapshots[0].groups[0].frames[0].function = std::string("bad\x01name\x7f");
  std::string html = report(a);
  EXPECT_FALSE(has(html, "\x01"));
  EXPECT_FALSE(has(html, "\x7f"));
  EXPECT_TRUE(has(html, "bad\xef\xbf\xbdname\xef\xbf\xbd"));
}

TEST(HtmlReport, OverviewNamesSourcesFormatsTotalsAndVerdictCounts) {
  std::string html = report(three_snapshots());
  EXPECT_TRUE(has(html, "<section id=\"overview\">"));
  EXPECT_TRUE(has(html, "<td>go-debug1</td><td class=\"num\">21</td>"));  // newest_groups(1) but the map group, and k-old
  EXPECT_TRUE(has(html, "<td>go-text</td>"));
  EXPECT_TRUE(has(html, "<td>profile-proto</td><td class=\"num\">60</td><td class=\"num\">5</td>"));
  EXPECT_TRUE(has(html, "<b>ignore-args</b> similarity"));
  EXPECT_TRUE(has(html, ">2 leaks</span> 36 goroutines"));
  EXPECT_TRUE(has(html, ">1 suspect</span> 20 goroutines"));
  EXPECT_TRUE(has(html, "<title>goro-leaks: 2 leaks, 1 suspect"));
  // Causes with leak and suspect counts.
  EXPECT_TRUE(has(html, std::string(cause_title(Cause::kMutexNeverUnlocked)) + " <code>" +
                            std::string(cause_id(Cause::kMutexNeverUnlocked)) + "</code></td><td class=\"num\">1</td>"));
}

TEST(HtmlReport, FindingsGiveCauseVerdictExplanationFixEvidenceAndLine) {
  std::string html = report(three_snapshots());
  EXPECT_TRUE(has(html, "<section id=\"findings\">"));
  std::size_t nil = html.find("<article class=\"finding leak\" id=\"finding-0\">");
  std::size_t mutex = html.find("<article class=\"finding leak\" id=\"finding-2\">");
  std::size_t suspect = html.find("<article class=\"finding suspect\" id=\"finding-1\">");
  ASSERT_NE(nil, std::string::npos);
  ASSERT_NE(mutex, std::string::npos);
  ASSERT_NE(suspect, std::string::npos);
  EXPECT_LT(nil, mutex);      // leaks by size: 30 before 6
  EXPECT_LT(mutex, suspect);  // then suspects
  std::string art = html.substr(nil, html.find("</article>", nil) - nil);
  EXPECT_TRUE(has(art, std::string(cause_title(Cause::kNilChannelReceive))));
  EXPECT_TRUE(has(art, "<code class=\"cause\">" + std::string(cause_id(Cause::kNilChannelReceive)) + "</code>"));
  EXPECT_TRUE(has(art, ">" + std::string(verdict_name(Verdict::kLeak)) + "</span>"));
  EXPECT_TRUE(has(art, "<a href=\"#group-0\">group 0</a>: 30 goroutines"));
  EXPECT_TRUE(has(art, "<b>Fix:</b> fix it: pass ctx &amp; cancel()"));
  EXPECT_TRUE(has(art, "<li>grew 10 -&gt; 20 -&gt; 30</li><li>2 marked (leaked)</li>"));
  EXPECT_TRUE(has(art, "<pre class=\"source\">"));
  Analysis a = three_snapshots();
  const Frame* user = a.snapshots.back().groups[0].first_user_frame();
  ASSERT_NE(user, nullptr);
  EXPECT_TRUE(has(art, " in <code>" + html_escape(user->function) + "</code> at <code>"));  // where it waits
  // The ok finding with a cause is folded away, the one without is not shown.
  EXPECT_TRUE(has(html, "1 group blocked with a likely cause but no evidence of a leak"));
  EXPECT_TRUE(has(html, std::string(cause_id(Cause::kHttpBodyNotClosed))));
  EXPECT_FALSE(has(html, "id=\"finding-3\""));
  EXPECT_FALSE(has(html, "id=\"finding-4\""));
}

TEST(HtmlReport, GroupsTableHasARowPerGroup) {
  std::string html = report(three_snapshots());
  EXPECT_TRUE(has(html, "<section id=\"groups\">"));
  EXPECT_TRUE(has(html, "<input type=\"search\" id=\"filter\""));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(has(html, "<tr data-group=\"" + std::to_string(i) + "\"")) << i;
  EXPECT_FALSE(has(html, "<tr data-group=\"5\""));
  std::size_t row = html.find("<tr data-group=\"0\"");
  std::string r = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_TRUE(has(r, "class=\"leak\""));
  EXPECT_TRUE(has(r, "<td class=\"num\">30</td>"));
  EXPECT_TRUE(has(r, "chan receive (nil chan)"));
  EXPECT_TRUE(has(r, "5\xe2\x80\x93" "12 min"));
  EXPECT_TRUE(has(r, "main.(*Server).Serve&lt;T&gt;"));
  EXPECT_TRUE(has(r, "job=ingest"));
  EXPECT_TRUE(has(r, "2 leaked"));
  EXPECT_TRUE(has(r, std::string(cause_id(Cause::kNilChannelReceive))));
  std::size_t mutex = html.find("<tr data-group=\"2\"");
  EXPECT_TRUE(has(html.substr(mutex, 600), "(inferred)"));
}

TEST(HtmlReport, StacksReadLikeGos) {
  std::string html = report(three_snapshots());
  EXPECT_TRUE(has(html, "<section id=\"stacks\">"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(has(html, "id=\"group-" + std::to_string(i) + "\"")) << i;
  EXPECT_TRUE(has(html, "<details class=\"stack leak\" id=\"group-0\" open>"));  // leaks open
  EXPECT_TRUE(has(html, "<details class=\"stack ok\" id=\"group-3\">"));         // the rest folded
  EXPECT_TRUE(has(html, "30 goroutines [chan receive (nil chan), 5\xe2\x80\x93" "12 min]: ids 101 102 103 \xe2\x80\xa6\n"));
  EXPECT_TRUE(has(html, "main.pipeline()\n\t/src/app/pipeline.go:31 +0x1d\n"));
  // The first user frame (Group::first_user_frame's choice) is in bold.
  Analysis a = three_snapshots();
  const Frame* user = a.snapshots.back().groups[2].first_user_frame();
  ASSERT_NE(user, nullptr);
  EXPECT_TRUE(has(html, "\n<b>" + html_escape(user->function) + "()</b>\n"));
  EXPECT_TRUE(has(html, "main.main()\n\t/src/app/main.go:12 +0x1d\n"));
  EXPECT_TRUE(has(html, "created by main.(*Server).Serve&lt;T&gt; in goroutine 1\n\t/src/app/main.go:42 +0x55\n"));
  EXPECT_TRUE(has(html, "...<i>3 frames elided</i>..."));
  EXPECT_TRUE(has(html, "1 goroutine [running, locked to thread]"));
  // Runtime frames a proto dump kept above the first shown one, dimmed.
  EXPECT_TRUE(has(html, "<span class=\"muted\">runtime.gopark</span>\n<span class=\"muted\">runtime.selectgo</span>\n"
                        "std::map&lt;int"));
}

TEST(HtmlReport, GrowthOverTimeOnlyWithSeveralSnapshots) {
  std::string one = report(one_snapshot());
  EXPECT_FALSE(has(one, "id=\"growth\""));
  EXPECT_FALSE(has(one, "class=\"spark"));
  EXPECT_FALSE(has(one, "href=\"#growth\""));

  Analysis a = three_snapshots();
  std::string html = report(a);
  EXPECT_TRUE(has(html, "<section id=\"growth\">"));
  EXPECT_EQ(occurrences(html, "<svg class=\"spark"), a.diff.series.size() + 1);  // and the totals'
  EXPECT_EQ(occurrences(html, "<svg class=\"spark grows\""), 2u);
  EXPECT_TRUE(has(html, "<td class=\"mono\">21 \xe2\x86\x92 51 \xe2\x86\x92 60</td>"));  // totals
  EXPECT_TRUE(has(html, "<td class=\"mono\">10 \xe2\x86\x92 20 \xe2\x86\x92 30</td><td class=\"num\">+20</td>"
                        "<td><span class=\"flag grows\">grows</span> </td>"));
  EXPECT_TRUE(has(html, "<span class=\"flag new\">new</span>"));
  EXPECT_TRUE(has(html, "<code>main.oldWorker</code>"));  // vanished: no link into the newest
  EXPECT_TRUE(has(html, "<span class=\"flag vanished\">vanished</span>"));
  // The growing series' line climbs: its points' y fall (SVG y grows down).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("spark grows\"[^>]*><polyline points=\"([^\"]+)\"")));
  EXPECT_EQ(m[1].str(), "2.0,12.7 50.0,7.3 98.0,2.0");
}

TEST(HtmlReport, WithoutSnapshotsStillAPage) {
  std::string html = report(Analysis{});
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_TRUE(has(html, "<title>"));
}

// ---------------------------------------------------------------------------
// The flame graph.

const FlameNode* find_child(const FlameNode& n, const std::string& function) {
  for (const FlameNode& c : n.children) {
    if (c.function == function) return &c;
  }
  return nullptr;
}

TEST(FlameGraph, MergesStacksFromTheOutermostFrame) {
  Analysis a = three_snapshots();
  FlameNode root = build_flame_tree(a.snapshots.back(), a.findings);
  EXPECT_EQ(root.count, 60);
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[0].function, "main.main");  // by name
  EXPECT_EQ(root.children[1].function, "net/http.(*Transport).dialConn");
  const FlameNode& main = root.children[0];
  EXPECT_EQ(main.count, 57);
  EXPECT_EQ(main.ends, 1);
  const FlameNode* pipeline = find_child(main, "main.pipeline");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(pipeline->count, 50);
  EXPECT_EQ(pipeline->ends, 0);
  EXPECT_EQ(pipeline->tint, Verdict::kOk);
  const FlameNode* script = find_child(*pipeline, kScriptName);
  const FlameNode* map = find_child(*pipeline, kMapCall);
  ASSERT_TRUE(script && map);
  EXPECT_EQ(script->count, 30);
  EXPECT_EQ(script->tint, Verdict::kLeak);
  EXPECT_EQ(map->count, 20);
  EXPECT_EQ(map->tint, Verdict::kSuspect);
  const FlameNode* serve = find_child(main, "app::serve");
  ASSERT_NE(serve, nullptr);
  EXPECT_EQ(serve->children.at(0).tint, Verdict::kLeak);
  EXPECT_EQ(root.children[1].children.at(0).tint, Verdict::kOk);
}

TEST(FlameGraph, WithoutFindingsNothingIsTinted) {
  Analysis a = three_snapshots();
  FlameNode root = build_flame_tree(a.snapshots.back(), {});
  const FlameNode* pipeline = find_child(root.children.at(0), "main.pipeline");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(pipeline->children.at(0).tint, Verdict::kOk);
}

struct Rect {
  double x, width;
  std::int64_t count;
  std::string cls;
};

std::vector<Rect> rects(const std::string& svg) {
  std::vector<Rect> out;
  std::regex re("<g class=\"f([^\"]*)\"><title>[^<]*</title><rect x=\"([0-9.]+)\" y=\"[0-9.]+\" width=\"([0-9.]+)\""
                "[^>]*data-count=\"([0-9]+)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
    out.push_back({std::stod((*it)[2]), std::stod((*it)[3]), std::stoll((*it)[4]), (*it)[1]});
  }
  return out;
}

TEST(FlameGraph, WidthsAreProportionalToGoroutineCounts) {
  Analysis a = three_snapshots();
  std::ostringstream out;
  write_flame_svg(out, build_flame_tree(a.snapshots.back(), a.findings));
  std::vector<Rect> rs = rects(out.str());
  ASSERT_EQ(rs.size(), 9u);  // the root and 8 distinct frames
  const double per_goroutine = FlameLayout{}.width / 60;
  for (const Rect& r : rs) EXPECT_NEAR(r.width, r.count * per_goroutine, 0.006) << r.count;
  EXPECT_DOUBLE_EQ(rs[0].width, 1180);  // the root: all goroutines
  std::map<std::int64_t, double> width_of;
  for (const Rect& r : rs) width_of[r.count] = r.width;
  EXPECT_DOUBLE_EQ(width_of[30], 590);
  EXPECT_NEAR(width_of[30] / width_of[20], 1.5, 1e-3);
  EXPECT_NEAR(width_of[57] / width_of[3], 19, 1e-2);
  // Children sit side by side from their parent's left edge: in main.main
  // (x 0), app::serve then main.pipeline.
  EXPECT_TRUE(has(out.str(), "<rect x=\"0.00\" y=\"36.00\" width=\"118.00\""));    // app::serve, 6
  EXPECT_TRUE(has(out.str(), "<rect x=\"118.00\" y=\"36.00\" width=\"983.33\""));  // main.pipeline, 50
  // Tints: the two leaking leaves and the suspect one.
  std::size_t leak = 0, suspect = 0;
  for (const Rect& r : rs) leak += r.cls == " leak", suspect += r.cls == " suspect";
  EXPECT_EQ(leak, 2u);
  EXPECT_EQ(suspect, 1u);
}

TEST(FlameGraph, TooltipsGiveCountAndShare) {
  Analysis a = three_snapshots();
  std::ostringstream out;
  write_flame_svg(out, build_flame_tree(a.snapshots.back(), a.findings));
  std::string svg = out.str();
  EXPECT_EQ(svg.rfind("<svg class=\"flame\"", 0), 0u);
  EXPECT_TRUE(has(svg, "<title>all goroutines \xe2\x80\x94 60 goroutines (100.0%)</title>"));
  EXPECT_TRUE(has(svg, "<title>main.main \xe2\x80\x94 57 goroutines (95.0%)</title>"));
  EXPECT_TRUE(has(svg, "<title>std::map&lt;int, std::string&gt;::operator() \xe2\x80\x94 20 goroutines (33.3%)</title>"));
  EXPECT_TRUE(has(svg, "<title>net/http.(*persistConn).readLoop \xe2\x80\x94 3 goroutines (5.0%)</title>"));
}

TEST(FlameGraph, ColorsAreStablePerFunction) {
  Analysis a = three_snapshots();
  std::ostringstream one, two;
  write_flame_svg(one, build_flame_tree(a.snapshots.back(), a.findings));
  std::reverse(a.snapshots.back().groups.begin(), a.snapshots.back().groups.end());  // order does not matter
  for (Finding& f : a.findings) f.group = 4 - f.group;
  write_flame_svg(two, build_flame_tree(a.snapshots.back(), a.findings));
  EXPECT_EQ(one.str(), two.str());
  // main.main's color is the same wherever it appears.
  std::smatch m;
  std::string svg = one.str();
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<title>main.main [^<]*</title><rect [^>]*fill=\"(rgb\\([0-9,]+\\))\"")));
  Snapshot other = snapshot("x", Format::kGoText, {group("k", 4, "running", {frame("main.main", "m.go", 1)})});
  std::ostringstream three;
  write_flame_svg(three, build_flame_tree(other, {}));
  EXPECT_TRUE(has(three.str(), "fill=\"" + m[1].str() + "\""));
}

TEST(FlameGraph, LabelsAreCutToFit) {
  FlameLayout layout;  // 11-unit monospace: 6.6 units a character, plus 6 of padding
  auto room = [](int chars) { return 6 + chars * 6.6 + 1; };
  EXPECT_EQ(fit_label("main.main", room(9), layout), "main.main");
  EXPECT_EQ(fit_label("main.main", room(8), layout), "main.m..");
  EXPECT_EQ(fit_label("main.main", room(3), layout), "m..");
  EXPECT_EQ(fit_label("main.main", room(2), layout), "");
  EXPECT_EQ(fit_label("main.main", 1, layout), "");
  // Code points, not bytes: "é" is one character, never split.
  EXPECT_EQ(fit_label("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", room(4), layout), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_EQ(fit_label("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x", room(4), layout), "\xc3\xa9\xc3\xa9..");
  // In the graph: the readLoop frame (3 of 60: 59 units) shows a cut label.
  Analysis a = three_snapshots();
  std::ostringstream out;
  write_flame_svg(out, build_flame_tree(a.snapshots.back(), a.findings));
  EXPECT_TRUE(has(out.str(), ">net/ht..</text>"));
  EXPECT_TRUE(has(out.str(), ">&lt;script&gt;alert(1)&lt;/script&gt;</text>"));  // 590 units: whole
}

TEST(FlameGraph, LeavesOutFramesTooNarrowToSee) {
  Snapshot s = snapshot("x", Format::kGoText,
                        {group("big", 10000, "running", {frame("main.busy", "m.go", 1), frame("main.main", "m.go", 2)}),
                         group("tiny", 1, "chan send", {frame("main.tiny", "m.go", 3), frame("main.main", "m.go", 2)})});
  std::ostringstream out;
  write_flame_svg(out, build_flame_tree(s, {}));
  EXPECT_TRUE(has(out.str(), "main.busy"));
  EXPECT_FALSE(has(out.str(), "main.tiny"));  // 0.118 units wide
  EXPECT_TRUE(has(out.str(), "height=\"54.00\""));  // three rows
}

TEST(FlameGraph, EmptySnapshotIsANote) {
  std::ostringstream out;
  write_flame_svg(out, build_flame_tree(Snapshot{}, {}));
  EXPECT_TRUE(has(out.str(), "no goroutines"));
  EXPECT_FALSE(has(out.str(), "<rect"));
  EXPECT_FALSE(has(out.str(), "nan"));
}

TEST(HtmlReport, EscapeCoversMarkupQuotesAndControls) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("tab\tnl\n"), "tab\tnl\n");
  EXPECT_EQ(html_escape(std::string("\0", 1)), "\xef\xbf\xbd");
  EXPECT_EQ(html_escape("caf\xc3\xa9"), "caf\xc3\xa9");
}

// ---------------------------------------------------------------------------
// A real browser: headless Chromium screenshots the page and dumps its DOM
// after the script ran.

#ifdef GORO_CHROMIUM
constexpr const char* kChromium = GORO_CHROMIUM;
#else
constexpr const char* kChromium = "/usr/bin/chromium";
#endif

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory for one browser run; kept when GORO_LEAKS_KEEP_HTML is
// set (to look at the screenshot), removed otherwise.
class BrowserDir {
 public:
  BrowserDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "goro-leaks-html-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~BrowserDir() {
    if (std::getenv("GORO_LEAKS_KEEP_HTML")) {
      std::printf("kept %s\n", path_.c_str());
    } else if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct BrowserRun {
  int status;
  std::string out, err;  // err: for failure messages
};

// Runs Chromium headless on `page` with `mode` ("--screenshot=..." or
// "--dump-dom"), with a profile of its own and no network chatter.
BrowserRun chromium(const BrowserDir& dir, const std::string& name, const std::filesystem::path& page,
                    const std::string& mode) {
  std::filesystem::path profile = dir.path() / (name + "-profile"), out = dir.path() / (name + ".out"),
                        err = dir.path() / (name + ".err");
  std::string cmd = "timeout 20 " + std::string(kChromium) +
                    " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                    " --disable-background-networking --disable-component-update --disable-sync"
                    " --user-data-dir='" + profile.string() + "' " + mode +
                    " --window-size=1280,2000 'file://" + page.string() + "' >'" + out.string() + "' 2>'" +
                    err.string() + "'";
  int status = std::system(cmd.c_str());
  std::string e = slurp(err);
  if (e.size() > 4000) e = "..." + e.substr(e.size() - 4000);
  return {status, slurp(out), "command: " + cmd + "\nstderr:\n" + e};
}

std::filesystem::path write_page(const BrowserDir& dir, const std::string& name, const std::string& html) {
  std::filesystem::path p = dir.path() / name;
  std::ofstream(p, std::ios::binary) << html;
  return p;
}

std::uint32_t big_endian32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

#define SKIP_WITHOUT_CHROMIUM()                                                        \
  if (access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " not installed: no browser to render the page"

TEST(HtmlReportInChromium, ScreenshotIsThePageNotABlank) {
  SKIP_WITHOUT_CHROMIUM();
  BrowserDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::filesystem::path page = write_page(dir, "report.html", report(three_snapshots()));
  std::filesystem::path blank = write_page(dir, "blank.html", "<!doctype html><title>blank</title>");
  BrowserRun shot = chromium(dir, "shot", page, "--screenshot=" + (dir.path() / "shot.png").string());
  ASSERT_EQ(shot.status, 0) << shot.err;
  BrowserRun empty = chromium(dir, "blank", blank, "--screenshot=" + (dir.path() / "blank.png").string());
  ASSERT_EQ(empty.status, 0) << empty.err;

  std::string png = slurp(dir.path() / "shot.png"), blank_png = slurp(dir.path() / "blank.png");
  ASSERT_GE(png.size(), 24u) << shot.err;
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian32(png, 16), 1280u);
  EXPECT_EQ(big_endian32(png, 20), 2000u);
  // Text, tables and a flame graph compress far worse than white.
  EXPECT_GT(png.size(), 4 * blank_png.size()) << png.size() << " vs blank " << blank_png.size();
}

TEST(HtmlReportInChromium, ScriptRunsToTheEndWithoutErrors) {
  SKIP_WITHOUT_CHROMIUM();
  BrowserDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::filesystem::path page = write_page(dir, "report.html", report(three_snapshots()));
  BrowserRun dom = chromium(dir, "dom", page, "--dump-dom");
  ASSERT_EQ(dom.status, 0) << dom.err;
  std::string html_tag = dom.out.substr(0, dom.out.find('>', dom.out.find("<html")) + 1);
  EXPECT_TRUE(has(html_tag, "data-ready=\"1\"")) << html_tag << "\n" << dom.err;
  EXPECT_FALSE(has(html_tag, "data-errors")) << html_tag;
  // The script counted the rows for the filter box.
  EXPECT_TRUE(has(dom.out, "<span id=\"filter-count\" class=\"muted\">5 of 5 groups</span>")) << dom.err;
  // The hostile names stayed text in the browser's DOM too.
  EXPECT_FALSE(has(dom.out, "<script>alert(1)</script>"));
  EXPECT_FALSE(has(dom.out, "<img"));
}

// The page's script at work: a script of the test's own, appended to the
// page, types into the filter box, clicks a group row and a flame graph
// frame, and writes what it saw into data- attributes of <html>.
constexpr const char* kInteraction = R"js(<script>
(function () {
  var d = document.documentElement.dataset, box = document.getElementById("filter");
  var count = function () { return document.getElementById("filter-count").textContent; };
  box.value = "pipeline";
  box.dispatchEvent(new Event("input"));
  d.typed = count() + "|" + document.querySelector('tr[data-group="2"]').hidden;
  document.querySelector('tr[data-group="3"] td:nth-child(2)').click();
  d.row = location.hash + "|" + document.getElementById("group-3").open;
  Array.prototype.forEach.call(document.querySelectorAll("svg.flame g.f"), function (g) {
    if (g.querySelector("title").textContent.indexOf("app::serve ") === 0) g.dispatchEvent(new MouseEvent("click"));
  });
  d.flame = box.value + "|" + count() + "|" + location.hash;
})();
</script>
)js";

TEST(HtmlReportInChromium, FilterBoxRowsAndFlameFramesWork) {
  SKIP_WITHOUT_CHROMIUM();
  BrowserDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string html = report(three_snapshots());
  html.insert(html.rfind("</body>"), kInteraction);
  BrowserRun dom = chromium(dir, "dom", write_page(dir, "report.html", html), "--dump-dom");
  ASSERT_EQ(dom.status, 0) << dom.err;
  std::string html_tag = dom.out.substr(0, dom.out.find('>', dom.out.find("<html")) + 1);
  EXPECT_FALSE(has(html_tag, "data-errors")) << html_tag;
  // "pipeline" is in groups 0 and 1's stacks; group 2's row hides.
  EXPECT_TRUE(has(html_tag, "data-typed=\"2 of 5 groups|true\"")) << html_tag;
  // A click on a row opens its stack.
  EXPECT_TRUE(has(html_tag, "data-row=\"#group-3|true\"")) << html_tag;
  // A click on a frame filters the groups by its function.
  EXPECT_TRUE(has(html_tag, "data-flame=\"app::serve|1 of 5 groups|#groups\"")) << html_tag;
}

}  // namespace
