#include "debug/capture.h"

#include <time.h>

#include <atomic>
#include <memory>

#include "debug/labels.h"
#include "debug/sampler.h"
#include "debug/traceback.h"
#include "runtime/clock.h"
#include "runtime/context.h"
#include "runtime/fatal.h"
#include "runtime/processor.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

constexpr int kWalkAttempts = 4;
constexpr std::size_t kMaxFrames = 1024;
constexpr std::int64_t kSampleTimeoutNs = 50'000'000;
constexpr std::int64_t kYieldEveryNs = 1'000'000;

std::int64_t unix_nanos() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Walks a goroutine that is not running, from the frame goro_switch left at
// sp. The reads race with the goroutine being resumed (the caller validates
// them), so the sanitizers must not instrument them; they stay inside g's
// slot, which is always mapped.
__attribute__((no_sanitize("address", "thread"))) std::size_t walk_saved_context(const G* g, std::uintptr_t sp,
                                                                                  std::uintptr_t* out,
                                                                                  std::size_t max) {
  if (sp < g->stack_lo || sp + kSavedFrameSize > g->stack_hi || sp % sizeof(void*) != 0) return 0;
  std::uintptr_t fp = *reinterpret_cast<const volatile std::uintptr_t*>(sp + kSavedFpOffset);
  std::uintptr_t pc = *reinterpret_cast<const volatile std::uintptr_t*>(sp + kSavedPcOffset);
  // Not started yet: the first switch will enter the trampoline, and there
  // are no frames of the goroutine's own to show.
  if (pc == reinterpret_cast<std::uintptr_t>(&goro_entry_trampoline)) return 0;
  out[0] = pc;
  return 1 + walk_frame_pointers(fp, g->stack_lo, g->stack_hi, out + 1, max - 1);
}

// A G's identity, copied while the slot may be reused by a new goroutine
// at any moment: the caller checks live_id afterwards and drops a copy that
// raced. Not instrumented for the same reason as the stack walk.
struct Identity {
  std::uint64_t creator_id;
  std::uintptr_t create_pc;
  bool is_main;
};

__attribute__((no_sanitize("thread"))) Identity identity_of(const G& g) {
  return {g.creator_id, g.create_pc, g.is_main};
}

Processor* processor_running(const Scheduler& s, const G* g) {
  for (int i = 0, n = s.nprocs(); i < n; ++i) {
    Processor* p = s.processor(i);
    if (p != nullptr && p->current.load(std::memory_order_acquire) == g) return p;
  }
  return nullptr;
}

class Capturer {
 public:
  Capturer(RawSnapshot& snap, const LabelReadScope& labels) : snap_(snap), labels_(labels) {}

  [[gnu::noinline]] void capture_self(G* self) {
    std::uintptr_t buf[kMaxFrames];
    auto fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    std::size_t n = walk_frame_pointers(fp, self->stack_lo, self->stack_hi, buf, kMaxFrames);
    if (RawGoroutine* r = add(*self, self->id, GStatus::kRunning, buf, n)) r->is_caller = true;
  }

  void capture_other(const Scheduler& s, G* g) {
    for (int attempt = 0; attempt < kWalkAttempts; ++attempt) {
      std::uint64_t id = g->live_id.load(std::memory_order_acquire);
      if (id == 0) return;
      std::uint64_t stamp = g->resume_stamp.load(std::memory_order_acquire);
      GStatus st = g->status.load(std::memory_order_acquire);
      if (st == GStatus::kFree || st == GStatus::kIdle || st == GStatus::kDead) return;
      if (st == GStatus::kRunning) {
        if (capture_running(s, g, id, attempt + 1 == kWalkAttempts)) return;
        continue;  // it stopped running meanwhile: read it again
      }
      WaitReason reason = g->wait_reason.load(std::memory_order_relaxed);
      std::int64_t since = g->wait_since.load(std::memory_order_relaxed);
      auto sp = reinterpret_cast<std::uintptr_t>(__atomic_load_n(&g->sp, __ATOMIC_RELAXED));
      std::size_t n = walk_saved_context(g, sp, buf_, kMaxFrames);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (g->resume_stamp.load(std::memory_order_relaxed) != stamp ||
          g->live_id.load(std::memory_order_relaxed) != id) {
        continue;  // resumed during the walk: the frames may be torn
      }
      RawGoroutine* r = add(*g, id, st, buf_, n);
      if (r != nullptr && st == GStatus::kWaiting) {
        r->reason = reason;
        r->wait_since = since;
      }
      return;
    }
  }

