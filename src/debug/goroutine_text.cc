#include "debug/goroutine_text.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "debug/labels.h"
#include "debug/symbolizer.h"
#include "debug/tabwriter.h"
#include "debug/traceback.h"
#include "runtime/clock.h"
#include "runtime/wait_reason.h"

namespace goro::detail {
namespace {

constexpr std::size_t kChunk = 64 << 10;
constexpr std::int64_t kNanosPerMinute = 60'000'000'000;

// Output in chunks of about kChunk bytes.
class ChunkedOut {
 public:
  explicit ChunkedOut(const TextSink& sink) : sink_(sink) { buf_.reserve(kChunk + 4096); }
  ~ChunkedOut() { flush(); }
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kChunk) flush();
  }
  void flush() {
    if (!buf_.empty()) sink_(buf_);
    buf_.clear();
  }

 private:
  const TextSink& sink_;
  std::string buf_;
};

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

void append_hex(std::string& out, std::uintptr_t v) {
  char buf[24];
  // Go's %#x: "0x0" for zero, which C's %#lx prints as "0".
  int n = std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

// A stack inside the snapshot's pcs, as a hash key that owns nothing.
struct StackKey {
  const std::uintptr_t* pcs;
  std::uint32_t n;
  bool first_is_pc;
  bool operator==(const StackKey& o) const {
    return n == o.n && first_is_pc == o.first_is_pc && std::equal(pcs, pcs + n, o.pcs);
  }
};

struct StackKeyHash {
  std::size_t operator()(const StackKey& k) const noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ k.n ^ (k.first_is_pc ? 0x100000000ULL : 0);
    for (std::uint32_t i = 0; i < k.n; ++i) {
      h ^= k.pcs[i];
      h *= 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    return static_cast<std::size_t>(h);
  }
};

// Go's header: "goroutine 7 [chan receive, 3 minutes]:".
void append_header(std::string& out, const RawGoroutine& r, std::int64_t now) {
  out += "goroutine ";
  append_decimal(out, r.id);
  out += " [";
  if (r.status == GStatus::kWaiting && r.reason != WaitReason::kZero) {
    out += wait_reason_string(r.reason);
  } else {
    out += gstatus_string(r.status);
  }
  if (r.status == GStatus::kWaiting && r.wait_since != 0) {
    std::int64_t minutes = (now - r.wait_since) / kNanosPerMinute;
    if (minutes >= 1) {
      out += ", ";
      append_decimal(out, static_cast<std::uint64_t>(minutes));
      out += " minutes";
    }
  }
  out += "]:\n";
}

// Renders each distinct stack and creation site once.
class GoroutineRenderer {
 public:
  GoroutineRenderer(const RawSnapshot& snap) : snap_(snap) {}

  void append(std::string& out, const RawGoroutine& r) {
    append_header(out, r, snap_.taken_mono_ns);
    if (r.stack_unavailable) {
      out += "\tgoroutine running on other thread; stack unavailable\n";
    } else {
      out += frames_of(r);
    }
    if (r.create_pc != 0) {
      const auto& [head, location] = created_by_of(r.create_pc);
      out += head;
      if (r.creator_id != 0) {
        out += " in goroutine ";
        append_decimal(out, r.creator_id);
      }
      out += location;
    }
  }

 private:
  const std::string& frames_of(const RawGoroutine& r) {
    StackKey key{snap_.stack_of(r), r.pc_count, r.first_is_pc};
    auto it = frames_.find(key);
    if (it != frames_.end()) return it->second;
    std::string text;
    append_frames(text, key.pcs, key.n, key.first_is_pc);
    return frames_.emplace(key, std::move(text)).first->second;
  }

  const std::pair<std::string, std::string>& created_by_of(std::uintptr_t pc) {
    auto it = created_by_.find(pc);
    if (it != created_by_.end()) return it->second;
    return created_by_.emplace(pc, created_by_parts(pc)).first->second;
  }

  const RawSnapshot& snap_;
  std::unordered_map<StackKey, std::string, StackKeyHash> frames_;
  std::unordered_map<std::uintptr_t, std::pair<std::string, std::string>> created_by_;
};

// Go's printStackRecord for one stack of return addresses: one "#" line per
// frame (inlined calls included), at pc-1 like runtime.CallersFrames, with
// goro's runtime frames hidden; all frames when that would hide everything.
void append_stack_record(std::string& out, const std::vector<std::uintptr_t>& pcs, bool all_frames) {
  bool shown = false;
  std::string lines;
  for (std::uintptr_t ret : pcs) {
    std::uintptr_t pc = ret - 1;
    for (const SymbolFrame& f : symbolize(ret, true)) {
      if (f.function.empty()) {
        lines += "#\t";
        append_hex(lines, pc);
        lines += '\n';
        shown = true;
        continue;
      }
      if (!all_frames && is_runtime_frame(f.function)) continue;
      shown = true;
      lines += "#\t";
      append_hex(lines, pc);
      lines += '\t';
      lines += f.function;
      lines += '+';
      append_hex(lines, f.entry != 0 ? pc - f.entry : pc);
      lines += '\t';
      lines += f.file.empty() ? std::string("?") : f.file;
      lines += ':';
      append_decimal(lines, static_cast<std::uint64_t>(f.line));
      lines += '\n';
    }
  }
  if (!shown && !all_frames) {
    append_stack_record(out, pcs, true);
    return;
  }
  append_tab_aligned(out, lines);
  out += '\n';
}

struct SortEntry {
  std::uint64_t key;
  std::uint32_t index;  // into RawSnapshot::goroutines
};

// LSD radix sort by key, 16 bits a pass, only as many passes as the largest
// key needs (two for IDs below 2^32): linear, and it yields between blocks,
// where std::sort on a million entries would hold the worker for ~50 ms.
void sort_yielding(std::vector<SortEntry>& v, std::int64_t* last_yield) {
  constexpr int kBits = 16;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  constexpr std::size_t kBlock = 1 << 16;
  std::uint64_t max_key = 0;
  for (const SortEntry& e : v) max_key = std::max(max_key, e.key);
  std::vector<SortEntry> tmp(v.size());
  std::vector<std::size_t> start(kBuckets);
  for (int shift = 0; shift < 64 && (shift == 0 || (max_key >> shift) != 0); shift += kBits) {
    std::fill(start.begin(), start.end(), 0);
    for (const SortEntry& e : v) ++start[(e.key >> shift) & (kBuckets - 1)];
    std::size_t sum = 0;
    for (std::size_t& c : start) {
      std::size_t n = c;
      c = sum;
      sum += n;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      const SortEntry& e = v[i];
      tmp[start[(e.key >> shift) & (kBuckets - 1)]++] = e;
      if (i % kBlock == kBlock - 1) yield_if_long(last_yield);
    }
    v.swap(tmp);
  }
}

}  // namespace

