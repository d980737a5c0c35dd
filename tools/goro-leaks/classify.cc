// The leak taxonomy.
//
// Two questions per group, kept apart because they have different evidence:
//
//   cause   - what this goroutine waits for and why that wait can outlive
//             its purpose. Read off the state (Go's wait reason), the
//             frames (sync.(*Mutex).Lock, net/http's persistConn loops),
//             the operation the runtime frames name (chanrecv2 is a range
//             loop or a ", ok" receive) and, when the source is found, the
//             blocking line and its enclosing blocks (a send inside a for
//             loop is a producer; "<-ctx.Done()" waits for a context).
//   verdict - whether it does leak. Only a few waits prove it alone (a nil
//             channel, select {}, Go's own "(leaked)" mark). Otherwise the
//             proof is growth across snapshots; size and age in a single
//             snapshot make a suspect, because a pool of idle workers looks
//             exactly like a leak in one picture.
#include "classify.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "source_lookup.h"
#include "text_util.h"

namespace goro_leaks {
namespace {

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool has_frame(const Group& g, std::string_view prefix) {
  return std::any_of(g.frames.begin(), g.frames.end(), [&](const Frame& f) { return starts_with(f.function, prefix); });
}

bool has_runtime_frame(const Group& g, std::string_view name) {
  return std::find(g.runtime_frames.begin(), g.runtime_frames.end(), name) != g.runtime_frames.end();
}

bool is_running(const Group& g) { return g.state == "running" || g.state == "runnable" || g.state == "syscall"; }

// Places where a goroutine waits for as long as the program runs, by design.
bool is_benign(const Group& g) {
  static constexpr std::string_view kBenign[] = {
      "os/signal.signal_recv", "os/signal.loop",        "net/http.(*Server).Serve", "net.(*TCPListener).Accept",
      "net.(*UnixListener).Accept", "runtime/pprof.",   "testing.(*T).Run",         "testing.tRunner",
      "testing.(*M).",         "runtime.ensureSigM",    "net/http.(*conn).serve",   "net/http.(*connReader).backgroundRead",
      "goro::debug::",
  };
  for (std::string_view b : kBenign) {
    if (has_frame(g, b)) return true;
  }
  // main waiting is the program waiting; "select {}" in main is deliberate.
  return !g.frames.empty() && (g.frames.back().function == "main.main" || g.frames.back().function == "main");
}

// The function a closure belongs to: "main.queryAll.func1" -> "main.queryAll".
std::string_view closure_parent(std::string_view function) {
  std::size_t dot = function.rfind(".func");
  if (dot == std::string_view::npos) return {};
  return function.substr(0, dot);
}

// A for loop around the line inside its own function: a send in a closure
// started from a loop ("for ... { go func() { ch <- v }() }") is not in one.
bool in_loop(const SourceContext& src) {
  if (contains(src.line, "func(") || contains(src.line, "func (")) return false;  // a one-line closure
  for (const std::string& opener : src.enclosing) {
    if (starts_with(opener, "for ") || opener == "for {") return true;
    if (starts_with(opener, "func") || contains(opener, "func(") || contains(opener, "func (")) return false;
  }
  return false;
}

bool waits_for_done(const SourceContext& src) {
  if (contains(src.line, ".Done()")) return true;
  return std::any_of(src.block.begin(), src.block.end(), [](const std::string& l) {
    return starts_with(l, "case") && contains(l, ".Done()");
  });
}

bool select_has_timeout(const SourceContext& src) {
  return std::any_of(src.block.begin(), src.block.end(), [](const std::string& l) {
    return (starts_with(l, "case") && (contains(l, "time.After") || contains(l, ".C:") || contains(l, "Ticker"))) ||
           starts_with(l, "default:");
  });
}

struct Context {
  const Group* group = nullptr;
  std::optional<SourceContext> source;  // of the first user frame
  bool http_round_trip_waiting = false; // some group waits in persistConn.roundTrip
  bool same_running_stack = false;      // running with this stack in every snapshot
};

Cause channel_send_cause(const Context& c) {
  if (c.source) return in_loop(*c.source) ? Cause::kProducerConsumer : Cause::kSendNoReceiver;
  // Without the source, the shape of the code: a closure sending once for
  // its creator is the fan-out; a named function started on its own is
  // usually a producer running a loop.
  const Frame* user = c.group->first_user_frame();
  if (user == nullptr || !closure_parent(user->function).empty()) return Cause::kSendNoReceiver;
  return Cause::kProducerConsumer;
}

Cause channel_receive_cause(const Context& c) {
  if (c.source) {
    if (waits_for_done(*c.source)) return Cause::kContextNeverCancelled;
    if (contains(c.source->line, "range ")) return Cause::kProducerConsumer;
    return Cause::kReceiveNoSender;
  }
  // A range loop receives with chanrecv2 (so does "v, ok := <-ch").
  if (has_runtime_frame(*c.group, "runtime.chanrecv2")) return Cause::kProducerConsumer;
  return Cause::kReceiveNoSender;
}

Cause select_cause(const Context& c) {
  if (c.source) {
    if (waits_for_done(*c.source)) return Cause::kContextNeverCancelled;
    if (select_has_timeout(*c.source)) return Cause::kNone;
  }
  return Cause::kBlockedWithoutTimeout;
}

Cause cause_of(const Context& c) {
  const Group& g = *c.group;
  const std::string& s = g.state;
  if (s == "chan send (nil chan)") return Cause::kNilChannelSend;
  if (s == "chan receive (nil chan)") return Cause::kNilChannelReceive;
  if (has_frame(g, "net/http.(*persistConn).roundTrip") || has_frame(g, "net/http.(*Transport).roundTrip")) {
    return Cause::kHttpClientNoTimeout;
  }
  if (has_frame(g, "net/http.(*persistConn).readLoop") || has_frame(g, "net/http.(*persistConn).writeLoop")) {
    return c.http_round_trip_waiting ? Cause::kHttpClientNoTimeout : Cause::kHttpBodyNotClosed;
  }
  if (is_running(g)) {
    bool profiler = g.took_dump || has_frame(g, "runtime/pprof.") || has_frame(g, "goro::debug::");
    return c.same_running_stack && !profiler ? Cause::kEndlessLoop : Cause::kNone;
  }
  if (is_benign(g)) return Cause::kNone;
  if (s == "select (no cases)") return Cause::kSelectNoCases;
  if (has_frame(g, "context.propagateCancel")) return Cause::kContextNeverCancelled;
  if (has_frame(g, "sync.(*Mutex).Lock") || has_frame(g, "sync.(*RWMutex).") || starts_with(s, "sync.Mutex") ||
      starts_with(s, "sync.RWMutex") || has_frame(g, "goro::Mutex::lock") || has_frame(g, "goro::RWMutex::")) {
    return Cause::kMutexNeverUnlocked;
  }
  if (has_frame(g, "sync.(*WaitGroup).Wait") || s == "sync.WaitGroup.Wait" || has_frame(g, "goro::WaitGroup::wait")) {
    return Cause::kWaitGroupMismatch;
  }
  if (s == "IO wait" || s == "syscall") return Cause::kBlockedWithoutTimeout;
  if (starts_with(s, "chan send")) return channel_send_cause(c);
  if (starts_with(s, "chan receive")) return channel_receive_cause(c);
  if (starts_with(s, "select")) return select_cause(c);
  if (s == "sleep") return Cause::kNone;
  return Cause::kUnknownBlocked;
}

std::string where(const Group& g) {
  const Frame* f = g.telling_frame();
  if (f == nullptr) return "an unknown place";
  return f->function + " (" + f->where.file + ":" + std::to_string(f->where.line) + ")";
}

std::string creator(const Group& g) {
  return g.created_by ? g.created_by->function : std::string("its creator");
}

void explain(Finding& f, const Group& g) {
  const bool one = g.count == 1;
  const std::string n = std::to_string(g.count) + (one ? " goroutine" : " goroutines");
  // The verb agrees with n: v("sends", "send").
  auto v = [one](const char* singular, const char* plural) { return std::string(one ? singular : plural); };
  const std::string at = where(g);
  switch (f.cause) {
    case Cause::kNilChannelSend:
      f.explanation = n + " " + v("sends", "send") + " on a nil channel at " + at + ". A send on a nil channel blocks forever: the channel was never made (a zero-value field or variable).";
      f.fix = "Initialise the channel with make(chan T) before use, or guard the send; in a select, a nil channel case is skipped on purpose only when another case can fire.";
      break;
    case Cause::kNilChannelReceive:
      f.explanation = n + " " + v("receives", "receive") + " from a nil channel at " + at + ". A receive from a nil channel blocks forever: the channel was never made.";
      f.fix = "Initialise the channel with make(chan T) before the goroutines start, or pass it in explicitly.";
      break;
    case Cause::kSendNoReceiver:
      f.explanation = n + " " + v("blocks", "block") + " sending at " + at + " and nobody will receive: " + creator(g) +
                      " stopped listening (for example it returned after the first result of a fan-out, or on an error or timeout).";
      f.fix = "Give the channel a buffer for every sender (make(chan T, n)) so senders never block, or make each send a select that also waits on ctx.Done() and cancel the context when the receiver leaves.";
      break;
    case Cause::kReceiveNoSender:
      f.explanation = n + " " + v("blocks", "block") + " receiving at " + at + " from a channel nobody will send on or close (a path returned without sending).";
      f.fix = "Make every path of the sender send or close the channel (defer close(ch)), or receive in a select with ctx.Done() or a timeout.";
      break;
    case Cause::kProducerConsumer:
      f.explanation = n + " at " + at + " " + v("is", "are") + " one side of a producer/consumer pipeline whose other side quit: a producer blocks on a send nobody receives, or a consumer ranges over a channel the producer never closed.";
      f.fix = "The producer must close the channel when done (defer close(out)); a consumer that stops early must tell the producer (cancel a context the producer selects on) or drain the channel.";
      break;
    case Cause::kMutexNeverUnlocked:
      f.explanation = n + " " + v("waits", "wait") + " for a mutex at " + at + " that is never unlocked: a path returned (or panicked) while holding it.";
      f.fix = "Unlock with defer mu.Unlock() right after Lock, so every return and panic path releases it.";
      break;
    case Cause::kWaitGroupMismatch:
      f.explanation = n + " " + v("waits", "wait") + " in WaitGroup.Wait at " + at + ": the counter never reaches zero because Add was called more often than Done (a path skips Done).";
      f.fix = "Call defer wg.Done() first thing in each goroutine, and Add exactly once per goroutine before starting it.";
      break;
    case Cause::kHttpBodyNotClosed:
      f.explanation = n + " " + v("is a", "are") + " net/http connection loop" + v("", "s") + " (persistConn readLoop/writeLoop) kept alive by response bodies that were never closed: each open body pins its connection and two goroutines.";
      f.fix = "Always defer resp.Body.Close() after a successful request (and read the body to EOF to reuse the connection); reuse one http.Client/Transport instead of making one per request.";
      break;
    case Cause::kHttpClientNoTimeout:
      f.explanation = n + " " + v("waits", "wait") + " on HTTP round trips at " + at + " to a server that does not answer: the client has no timeout, so they wait forever.";
      f.fix = "Set http.Client{Timeout: ...} or use http.NewRequestWithContext with a deadline; set Transport.ResponseHeaderTimeout.";
      break;
    case Cause::kContextNeverCancelled:
      f.explanation = n + " " + v("waits", "wait") + " at " + at + " for a context that is never cancelled: its cancel function was dropped and no deadline is set.";
      f.fix = "Call the cancel function returned by context.WithCancel/WithTimeout on every path (defer cancel()); go vet's lostcancel check finds dropped ones.";
      break;
    case Cause::kBlockedWithoutTimeout:
      f.explanation = n + " " + v("is", "are") + " blocked at " + at + " with no deadline or timeout (network I/O or a select without a timeout case), so a silent peer holds them forever.";
      f.fix = "Set deadlines on connections (conn.SetReadDeadline), add a ctx.Done() or time.After case to the select, or close the connection from the side that gives up.";
      break;
    case Cause::kSelectNoCases:
      f.explanation = n + " " + v("runs", "run") + " select {} at " + at + ", which blocks forever by definition.";
      f.fix = "Return instead, or wait on a channel that is closed at shutdown.";
      break;
    case Cause::kEndlessLoop:
      f.explanation = n + " " + v("is", "are") + " running at " + at + " with the same stack in every snapshot: a loop that never ends (a condition that never becomes false, or a retry without backoff).";
      f.fix = "Check the loop's exit condition; bound retries and sleep between them; make long loops check ctx.Done().";
      break;
    case Cause::kUnknownBlocked:
      f.explanation = n + " " + v("is", "are") + " blocked" + (g.state.empty() ? std::string() : " [" + g.state + "]") + " at " + at + "; no rule of the taxonomy matched.";
      f.fix = "Check what this goroutine waits for and who is supposed to wake it.";
      break;
    case Cause::kNone:
      break;
  }
}

// Sets the verdict and its evidence from Go's mark, growth, age and size.
void judge(Finding& f, const Group& g, const GroupSeries* series, std::size_t snapshots, const ClassifyOptions& o) {
  auto add = [&](Verdict v, std::string why) {
    f.verdict = std::max(f.verdict, v);
    f.evidence.push_back(std::move(why));
  };
  if (g.leaked > 0) add(Verdict::kLeak, std::to_string(g.leaked) + " marked (leaked) by Go's goroutine leak detector");
  if (f.cause == Cause::kNone) return;
  if (f.cause == Cause::kNilChannelSend || f.cause == Cause::kNilChannelReceive || f.cause == Cause::kSelectNoCases) {
    add(Verdict::kLeak, "can never wake up");
  }
  if (f.cause == Cause::kEndlessLoop) add(Verdict::kLeak, "same running stack in all " + std::to_string(snapshots) + " snapshots");
  if (series != nullptr && series->monotonic_growth) {
    std::string counts;
    for (std::int64_t c : series->counts) counts += (counts.empty() ? "" : " -> ") + std::to_string(c);
    // Two steps of growth without a step back is a trend; one step may be
    // a burst (a group that appears in the last snapshot, say).
    add(series->growth_steps >= 2 ? Verdict::kLeak : Verdict::kSuspect, "grew " + counts);
  }
  if (g.count >= o.min_count) add(Verdict::kSuspect, std::to_string(g.count) + " goroutines blocked here (>= " + std::to_string(o.min_count) + ")");
  if (g.max_wait_minutes >= o.min_wait_minutes && g.max_wait_minutes > 0) {
    add(Verdict::kSuspect, "blocked for up to " + std::to_string(g.max_wait_minutes) + " minutes");
  }
}

}  // namespace

namespace {

struct CauseName {
  std::string_view id, title;
};

// Indexed by Cause, in its declaration order.
constexpr CauseName kCauseNames[] = {
    {"none", "Not a leak"},
    {"nil-channel-send", "Send on a nil channel"},
    {"nil-channel-receive", "Receive from a nil channel"},
    {"send-no-receiver", "Send with no receiver"},
    {"receive-no-sender", "Receive with no sender"},
    {"producer-consumer", "Producer/consumer with one side gone"},
    {"mutex-never-unlocked", "Mutex never unlocked"},
    {"waitgroup-mismatch", "WaitGroup Add/Done mismatch"},
    {"http-body-not-closed", "HTTP response body not closed"},
    {"http-client-no-timeout", "HTTP client without timeout"},
    {"context-never-cancelled", "Context never cancelled"},
    {"blocked-without-timeout", "Blocked without timeout"},
    {"select-no-cases", "select {} blocks forever"},
    {"endless-loop", "Endless loop"},
    {"unknown-blocked", "Blocked (cause unknown)"},
};
static_assert(std::size(kCauseNames) == static_cast<std::size_t>(Cause::kUnknownBlocked) + 1);

}  // namespace

std::string_view cause_id(Cause c) { return kCauseNames[static_cast<std::size_t>(c)].id; }
std::string_view cause_title(Cause c) { return kCauseNames[static_cast<std::size_t>(c)].title; }

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kSuspect: return "suspect";
    case Verdict::kLeak: return "leak";
  }
  return "?";
}

