// Grouping goroutines into a Snapshot.
//
// The aggregator sees one goroutine (text) or one group (debug=1, proto) at
// a time. It renders the key for the chosen similarity into a reused
// buffer and looks it up without allocating (heterogeneous lookup); only a
// new key creates a Group. So memory is O(distinct keys), and the time per
// goroutine is one pass over its frames plus one hash.
#include "snapshot.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "go_debug1_parser.h"
#include "go_text_parser.h"
#include "profile_reader.h"
#include "text_util.h"

namespace goro_leaks {
namespace {

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};

// Packages of Go's standard library, by the first element of their path
// ("net/http" -> "net"). A frame in one of them is not where the user's
// code waits; the first frame outside them is.
constexpr std::array<std::string_view, 44> kGoStdlibRoots = {
    "archive", "bufio",  "bytes",   "compress", "container", "context", "crypto",  "database", "debug",
    "embed",   "encoding", "errors", "expvar",  "flag",     "fmt",       "go",      "hash",    "html",
    "image",   "index",  "internal", "io",      "log",      "math",      "mime",    "net",     "os",
    "path",    "plugin", "reflect", "regexp",  "runtime",  "sort",      "strconv", "strings", "sync",
    "syscall", "testing", "text",   "time",    "unicode",  "unsafe",    "vendor",  "iter"};

// "net/http.(*persistConn).readLoop" -> "net/http"; "main.main.func1" -> "main".
std::string_view package_of(std::string_view function) {
  std::size_t slash = function.rfind('/');
  std::size_t dot = function.find('.', slash == std::string_view::npos ? 0 : slash);
  return function.substr(0, dot);
}

bool is_library_function(std::string_view function) {
  if (starts_with(function, "goro::") || starts_with(function, "std::") || starts_with(function, "__")) return true;
  std::string_view pkg = package_of(function);
  if (pkg.size() == function.size()) return false;  // no package: a C++ or C function
  std::string_view root = pkg.substr(0, pkg.find('/'));
  return std::find(kGoStdlibRoots.begin(), kGoStdlibRoots.end(), root) != kGoStdlibRoots.end();
}

class Aggregator {
 public:
  Aggregator(Similarity similarity, Snapshot* out) : similarity_(similarity), out_(out) {}

  void add(const Goroutine& g) {
    key_.clear();
    append_key_head(g.state, g.frames, g.created_by ? &*g.created_by : nullptr, {});
    Group& group = find_or_add(g.frames, g.header_line);
    if (group.count == 0) {
      group.state = g.state;
      group.min_wait_minutes = group.max_wait_minutes = g.wait_minutes;
      group.elided_frames = g.elided_frames;
      group.created_by = g.created_by;
    }
    group.count += 1;
    group.min_wait_minutes = std::min(group.min_wait_minutes, g.wait_minutes);
    group.max_wait_minutes = std::max(group.max_wait_minutes, g.wait_minutes);
    group.leaked += g.leaked;
    group.locked_to_thread += g.locked_to_thread;
    group.stack_unavailable += g.stack_unavailable;
    if (group.ids.size() < Group::kMaxGroupIds) group.ids.push_back(g.id);
    if (out_->total == 0 && g.state == "running") group.took_dump = true;
    out_->total += 1;
  }

  // A debug=1 or profile.proto group: runtime frames at the top move to
  // runtime_frames (and name the state) so that the same stack from a
  // text dump gets the same key.
  void add(StackGroup&& sg) {
    std::vector<std::string> runtime;
    std::size_t first = 0;
    while (first < sg.frames.size() && is_go_runtime_function(sg.frames[first].function)) {
      runtime.push_back(sg.frames[first].function);
      ++first;
    }
    std::vector<Frame> frames;
    for (std::size_t i = first; i < sg.frames.size(); ++i) {
      if (!is_go_runtime_function(sg.frames[i].function)) frames.push_back(std::move(sg.frames[i]));
    }
    std::vector<std::string> for_state = runtime;
    for (const Frame& f : frames) for_state.push_back(f.function);  // sync.runtime_Semacquire is visible
    std::string state = infer_state(for_state);
    key_.clear();
    append_key_head(state, frames, nullptr, sg.labels);
    Group& group = find_or_add(frames, sg.line);
    if (group.count == 0) {
      group.state = std::move(state);
      group.state_inferred = !group.state.empty();
      group.runtime_frames = std::move(runtime);
      group.labels = std::move(sg.labels);
    }
    group.count += sg.count;
    out_->total += sg.count;
  }

