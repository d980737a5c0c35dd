// select (Go's selectgo, runtime/select.go).
//
// 1. Poll order: the cases on non-nil channels in a uniformly random
//    permutation, so that among ready cases each is equally likely.
//    Lock order: the same cases sorted by channel address; every channel is
//    locked once, in that order (the global lock order for channels).
// 2. Pass 1, all locked: take the first ready case in poll order.
// 3. Pass 2 (blocking select, nothing ready): queue one Waiter per case,
//    all sharing one SelectWait, then park and unlock everything. The first
//    waker to win SelectWait::done completes its transfer and wakes us;
//    later wakers skip our other Waiters (see dequeue_waiter).
// 4. Pass 3, all locked again: withdraw the Waiters that did not win.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "chan/hchan.h"
#include "runtime/scheduler.h"

namespace goro::detail {
namespace {

// Per-thread random numbers for the poll order (wyrand: fast, good enough
// for fairness; Go uses its own cheaprand).
std::uint32_t select_rand(std::uint32_t bound) noexcept {
  thread_local std::uint64_t state = reinterpret_cast<std::uintptr_t>(&state) * 0x9E3779B97F4A7C15ULL + 1;
  state += 0xa0761d6478bd642fULL;
  __uint128_t m = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  auto r = static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(r)) * bound) >> 32);
}

// Scratch arrays sized for the common case on the stack, larger on the heap.
template <class T, int kInline = 8>
class SmallArray {
 public:
  explicit SmallArray(int n) {
    if (n > kInline) heap_.resize(static_cast<std::size_t>(n));
    data_ = n > kInline ? heap_.data() : inline_;
  }
  T& operator[](int i) noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }

 private:
  T inline_[kInline];
  std::vector<T> heap_;
  T* data_;
};

struct Locked {
  SelectCase* cases;
  const std::int16_t* lockorder;
  int n;

  // Each distinct channel once, by increasing address.
  void lock_all() const noexcept {
    ChanCore* prev = nullptr;
    for (int i = 0; i < n; ++i) {
      ChanCore* c = cases[lockorder[i]].c;
      if (c != prev) c->lock.lock();
      prev = c;
    }
  }
  // In reverse lock order, as Go's selunlock: after a parked select's
  // unlockf releases a channel, a waker may ready the selecting goroutine,
  // but it cannot leave select_cases (whose frame holds cases, lockorder and
  // this Locked) before its pass 3 gets the first channel's lock. Releasing
  // that lock last, with nothing read after it, keeps the frame alive for
  // as long as we read it.
  void unlock_all() const noexcept {
    for (int i = n - 1; i >= 0; --i) {
      ChanCore* c = cases[lockorder[i]].c;
      if (i > 0 && c == cases[lockorder[i - 1]].c) continue;  // duplicate: unlocked once
      c->lock.unlock();
    }
  }
};

bool unlock_all_after_park(G*, void* arg) {
  static_cast<const Locked*>(arg)->unlock_all();
  return true;
}

// Pass 1 for one case, all channels locked. On success the locks are
// released and any waiter taken is woken. Returns whether the case fired.
bool try_case(SelectCase& sc, const Locked& locked, SelectResult& out, int index) {
  ChanCore* c = sc.c;
  if (sc.is_send) {
    if (c->closed) {
      locked.unlock_all();
      throw_send_on_closed();
    }
    if (Waiter* w = dequeue_waiter(c->recvq)) {
      send_to_waiter(c, w, sc.elem);
      locked.unlock_all();
      wake(*w);
    } else if (c->count() < c->cap) {
      buffer_put(c, sc.elem);
      locked.unlock_all();
    } else {
      return false;
    }
    out = {index, false};
    return true;
  }
  if (Waiter* w = dequeue_waiter(c->sendq)) {
    recv_from_waiter(c, w, sc.elem);
    locked.unlock_all();
    wake(*w);
    out = {index, true};
  } else if (c->count() > 0) {
    buffer_take(c, sc.elem);
    locked.unlock_all();
    out = {index, true};
  } else if (c->closed) {
    locked.unlock_all();
    out = {index, false};
  } else {
    return false;
  }
  return true;
}

// A select with one channel case is a plain channel operation, as Go's
// compiler makes it (same wait reasons: "chan receive", not "select").
SelectResult single_case(SelectCase& sc, bool block) {
  if (sc.is_send) return {chan_send(sc.c, sc.elem, block) ? 0 : -1, false};
  RecvResult r = chan_recv(sc.c, sc.elem, block);
  return {r.selected ? 0 : -1, r.received};
}

}  // namespace

SelectResult select_cases(SelectCase* cases, int n, bool block) {
  if (n == 1) return single_case(cases[0], block);
  SmallArray<std::int16_t> pollorder(n);
  SmallArray<std::int16_t> lockorder(n);
  int active = 0;
  for (int i = 0; i < n; ++i) {
    if (cases[i].c == nullptr) continue;  // nil channel: the case is disabled
    // Inside-out Fisher-Yates: a uniform permutation of the active cases.
    int j = static_cast<int>(select_rand(static_cast<std::uint32_t>(active + 1)));
    pollorder[active] = pollorder[j];
    pollorder[j] = static_cast<std::int16_t>(i);
    lockorder[active] = static_cast<std::int16_t>(i);
    ++active;
  }
  if (active == 0) {
    if (!block) return {-1, false};
    block_forever(n == 0 ? WaitReason::kSelectNoCases : WaitReason::kSelect);
  }
  std::sort(lockorder.begin(), lockorder.begin() + active,
            [cases](std::int16_t a, std::int16_t b) { return cases[a].c < cases[b].c; });
  Locked locked{cases, lockorder.begin(), active};
  locked.lock_all();

  // Pass 1: something ready?
  SelectResult out{-1, false};
  for (int k = 0; k < active; ++k) {
    int i = pollorder[k];
    if (try_case(cases[i], locked, out, i)) return out;
  }
  if (!block) {
    locked.unlock_all();
    return out;
  }

  // Pass 2: wait on every channel.
  SelectWait sw;
  SmallArray<Waiter> waiters(n);
  Waiter self = Waiter::for_current();
  for (int k = 0; k < active; ++k) {
    int i = lockorder[k];
    Waiter& w = waiters[i];
    w = self;
    w.select = &sw;
    w.elem = cases[i].elem;
    w.owner = cases[i].c;
    (cases[i].is_send ? cases[i].c->sendq : cases[i].c->recvq).push_back(&w);
  }
  if (self.g != nullptr) {
    park(WaitReason::kSelect, unlock_all_after_park, &locked);
  } else {
    self.thread->prepare();
    locked.unlock_all();
    self.thread->wait();
  }

  // Pass 3: withdraw the Waiters that lost.
  Waiter* winner = sw.winner;
  locked.lock_all();
  for (int k = 0; k < active; ++k) {
    int i = lockorder[k];
    Waiter& w = waiters[i];
    if (&w == winner) continue;
    (cases[i].is_send ? cases[i].c->sendq : cases[i].c->recvq).remove_if_queued(&w);
  }
  locked.unlock_all();
  int index = static_cast<int>(winner - &waiters[0]);
  if (cases[index].is_send && !winner->success) throw_send_on_closed();
  return {index, winner->success};
}

}  // namespace goro::detail