std::vector<Finding> classify(const std::vector<Snapshot>& snapshots, const Diff& diff, const ClassifyOptions& options) {
  const Snapshot& last = snapshots.back();
  std::unordered_map<std::string_view, const GroupSeries*> series_of;
  for (const GroupSeries& s : diff.series) series_of.emplace(s.key, &s);  // diff_key's value
  bool round_trip_waiting = std::any_of(last.groups.begin(), last.groups.end(), [](const Group& g) {
    return has_frame(g, "net/http.(*persistConn).roundTrip") || has_frame(g, "net/http.(*Transport).roundTrip");
  });
  SourceLookup sources(options.source_roots);
  std::vector<Finding> out;
  for (std::size_t i = 0; i < last.groups.size(); ++i) {
    const Group& g = last.groups[i];
    auto it = series_of.find(diff_key(diff, g));
    const GroupSeries* series = it == series_of.end() ? nullptr : it->second;
    Context c;
    c.group = &g;
    c.http_round_trip_waiting = round_trip_waiting;
    if (const Frame* user = g.first_user_frame()) c.source = sources.context(user->where.file, user->where.line);
    c.same_running_stack = snapshots.size() >= 2 && series != nullptr &&
                           std::all_of(series->counts.begin(), series->counts.end(), [](std::int64_t n) { return n > 0; });
    Finding f;
    f.group = i;
    f.cause = cause_of(c);
    if (c.source) f.source_line = c.source->line;
    explain(f, g);
    judge(f, g, series, snapshots.size(), options);
    if (f.cause == Cause::kNone && f.verdict == Verdict::kLeak) f.cause = Cause::kUnknownBlocked, explain(f, g);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace goro_leaks
