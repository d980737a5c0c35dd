// Once: Go's sync.Once. The fast path (done_ set) is inline in the header;
// the first callers meet here. done_ is stored only after f returned or
// threw, with release order, so a caller that sees it set also sees what f
// wrote; callers arriving meanwhile wait on mu_, which the first caller holds
// while f runs.
#include "goro/sync/once.h"

#include <mutex>

namespace goro {

void Once::call_slow(void (*invoke)(void*), void* fn) {
  std::lock_guard lock(mu_);
  if (done_.load(std::memory_order_relaxed)) return;
  struct MarkDone {  // also when f throws: Go's `defer o.done.Store(1)`
    std::atomic<bool>& done;
    ~MarkDone() { done.store(true, std::memory_order_release); }
  } mark{done_};
  invoke(fn);
}

}  // namespace goro
