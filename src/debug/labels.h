// Label sets behind goro/labels.h: immutable, reference-counted, shared by a
// goroutine and the goroutines it creates.
//
// A goroutine's labels live in G::labels (an atomic pointer holding one
// reference). Only the goroutine itself replaces it; snapshots read it from
// other threads without stopping anybody. Reclamation (why a snapshot never
// reads a freed set):
//  - a reader announces itself (g_readers++, seq_cst) before it loads a
//    G::labels pointer (seq_cst), and retires the announcement afterwards;
//  - the owner swaps the pointer (seq_cst) before it drops its reference;
//    whoever drops the last reference frees the set at once only if no
//    reader is announced (seq_cst load), and otherwise parks it on a
//    retired list that the last reader to leave frees.
//  In the single total order of seq_cst operations, a reader that loaded the
//  old pointer announced itself before the swap, hence before the owner's
//  check, which therefore sees it and defers the free.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace goro::detail {

struct G;

struct LabelSet {
  std::atomic<std::int64_t> refs{1};
  std::vector<std::pair<std::string, std::string>> kv;  // sorted by key, unique
};

// Reference counting. release(nullptr) is a no-op.
void labels_retain(LabelSet* s) noexcept;
void labels_release(LabelSet* s) noexcept;

// The labels a goroutine created now by the caller inherits (a new
// reference, or null): the running goroutine's, or the plain thread's.
LabelSet* labels_for_new_goroutine() noexcept;

// A snapshot's read of other goroutines' labels; see the protocol above.
class LabelReadScope {
 public:
  LabelReadScope() noexcept;
  ~LabelReadScope();
  LabelReadScope(const LabelReadScope&) = delete;
  LabelReadScope& operator=(const LabelReadScope&) = delete;
  // A reference to g's current labels (or null), valid after the scope.
  LabelSet* acquire(const G& g) const;
};

// Go's labelMap.String(): {"k1":"v1", "k2":"v2"}, keys sorted, each
// quoted like Go's %q.
std::string labels_to_go_string(const std::vector<std::pair<std::string, std::string>>& kv);
// Go's strconv.Quote for UTF-8 text (invalid bytes as \x..).
void append_go_quoted(std::string& out, std::string_view s);

}  // namespace goro::detail
