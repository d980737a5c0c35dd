// The channel record (Go's hchan) and the transfer steps that send, recv,
// close and select share.
//
// Design (runtime/chan.go, adapted):
//  - One RuntimeLock guards everything but the reference count. A blocked
//    party is a Waiter on its own stack, queued on recvq or sendq; `elem`
//    points at the value to send or at raw storage to receive into. Values
//    go directly from the sender's storage to the receiver's when one side
//    waits (no trip through the buffer), as in Go.
//  - The buffer is a ring of `cap` element slots after the record, in the
//    same allocation. Slots in [recvx, recvx + qcount) hold constructed
//    elements; the others are raw memory.
//
// Invariants (under lock):
//  - recvq non-empty implies qcount == 0 (receivers wait only when there is
//    nothing buffered) and sendq non-empty implies qcount == cap, except for
//    select Waiters already claimed elsewhere, which wakers skip;
//  - closed implies sendq holds no unclaimed Waiter (close released them);
//  - a Waiter is woken once: the waker dequeues it, and for a select's
//    Waiter also wins its SelectWait, before touching `elem`.
// Lock order: several channels (select only) are locked by increasing
// address; no other lock is taken while a channel lock is held.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "goro/detail/chan_core.h"
#include "runtime/runtime_lock.h"
#include "runtime/waiter.h"

namespace goro::detail {

class ChanCore {
 public:
  ChanCore(const ElemType* type, std::size_t cap, std::size_t stride, unsigned char* buf) noexcept
      : type(type), cap(cap), stride(stride), buf(buf) {}

  std::atomic<std::int64_t> refs{1};
  const ElemType* const type;
  const std::size_t cap;
  const std::size_t stride;  // slot size: type->size rounded up to type->align
  unsigned char* const buf;
  // Timer channels (Go 1.23) report len and cap as 0.
  bool timer_chan = false;

  RuntimeLock lock;
  // qcount is also read without the lock by len() (as Go does): atomic.
  std::atomic<std::size_t> qcount{0};
  std::size_t sendx = 0;
  std::size_t recvx = 0;
  bool closed = false;
  WaiterQueue recvq;
  WaiterQueue sendq;

  void* slot(std::size_t i) const noexcept { return buf + i * stride; }
  std::size_t count() const noexcept { return qcount.load(std::memory_order_relaxed); }
};

// The first Waiter of q that this waker may take (a plain Waiter, or a
// select's Waiter whose select nobody has won yet), dequeued; null if none.
Waiter* dequeue_waiter(WaiterQueue& q) noexcept;

// Under c->lock. A receiver w waits: moves the value at src to it.
void send_to_waiter(ChanCore* c, Waiter* w, void* src) noexcept;
// Under c->lock. A sender w waits: receives its value (through the buffer
// when there is one, keeping FIFO order) into dst.
void recv_from_waiter(ChanCore* c, Waiter* w, void* dst) noexcept;
// Under c->lock, qcount < cap: appends the value at src to the buffer.
void buffer_put(ChanCore* c, void* src) noexcept;
// Under c->lock, qcount > 0: moves the oldest buffered value into dst.
void buffer_take(ChanCore* c, void* dst) noexcept;

// Parks the caller forever (nil channel, empty select): goroutines with
// reason r, plain threads sleep.
[[noreturn]] void block_forever(WaitReason r);

[[noreturn]] void throw_send_on_closed();

}  // namespace goro::detail
