// goro::RWMutex, Go's sync.RWMutex: many readers or one writer.
//
//   goro::RWMutex mu;
//   { std::shared_lock read(mu); ... }   // RLock / RUnlock
//   { std::unique_lock write(mu); ... }  // Lock / Unlock
//
// Writer preference, exactly Go's: once a writer is waiting, new readers
// wait behind it (so a stream of readers cannot starve a writer), and
// readers already holding the lock finish first. Consequently a reader must
// not take the read lock recursively: with a writer waiting in between, the
// second RLock waits for the writer, which waits for the first RLock.
// Waiting goroutines park with wait reason "sync.RWMutex.RLock" (readers),
// "sync.Mutex.Lock" (a writer queued behind another writer) or
// "sync.RWMutex.Lock" (a writer waiting for readers to leave); plain threads
// block. Any party may unlock, as in Go.
#pragma once

#include <atomic>
#include <cstdint>

#include "goro/detail/sema.h"
#include "goro/sync/mutex.h"

namespace goro {

class RWMutex {
 public:
  constexpr RWMutex() noexcept = default;
  // Must not be held or waited for. May run while the unlock() or runlock()
  // that let the destroying party in is still finishing; waits for it.
  ~RWMutex() {
    if (unlocking_.load(std::memory_order_acquire) != 0) detail::drain_in_flight(unlocking_);
    detail::sema_drain(writer_sem_);
    detail::sema_drain(reader_sem_);
  }
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // Write lock: waits until no reader or writer holds the mutex.
  void lock();
  // Write lock if available at once; never blocks.
  bool try_lock() noexcept;
  // Releases the write lock and lets the readers that queued behind it in.
  // Never blocks. Not write-locked: "fatal error: sync: Unlock of unlocked
  // RWMutex" (exit status 2, as in Go).
  void unlock();

  // Read lock: waits while a writer holds or waits for the mutex.
  void rlock() {
    if (reader_count_.fetch_add(1, std::memory_order_acq_rel) + 1 < 0) rlock_slow();
  }
  // Read lock if available at once; never blocks.
  bool try_rlock() noexcept;
  // Releases one read lock. Never blocks. Not read-locked: "fatal error:
  // sync: RUnlock of unlocked RWMutex" (exit status 2).
  void runlock() {
    std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
    if (r < 0) runlock_slow(r);
  }

  // The names std::shared_lock and std::shared_mutex users expect.
  void lock_shared() { rlock(); }
  bool try_lock_shared() noexcept { return try_rlock(); }
  void unlock_shared() { runlock(); }

 private:
  static constexpr std::int32_t kMaxReaders = 1 << 30;

  void rlock_slow();
  void runlock_slow(std::int32_t r);

  Mutex writer_;                              // held by the pending or active writer
  std::atomic<std::uint32_t> unlocking_{0};   // unlock() calls still touching *this
  std::atomic<std::int32_t> reader_count_{0}; // readers; minus kMaxReaders while a writer is pending
  std::atomic<std::int32_t> reader_wait_{0};  // readers the pending writer still waits for
  detail::Sema writer_sem_;                   // the writer waits here for readers to leave
  detail::Sema reader_sem_;                   // readers wait here for the writer to finish
};

}  // namespace goro
