#include "debug/labels.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "goro/labels.h"
#include "runtime/g.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

std::atomic<std::int64_t> g_readers{0};
std::mutex g_retired_mu;
std::vector<LabelSet*>* g_retired = nullptr;  // guarded by g_retired_mu; leaked at exit

// Labels of a plain thread (goroutines keep theirs in G::labels).
thread_local LabelSet* t_thread_labels = nullptr;

void free_or_defer(LabelSet* s) {
  if (g_readers.load(std::memory_order_seq_cst) == 0) {
    delete s;
    return;
  }
  std::lock_guard lock(g_retired_mu);
  if (g_retired == nullptr) g_retired = new std::vector<LabelSet*>();
  g_retired->push_back(s);
}

void free_retired() {
  std::vector<LabelSet*> batch;
  {
    std::lock_guard lock(g_retired_mu);
    if (g_retired == nullptr) return;
    batch.swap(*g_retired);
  }
  for (LabelSet* s : batch) delete s;
}

// The current label set (no new reference): the goroutine's or the thread's.
LabelSet* current_labels() noexcept {
  if (G* g = current_g()) return g->labels.load(std::memory_order_relaxed);
  return t_thread_labels;
}

// Installs s (taking over its reference) as the caller's labels and
// returns the previous set with its reference.
LabelSet* exchange_labels(LabelSet* s) noexcept {
  if (G* g = current_g()) return g->labels.exchange(s, std::memory_order_seq_cst);
  LabelSet* old = t_thread_labels;
  t_thread_labels = s;
  return old;
}

// Sorted, unique; the last value of a repeated key wins.
void normalize(std::vector<std::pair<std::string, std::string>>& kv) {
  std::stable_sort(kv.begin(), kv.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(kv.size());
  for (auto& e : kv) {
    if (!out.empty() && out.back().first == e.first) {
      out.back().second = std::move(e.second);
    } else {
      out.push_back(std::move(e));
    }
  }
  kv.swap(out);
}

LabelSet* make_set(std::vector<std::pair<std::string, std::string>> kv) {
  normalize(kv);
  if (kv.empty()) return nullptr;
  auto* s = new LabelSet();
  s->kv = std::move(kv);
  return s;
}

}  // namespace

void labels_retain(LabelSet* s) noexcept {
  if (s != nullptr) s->refs.fetch_add(1, std::memory_order_relaxed);
}

void labels_release(LabelSet* s) noexcept {
  if (s == nullptr) return;
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) free_or_defer(s);
}

LabelSet* labels_for_new_goroutine() noexcept {
  LabelSet* s = current_labels();
  labels_retain(s);
  return s;
}

LabelReadScope::LabelReadScope() noexcept { g_readers.fetch_add(1, std::memory_order_seq_cst); }

LabelReadScope::~LabelReadScope() {
  if (g_readers.fetch_sub(1, std::memory_order_seq_cst) == 1) free_retired();
}

LabelSet* LabelReadScope::acquire(const G& g) const {
  LabelSet* s = g.labels.load(std::memory_order_seq_cst);
  if (s == nullptr) return nullptr;
  // Take a reference unless the set is already on its way out (its owner
  // swapped it away and dropped it after our load): then copy it, which is
  // safe while this scope defers its free.
  std::int64_t refs = s->refs.load(std::memory_order_relaxed);
  while (refs > 0) {
    if (s->refs.compare_exchange_weak(refs, refs + 1, std::memory_order_relaxed)) return s;
  }
  auto* copy = new LabelSet();
  copy->kv = s->kv;
  return copy;
}

void append_go_quoted(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Keep a well-formed UTF-8 sequence as is (Go keeps printable runes);
      // an invalid byte is written as \x.., as strconv.Quote does.
      std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      bool ok = len != 0 && c < 0xf5 && i + len <= s.size();
      for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (ok) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string labels_to_go_string(const std::vector<std::pair<std::string, std::string>>& kv) {
  // Go sorts the formatted "k":"v" strings; kv is sorted by key, and a
  // quoted key's order matches the key's order except where escapes
  // differ, so sort the formatted entries as Go does.
  std::vector<std::string> entries;
  entries.reserve(kv.size());
  for (const auto& [k, v] : kv) {
    std::string e;
    append_go_quoted(e, k);
    e += ':';
    append_go_quoted(e, v);
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end());
  std::string out = "{";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i != 0) out += ", ";
    out += entries[i];
  }
  out += '}';
  return out;
}

}  // namespace goro::detail

namespace goro {

using detail::LabelSet;

Labels labels() {
  LabelSet* s = detail::current_labels();
  return s != nullptr ? s->kv : Labels{};
}

std::optional<std::string> label(std::string_view key) {
  LabelSet* s = detail::current_labels();
  if (s == nullptr) return std::nullopt;
  auto it = std::lower_bound(s->kv.begin(), s->kv.end(), key,
                             [](const auto& e, std::string_view k) { return e.first < k; });
  if (it == s->kv.end() || it->first != key) return std::nullopt;
  return it->second;
}

void set_labels(Labels kv) {
  LabelSet* s = detail::make_set(std::move(kv));
  detail::labels_release(detail::exchange_labels(s));
}

ScopedLabels::ScopedLabels(const Labels& add) {
  LabelSet* cur = detail::current_labels();
  Labels merged = cur != nullptr ? cur->kv : Labels{};
  merged.insert(merged.end(), add.begin(), add.end());  // later entries win
  LabelSet* s = detail::make_set(std::move(merged));
  previous_ = detail::exchange_labels(s);
}

ScopedLabels::~ScopedLabels() {
  detail::labels_release(detail::exchange_labels(static_cast<LabelSet*>(previous_)));
}

}  // namespace goro
