// The public face of introspection (goro/debug.h): snapshot(),
// write_goroutine_profile() and stack(), on top of capture.h and the
// writers.
#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "debug/capture.h"
#include "debug/goroutine_text.h"
#include "debug/labels.h"
#include "debug/profile_proto.h"
#include "debug/symbolizer.h"
#include "debug/traceback.h"
#include "goro/debug.h"
#include "runtime/wait_reason.h"

namespace goro::debug {
namespace {

using detail::RawGoroutine;
using detail::RawSnapshot;

std::vector<Frame> symbolized_stack(const RawSnapshot& snap, const RawGoroutine& r) {
  std::vector<Frame> out;
  const std::uintptr_t* pcs = snap.stack_of(r);
  for (std::uint32_t i = 0; i < r.pc_count; ++i) {
    bool is_return = !(r.first_is_pc && i == 0);
    for (const detail::SymbolFrame& f : detail::symbolize(pcs[i], is_return)) {
      if (detail::is_runtime_frame(f.function)) continue;
      out.push_back(Frame{f.function, f.file, f.line, pcs[i], f.entry, f.inlined});
    }
  }
  return out;
}

Frame creation_frame(std::uintptr_t create_pc) {
  if (create_pc == 0) return {};
  const auto& frames = detail::symbolize(create_pc, true);
  for (const detail::SymbolFrame& f : frames) {
    if (!detail::is_runtime_frame(f.function)) return Frame{f.function, f.file, f.line, create_pc, f.entry, f.inlined};
  }
  const detail::SymbolFrame& f = frames.back();
  return Frame{f.function, f.file, f.line, create_pc, f.entry, f.inlined};
}

detail::TextSink stream_sink(std::ostream& out) {
  return [&out](std::string_view s) { out.write(s.data(), static_cast<std::streamsize>(s.size())); };
}

void write_proto(std::ostream& out, const RawSnapshot& snap) {
  std::vector<detail::StackGroup> groups = detail::group_stacks(snap);
  std::vector<detail::ProfileSample> samples;
  samples.reserve(groups.size());
  for (const detail::StackGroup& g : groups) {
    samples.push_back({g.count, g.pcs.data(), g.pcs.size(), false, g.labels});
  }
  detail::write_goroutine_proto(out, samples, snap.taken_unix_ns);
}

}  // namespace

Snapshot snapshot() {
  RawSnapshot snap = detail::capture_goroutines();
  Snapshot out;
  out.taken_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(snap.taken_unix_ns)));
  out.goroutines.reserve(snap.goroutines.size());
  for (const RawGoroutine& r : snap.goroutines) {
    Goroutine g;
    g.id = r.id;
    g.status = detail::gstatus_string(r.status);
    if (r.status == detail::GStatus::kWaiting) {
      g.wait_reason = std::string(detail::wait_reason_string(r.reason));
      if (r.wait_since != 0) g.wait_duration = std::chrono::nanoseconds(std::max<std::int64_t>(0, snap.taken_mono_ns - r.wait_since));
    }
    g.creator_id = r.creator_id;
    g.created_by = creation_frame(r.create_pc);
    if (r.labels != nullptr) g.labels = r.labels->kv;
    g.stack = symbolized_stack(snap, r);
    g.stack_available = !r.stack_unavailable;
    g.is_main = r.is_main;
    g.is_current = r.is_caller;
    out.goroutines.push_back(std::move(g));
  }
  std::sort(out.goroutines.begin(), out.goroutines.end(), [](const Goroutine& a, const Goroutine& b) {
    if (a.is_current != b.is_current) return a.is_current;
    if (a.is_main != b.is_main) return a.is_main;
    return a.id < b.id;
  });
  return out;
}

void write_goroutine_profile(std::ostream& out, int debug) {
  if (debug < 0 || debug > 2) {
    throw std::invalid_argument("goro::debug::write_goroutine_profile: debug must be 0, 1 or 2, not " +
                                std::to_string(debug));
  }
  RawSnapshot snap = detail::capture_goroutines();
  switch (debug) {
    case 0: write_proto(out, snap); break;
    case 1: detail::write_grouped_text(snap, stream_sink(out)); break;
    default: detail::write_goroutines_text(snap, stream_sink(out)); break;
  }
}

std::string stack(bool all) {
  RawSnapshot snap = detail::capture_goroutines(/*only_caller=*/!all);
  std::string out;
  detail::write_goroutines_text(snap, [&out](std::string_view s) { out.append(s); });
  return out;
}

}  // namespace goro::debug