void write_goroutines_text(const RawSnapshot& snap, const TextSink& sink, std::uint64_t skip_id,
                           bool leading_newline) {
  std::vector<SortEntry> order;
  order.reserve(snap.goroutines.size());
  for (std::uint32_t i = 0; i < snap.goroutines.size(); ++i) {
    const RawGoroutine& r = snap.goroutines[i];
    if (r.id == skip_id) continue;
    // Go's order: the caller, then main, then by ID.
    order.push_back({r.is_caller ? 0 : r.is_main ? 1 : r.id + 2, i});
  }
  std::int64_t last_yield = nanotime();
  sort_yielding(order, &last_yield);
  ChunkedOut out(sink);
  GoroutineRenderer renderer(snap);
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i != 0 || leading_newline) out.buf() += '\n';
    renderer.append(out.buf(), snap.goroutines[order[i].index]);
    out.maybe_flush();
    if ((i & 255) == 255) yield_if_long(&last_yield);
  }
}

std::vector<StackGroup> group_stacks(const RawSnapshot& snap) {
  // Labels are compared by content: goroutines that set equal labels
  // separately hold different sets. Each distinct set is formatted once.
  std::unordered_map<const LabelSet*, std::string> label_text;
  struct GroupKey {
    StackKey stack;
    const std::string* labels;  // into label_text, or null
    bool operator==(const GroupKey& o) const {
      return stack == o.stack && (labels == o.labels || (labels != nullptr && o.labels != nullptr && *labels == *o.labels));
    }
  };
  struct GroupKeyHash {
    std::size_t operator()(const GroupKey& k) const noexcept {
      return StackKeyHash{}(k.stack) ^ (k.labels != nullptr ? std::hash<std::string>{}(*k.labels) : 0);
    }
  };
  std::unordered_map<GroupKey, std::size_t, GroupKeyHash> index;
  std::vector<StackGroup> groups;
  std::vector<const RawGoroutine*> first;
  std::int64_t last_yield = nanotime();
  std::size_t i = 0;
  for (const RawGoroutine& r : snap.goroutines) {
    if ((++i & 1023) == 0) yield_if_long(&last_yield);
    const std::string* labels = nullptr;
    if (r.labels != nullptr) {
      auto it = label_text.find(r.labels);
      if (it == label_text.end()) it = label_text.emplace(r.labels, labels_to_go_string(r.labels->kv)).first;
      labels = &it->second;
    }
    GroupKey key{{snap.stack_of(r), r.pc_count, r.first_is_pc}, labels};
    auto [it, inserted] = index.emplace(key, groups.size());
    if (inserted) {
      StackGroup g;
      g.pcs.assign(key.stack.pcs, key.stack.pcs + key.stack.n);
      // An exact pc is stored as if it were a return address, as Go's
      // tracebackPCs does, so readers can subtract one from every pc.
      if (r.first_is_pc && !g.pcs.empty()) g.pcs[0] += 1;
      g.labels = r.labels != nullptr ? &r.labels->kv : nullptr;
      g.key.push_back('@');  // (not = "@": GCC 12 warns falsely, -Wrestrict)
      for (std::uintptr_t pc : g.pcs) {
        g.key += ' ';
        append_hex(g.key, pc);
      }
      if (labels != nullptr) {
        g.key += "\n# labels: ";
        g.key += *labels;
      }
      groups.push_back(std::move(g));
    }
    ++groups[it->second].count;
  }
  std::sort(groups.begin(), groups.end(), [](const StackGroup& a, const StackGroup& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.key < b.key;
  });
  return groups;
}

void write_grouped_text(const RawSnapshot& snap, const TextSink& sink) {
  std::vector<StackGroup> groups = group_stacks(snap);
  ChunkedOut out(sink);
  out.buf() += "goroutine profile: total ";
  append_decimal(out.buf(), snap.goroutines.size());
  out.buf() += '\n';
  for (const StackGroup& g : groups) {
    append_decimal(out.buf(), static_cast<std::uint64_t>(g.count));
    out.buf() += ' ';
    out.buf() += g.key;
    out.buf() += '\n';
    append_stack_record(out.buf(), g.pcs, false);
    out.maybe_flush();
  }
}

}  // namespace goro::detail
