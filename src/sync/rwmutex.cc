// RWMutex: Go's sync.RWMutex (sync/rwmutex.go).
//
// reader_count_ counts readers holding or wanting the lock. A writer first
// takes writer_ (excluding other writers), then subtracts kMaxReaders: from
// then on the count is negative and new readers queue on reader_sem_ (writer
// preference). The readers that were already in (r, the value before the
// subtraction) are added to reader_wait_; each one's runlock decrements it,
// and the last one releases writer_sem_, on which the writer waits.
// unlock adds kMaxReaders back, releases reader_sem_ once per reader that
// queued meanwhile, then unlocks writer_.
// Invariants:
//  - reader_count_ < 0 exactly while a writer holds or waits for the lock;
//  - a reader leaving while reader_count_ < 0 was either counted in
//    reader_wait_ (it entered before the writer) or never got in (it is a
//    queued reader, and queued readers do not runlock) — so the sum of
//    reader_wait_ decrements equals the readers the writer waits for.
#include "goro/sync/rwmutex.h"

#include "runtime/fatal.h"

namespace goro {

void RWMutex::rlock_slow() {
  // A writer is pending or active: wait until its unlock lets us in.
  detail::sema_acquire(reader_sem_, detail::SemaWait::kRWMutexRLock, false);
}

bool RWMutex::try_rlock() noexcept {
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  for (;;) {
    if (c < 0) return false;
    if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  }
}

void RWMutex::runlock_slow(std::int32_t r) {
  if (r + 1 == 0 || r + 1 == -kMaxReaders) detail::fatal_error("sync: RUnlock of unlocked RWMutex");
  // A writer is pending: the last reader it waits for lets it in. (The
  // writer cannot get in, and so cannot destroy *this, before that release;
  // sema_release guards its own tail.)
  if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) {
    detail::sema_release(writer_sem_, false);
  }
}

void RWMutex::lock() {
  writer_.lock();  // other writers: "sync.Mutex.Lock", as in Go
  // Announce the pending writer; r readers are still inside.
  std::int32_t r = reader_count_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
    detail::sema_acquire(writer_sem_, detail::SemaWait::kRWMutexLock, false);
  }
}

bool RWMutex::try_lock() noexcept {
  if (!writer_.try_lock()) return false;
  std::int32_t none = 0;
  if (!reader_count_.compare_exchange_strong(none, -kMaxReaders, std::memory_order_acquire, std::memory_order_relaxed)) {
    writer_.unlock();
    return false;
  }
  return true;
}

void RWMutex::unlock() {
  // Go's order: let readers in, release the queued ones, then unlock
  // writer_ (earlier, and a second writer could subtract kMaxReaders before
  // we added it back). But a reader let in may destroy *this at once
  // (POSIX's destroy-after-unlock) while we still release the others and
  // writer_. So we count ourselves in flight while we still hold the write
  // lock, and ~RWMutex waits for the count; the yield to a goroutine
  // writer_ was handed to comes after our last access.
  unlocking_.fetch_add(1, std::memory_order_relaxed);
  // r readers queued while we held it.
  std::int32_t r = reader_count_.fetch_add(kMaxReaders, std::memory_order_acq_rel) + kMaxReaders;
  if (r >= kMaxReaders) detail::fatal_error("sync: Unlock of unlocked RWMutex");
  for (std::int32_t i = 0; i < r; ++i) detail::sema_release(reader_sem_, false);
  bool yield = writer_.release();
  unlocking_.fetch_sub(1, std::memory_order_release);  // the last access to *this
  if (yield) detail::sema_yield();
}

}  // namespace goro
