// The leak taxonomy: for each group of the newest snapshot, the likely cause
// if it leaks (from its state, its stack and, when the source is at hand,
// the line it is blocked on) and a verdict from the evidence that it does
// leak (Go's "(leaked)" mark, a nil channel, growth over snapshots, age,
// size).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "diff.h"
#include "snapshot.h"

namespace goro_leaks {

enum class Cause {
  kNone,                  // not blocked, or blocked in a known-benign place
  kNilChannelSend,
  kNilChannelReceive,
  kSendNoReceiver,        // e.g. first-result-wins fan-out on an unbuffered channel
  kReceiveNoSender,
  kProducerConsumer,      // one side of a pipeline quit, the other waits
  kMutexNeverUnlocked,
  kWaitGroupMismatch,     // Add without Done: Wait never returns
  kHttpBodyNotClosed,     // net/http persistConn loops kept by unclosed bodies
  kHttpClientNoTimeout,   // round trips to a server that never answers
  kContextNeverCancelled,
  kBlockedWithoutTimeout, // I/O or select with no deadline
  kSelectNoCases,         // select {} outside main
  kEndlessLoop,           // running with the same stack in every snapshot
  kUnknownBlocked,        // blocked, no rule matched
};

std::string_view cause_id(Cause c);     // "nil-channel-send", ... (kNone: "none")
std::string_view cause_title(Cause c);  // "Send on a nil channel", ...

enum class Verdict {
  kOk,       // no evidence of a leak
  kSuspect,  // large or old, but one snapshot cannot prove it
  kLeak,     // cannot wake up, marked leaked by Go, or grows
};
std::string_view verdict_name(Verdict v);  // "ok", "suspect", "leak"

struct ClassifyOptions {
  std::int64_t min_count = 10;       // a blocked group this large is a suspect
  int min_wait_minutes = 5;          // so is one blocked this long
  std::vector<std::string> source_roots;  // where to look for the stacks' files
};

struct Finding {
  std::size_t group = 0;        // index into the newest snapshot's groups
  Cause cause = Cause::kNone;
  Verdict verdict = Verdict::kOk;
  std::string explanation;      // what goes wrong, in this group's terms
  std::string fix;              // what to change
  std::vector<std::string> evidence;  // why the verdict ("grew 10 -> 20 -> 30", ...)
  std::string source_line;      // the blocking line, when the source was found
};

// One finding per group of snapshots.back(), in its group order. `diff`
// must come from the same snapshots. Needs at least one snapshot.
std::vector<Finding> classify(const std::vector<Snapshot>& snapshots, const Diff& diff,
                              const ClassifyOptions& options = {});

}  // namespace goro_leaks