 private:
  // A goroutine running on another worker. Returns false to have the caller
  // look again (it was not running there when the signal landed), unless
  // `last`, when it is recorded without a stack.
  bool capture_running(const Scheduler& s, G* g, std::uint64_t id, bool last) {
    Processor* p = processor_running(s, g);
    std::size_t n = 0;
    if (p != nullptr) n = sample_running_goroutine(p, g, buf_, kMaxFrames, kSampleTimeoutNs);
    if (n == 0 && !last) return false;
    if (RawGoroutine* r = add(*g, id, GStatus::kRunning, buf_, n)) {
      r->first_is_pc = n != 0;
      r->stack_unavailable = n == 0;
    }
    return true;
  }

  // Records goroutine `id` (read from g and validated by the caller), or
  // nothing when g's slot went to another goroutine meanwhile.
  RawGoroutine* add(const G& g, std::uint64_t id, GStatus st, const std::uintptr_t* pcs, std::size_t n) {
    Identity who = identity_of(g);
    LabelSet* labels = labels_.acquire(g);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (g.live_id.load(std::memory_order_relaxed) != id) {
      labels_release(labels);
      return nullptr;
    }
    RawGoroutine r;
    r.id = id;
    r.creator_id = who.creator_id;
    r.create_pc = who.create_pc;
    r.is_main = who.is_main;
    r.status = st;
    r.pc_begin = static_cast<std::uint32_t>(snap_.pcs.size());
    r.pc_count = static_cast<std::uint32_t>(n);
    snap_.pcs.insert(snap_.pcs.end(), pcs, pcs + n);
    r.labels = labels;
    snap_.goroutines.push_back(r);
    return &snap_.goroutines.back();
  }

  RawSnapshot& snap_;
  const LabelReadScope& labels_;
  std::uintptr_t buf_[kMaxFrames];
};

}  // namespace

RawSnapshot::RawSnapshot(RawSnapshot&& o) noexcept
    : goroutines(std::move(o.goroutines)),
      pcs(std::move(o.pcs)),
      taken_mono_ns(o.taken_mono_ns),
      taken_unix_ns(o.taken_unix_ns) {
  o.goroutines.clear();
}

RawSnapshot& RawSnapshot::operator=(RawSnapshot&& o) noexcept {
  if (this != &o) {
    release();
    goroutines = std::move(o.goroutines);
    pcs = std::move(o.pcs);
    taken_mono_ns = o.taken_mono_ns;
    taken_unix_ns = o.taken_unix_ns;
    o.goroutines.clear();
  }
  return *this;
}

RawSnapshot::~RawSnapshot() { release(); }

void RawSnapshot::release() noexcept {
  for (RawGoroutine& r : goroutines) {
    labels_release(r.labels);
    r.labels = nullptr;
  }
}

void yield_if_long(std::int64_t* last) {
  if (dying()) return;  // a crash report: this goroutine must not move
  std::int64_t now = nanotime();
  if (now - *last < kYieldEveryNs) return;
  if (current_g() != nullptr) yield_current();
  *last = nanotime();
}

RawSnapshot capture_goroutines(bool only_caller) {
  RawSnapshot snap;
  snap.taken_mono_ns = nanotime();
  snap.taken_unix_ns = unix_nanos();
  LabelReadScope labels;
  auto capturer = std::make_unique<Capturer>(snap, labels);  // 8 KiB of frames: off the stack
  G* self = current_g();
  if (self != nullptr) capturer->capture_self(self);
  Scheduler* s = Scheduler::get_if_started();
  if (only_caller || s == nullptr) return snap;
  std::size_t slots = s->stacks().carved_slots();
  snap.goroutines.reserve(slots);
  snap.pcs.reserve(slots * 8);
  std::int64_t last_yield = nanotime();
  std::size_t visited = 0;
  s->stacks().for_each_slot([&](G* g) {
    if (g == self) return;
    if ((++visited & 255) == 0) yield_if_long(&last_yield);
    capturer->capture_other(*s, g);
  });
  return snap;
}

}  // namespace goro::detail
