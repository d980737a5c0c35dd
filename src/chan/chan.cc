// Channel send, receive and close (Go's chansend, chanrecv, closechan).
// See hchan.h for the design and invariants.
#include <cstdlib>
#include <new>

#include "chan/hchan.h"
#include "goro/error.h"
#include "runtime/futex.h"
#include "runtime/scheduler.h"

namespace goro::detail {

// --- lifetime ------------------------------------------------------------------

namespace {

std::size_t round_up(std::size_t n, std::size_t align) noexcept { return (n + align - 1) / align * align; }

// The record and the ring share one allocation: [ChanCore][pad][slots...].
std::size_t record_align(const ElemType* type) noexcept {
  return type->align > alignof(ChanCore) ? type->align : alignof(ChanCore);
}
std::size_t buffer_offset(const ElemType* type) noexcept { return round_up(sizeof(ChanCore), type->align); }

}  // namespace

ChanCore* chan_make(const ElemType* type, std::size_t cap) {
  std::size_t stride = round_up(type->size, type->align);
  if (cap != 0 && stride > (SIZE_MAX - buffer_offset(type)) / cap) throw std::bad_alloc();  // Go: "makechan: size out of range"
  std::size_t bytes = buffer_offset(type) + cap * stride;
  void* mem = ::operator new(bytes, std::align_val_t{record_align(type)});
  auto* base = static_cast<unsigned char*>(mem);
  return ::new (mem) ChanCore(type, cap, stride, base + buffer_offset(type));
}

void chan_retain(ChanCore* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_release(ChanCore* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Last handle: nobody can be blocked on c (a blocked party holds a handle).
  std::size_t n = c->count();
  for (std::size_t i = 0; i < n; ++i) c->type->destroy(c->slot((c->recvx + i) % c->cap));
  std::size_t align = record_align(c->type);
  c->~ChanCore();
  ::operator delete(static_cast<void*>(c), std::align_val_t{align});
}

std::size_t chan_len(const ChanCore* c) noexcept { return c->timer_chan ? 0 : c->count(); }
std::size_t chan_cap(const ChanCore* c) noexcept { return c->timer_chan ? 0 : c->cap; }

// --- shared steps ----------------------------------------------------------------

Waiter* dequeue_waiter(WaiterQueue& q) noexcept {
  while (Waiter* w = q.pop_front()) {
    if (w->claim()) return w;
    // A select whose other case already won: it withdraws this Waiter
    // itself (remove_if_queued copes with it being gone).
  }
  return nullptr;
}

void send_to_waiter(ChanCore* c, Waiter* w, void* src) noexcept {
  c->type->move_construct(w->elem, src);
  w->success = true;
}

void recv_from_waiter(ChanCore* c, Waiter* w, void* dst) noexcept {
  if (c->cap == 0) {
    c->type->move_construct(dst, w->elem);  // straight from the sender's stack
  } else {
    // The buffer is full: take its head and put the sender's value at the
    // tail, which is the same slot (the ring is full).
    void* head = c->slot(c->recvx);
    c->type->move_construct(dst, head);
    c->type->destroy(head);
    c->type->move_construct(head, w->elem);
    c->recvx = c->recvx + 1 == c->cap ? 0 : c->recvx + 1;
    c->sendx = c->recvx;
  }
  w->success = true;
}

void buffer_put(ChanCore* c, void* src) noexcept {
  c->type->move_construct(c->slot(c->sendx), src);
  c->sendx = c->sendx + 1 == c->cap ? 0 : c->sendx + 1;
  c->qcount.store(c->count() + 1, std::memory_order_relaxed);
}

void buffer_take(ChanCore* c, void* dst) noexcept {
  void* head = c->slot(c->recvx);
  c->type->move_construct(dst, head);
  c->type->destroy(head);
  c->recvx = c->recvx + 1 == c->cap ? 0 : c->recvx + 1;
  c->qcount.store(c->count() - 1, std::memory_order_relaxed);
}

void block_forever(WaitReason r) {
  if (current_g() != nullptr) {
    park(r, nullptr, nullptr);  // nobody can ever ready it
  } else {
    std::atomic<std::uint32_t> never{0};
    for (;;) futex_wait(&never, 0);
  }
  std::abort();  // unreachable: a goroutine parked this way is never readied
}

void throw_send_on_closed() { throw goro::Error("send on closed channel"); }

// --- send ---------------------------------------------------------------------------

bool chan_send(ChanCore* c, void* src, bool block) {
  if (c == nullptr) {
    if (!block) return false;
    block_forever(WaitReason::kChanSendNilChan);
  }
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw_send_on_closed();
  }
  if (Waiter* w = dequeue_waiter(c->recvq)) {
    send_to_waiter(c, w, src);
    c->lock.unlock();
    wake(*w);
    return true;
  }
  if (c->count() < c->cap) {
    buffer_put(c, src);
    c->lock.unlock();
    return true;
  }
  if (!block) {
    c->lock.unlock();
    return false;
  }
  Waiter w = Waiter::for_current();
  w.elem = src;
  w.owner = c;
  c->sendq.push_back(&w);
  detail::block(w, WaitReason::kChanSend, c->lock);
  // Woken by a receiver (success) or by close (the value stays ours).
  if (!w.success) throw_send_on_closed();
  return true;
}

// --- receive ------------------------------------------------------------------------

RecvResult chan_recv(ChanCore* c, void* dst, bool block) {
  if (c == nullptr) {
    if (!block) return {false, false};
    block_forever(WaitReason::kChanReceiveNilChan);
  }
  c->lock.lock();
  if (c->closed && c->count() == 0) {
    c->lock.unlock();
    return {true, false};
  }
  if (Waiter* w = dequeue_waiter(c->sendq)) {
    recv_from_waiter(c, w, dst);
    c->lock.unlock();
    wake(*w);
    return {true, true};
  }
  if (c->count() > 0) {
    buffer_take(c, dst);
    c->lock.unlock();
    return {true, true};
  }
  if (!block) {
    c->lock.unlock();
    return {false, false};
  }
  Waiter w = Waiter::for_current();
  w.elem = dst;
  w.owner = c;
  c->recvq.push_back(&w);
  detail::block(w, WaitReason::kChanReceive, c->lock);
  return {true, w.success};  // !success: woken by close, dst untouched
}

// --- close --------------------------------------------------------------------------

void chan_close(ChanCore* c) {
  if (c == nullptr) throw goro::Error("close of nil channel");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw goro::Error("close of closed channel");
  }
  c->closed = true;
  // Collect every waiter (receivers get nothing, senders will throw), then
  // wake them outside the lock. The list reuses the dequeued Waiters' links.
  Waiter* release = nullptr;
  for (WaiterQueue* q : {&c->recvq, &c->sendq}) {
    while (Waiter* w = dequeue_waiter(*q)) {
      w->success = false;
      w->next = release;
      release = w;
    }
  }
  c->lock.unlock();
  while (release != nullptr) {
    Waiter* w = release;
    release = w->next;  // read before wake: w's frame may vanish after it
    wake(*w);
  }
}

}  // namespace goro::detail