  void finish() {
    std::vector<Group>& groups = out_->groups;
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
      return a.count != b.count ? a.count > b.count : a.key < b.key;
    });
    for (Group& g : groups) std::sort(g.ids.begin(), g.ids.end());
  }

 private:
  void append_key_head(std::string_view state, const std::vector<Frame>& frames, const CreatedBy* created,
                       const std::vector<std::pair<std::string, std::string>>& labels) {
    // Running and runnable alternate from one snapshot to the next for the
    // same busy goroutine; they are one group.
    key_.append(state == "runnable" ? std::string_view("running") : state).push_back('\n');
    stack_begin_ = key_.size();
    for (const Frame& f : frames) append_frame(f.function, f.args, f.where);
    stack_end_ = key_.size();
    if (created != nullptr) {
      key_.append("created by ");
      append_frame(created->function, {}, created->where);
    }
    for (const auto& [k, v] : labels) key_.append("label ").append(k).append("=").append(v).push_back('\n');
  }

  void append_frame(std::string_view function, std::string_view args, const Location& where) {
    key_.append(function);
    if (similarity_ == Similarity::kExact) key_.append("(").append(args).append(")");
    if (similarity_ != Similarity::kFunction) {
      key_.push_back(' ');
      key_.append(where.file).push_back(':');
      char digits[16];
      auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), where.line);
      key_.append(digits, ec == std::errc() ? end : digits);
    }
    key_.push_back('\n');
  }

  Group& find_or_add(const std::vector<Frame>& frames, std::size_t line) {
    auto it = index_.find(std::string_view(key_));
    if (it != index_.end()) return out_->groups[it->second];
    index_.emplace(key_, out_->groups.size());
    Group& g = out_->groups.emplace_back();
    g.key = key_;
    g.stack_key = key_.substr(stack_begin_, stack_end_ - stack_begin_);
    g.frames = frames;
    g.first_line = line;
    return g;
  }

  Similarity similarity_;
  Snapshot* out_;
  std::string key_;  // reused: no allocation per goroutine once warm
  std::size_t stack_begin_ = 0, stack_end_ = 0;  // the frames' part of key_
  std::unordered_map<std::string, std::size_t, KeyHash, std::equal_to<>> index_;
};

}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::kGoText: return "go-text";
    case Format::kGoDebug1: return "go-debug1";
    case Format::kProfileProto: return "profile-proto";
  }
  return "?";
}

std::string_view similarity_name(Similarity s) {
  switch (s) {
    case Similarity::kExact: return "exact";
    case Similarity::kIgnoreArgs: return "ignore-args";
    case Similarity::kFunction: return "function";
  }
  return "?";
}

std::optional<Similarity> parse_similarity(std::string_view name) {
  for (Similarity s : {Similarity::kExact, Similarity::kIgnoreArgs, Similarity::kFunction}) {
    if (similarity_name(s) == name) return s;
  }
  return std::nullopt;
}

bool is_go_runtime_function(std::string_view function) { return starts_with(function, "runtime."); }

const Frame* Group::first_user_frame() const {
  for (const Frame& f : frames) {
    if (!is_library_function(f.function)) return &f;
  }
  return nullptr;
}

const Frame* Group::telling_frame() const {
  if (const Frame* f = first_user_frame()) return f;
  return frames.empty() ? nullptr : &frames.front();
}

std::string infer_state(const std::vector<std::string>& frames) {
  // Go's wait reasons (runtime/runtime2.go) for the functions that park.
  static constexpr std::pair<std::string_view, std::string_view> kParkers[] = {
      {"runtime.chanrecv", "chan receive"},
      {"runtime.chansend", "chan send"},
      {"runtime.selectgo", "select"},
      {"runtime.block", "select (no cases)"},
      {"sync.runtime_SemacquireMutex", "semacquire"},
      {"sync.runtime_SemacquireRWMutex", "semacquire"},
      {"sync.runtime_SemacquireWaitGroup", "semacquire"},
      {"sync.runtime_Semacquire", "semacquire"},
      {"runtime.semacquire", "semacquire"},
      {"sync.runtime_notifyListWait", "sync.Cond.Wait"},
      {"internal/poll.runtime_pollWait", "IO wait"},
      {"runtime.netpollblock", "IO wait"},
      {"time.Sleep", "sleep"},
      {"runtime.timeSleep", "sleep"},
      {"syscall.Syscall", "syscall"},
      {"syscall.RawSyscall", "syscall"},
      {"internal/runtime/syscall.Syscall", "syscall"},
  };
  for (const std::string& f : frames) {
    for (const auto& [prefix, reason] : kParkers) {
      if (starts_with(f, prefix)) return std::string(reason);
    }
  }
  return {};
}

Snapshot read_snapshot(std::istream& in, Format format, Similarity similarity, std::string source) {
  Snapshot s;
  s.source = std::move(source);
  s.format = format;
  Aggregator agg(similarity, &s);
  switch (format) {
    case Format::kGoText:
      s.has_states = true;
      parse_go_text(in, [&](const Goroutine& g) { agg.add(g); });
      break;
    case Format::kGoDebug1: {
      std::string name;
      parse_go_debug1(in, [&](StackGroup&& g) { agg.add(std::move(g)); }, &name);
      s.leak_profile = name == "goroutineleak";
      break;
    }
    case Format::kProfileProto: {
      ProfileInfo info;
      for (StackGroup& g : read_profile_proto(in, &info)) agg.add(std::move(g));
      s.leak_profile = info.sample_type == "goroutineleak";
      break;
    }
  }
  if (s.leak_profile) {
    for (Group& g : s.groups) g.leaked = g.count;
  }
  agg.finish();
  return s;
}

}  // namespace goro_leaks
