// Contexts: Go's context package (src/context/context.go) as a tree of
// reference-counted nodes.
//
// Nodes. Every Context handle points at a ContextNode (null: background):
//  - kCancel (with_cancel, with_cancel_cause, and with_deadline when the
//    parent's deadline is earlier), kTimer (with_deadline: a kCancel node
//    plus a runtime timer) and kAfterFunc (after_func's registration) are
//    CancelNodes: they can be cancelled and have children;
//  - kValue (with_value, payload in the same allocation) and kWithoutCancel
//    are plain ContextNodes, transparent to cancellation;
//  - kTodo is the static todo() node.
// Each node caches `canceler`, the nearest CancelNode of its chain (itself
// for CancelNodes, null when the chain cannot be cancelled: background,
// without_cancel), so done/err/cause are O(1) at any depth; and its
// effective deadline, so deadline() is O(1). Only value() walks the chain.
//
// Ownership (intrusive counts):
//  - a node holds a reference to its parent node (values and deadlines are
//    read through the chain); releasing the last reference frees the node
//    and then walks up releasing parents in a loop, never recursing, so a
//    10^5-deep chain is freed with constant stack;
//  - a CancelNode registered in its parent canceler's child list is held by
//    that list (Go's children map keeps the child alive too). The reference
//    goes away when the child is detached, which every cancellation of the
//    child does: cancelled children never accumulate in a parent;
//  - an armed deadline timer holds a reference (dropped by whoever wins
//    delete_timer, or by the goroutine the timer starts when it fires);
//  - an after_func goroutine holds one while it runs.
//
// The sync word of a CancelNode holds its lock and its cancellation state
// together, so that a childless node is cancelled with one CAS (a separate
// RuntimeLock plus a state word cost a lock and an unlock per node: 26 ns
// against 18 per node of a 10^4-context tree, which is mostly leaves):
//   bits 0-1  the lock, RuntimeLock's futex protocol (0 free, 1 held,
//             2 held and sleepers may wait);
//   bits 2-3  the error: 0 live, then once and forever kErrCanceled or
//             kErrDeadline;
//   bit  4    kNoChannel: nobody had asked for the done channel when the
//             node was cancelled, so done() is the shared closed channel;
//   bits 8-31 a sequence number bumped by every lock acquisition, so that
//             an unchanged word proves that nobody held the lock meanwhile
//             (the leaf fast path below relies on it).
// The error is published by the release that ends the marking (the unlock
// of a node marked under its lock, or the CAS of the fast path), after
// `cause` was written; readers acquire the word, so cause() reads `cause`
// without a lock.
//
// Invariants:
//  - an error in sync  <=>  the node is cancelled;
//  - done is closed  =>  the error is published (own channels are closed
//    after the marking; the shared one is stored after it);
//  - err()/cause() that see an error without kNoChannel and without
//    `closed` wait for the close (a receive on done), so a non-null err()
//    always means done() is closed: Go's guarantee;
//  - a cancelled node is in no child list, or is about to be taken out by
//    the party that cancelled it (detach) or by an ancestor's walk;
//  - `attached` is true exactly while the node is linked in its parent
//    canceler's list; it is written only under that parent's lock;
//  - first_child, done (creation) and a timer's `armed` change only under
//    the node's lock (first_child and done are atomics only because the
//    fast path reads them without it).
//
// Locks. The node lock guards the node's child list (first_child, and the
// prev/next/attached fields of its children), the creation of its done
// channel, its marking and, for kTimer, `armed`.
// LOCK ORDER: parent before child, as in Go. Cancellation locks a node and,
// while holding it, each child in turn, down the subtree (depth-first: the
// locks of the path from the cancelled node to the current one are held),
// and a node's error is published when the walk leaves it (so a cancelled
// node's subtree is always completely marked). Every other operation holds
// one node lock at a time: creation locks the parent only; detaching locks
// the parent after the child's lock is released. A node lock is never held
// across a park, a channel operation, a goroutine start or user code: the
// walk only marks nodes; closing their channels, stopping timers, starting
// after_func goroutines and dropping references happen after every node
// lock is released. Timer heap locks may be taken under a node lock
// (arming, as Go does).
//
// The walk (cancel_subtree) is iterative: the path is implicit (a node's
// registration parent is parent->canceler, and its next sibling is its
// `next` link, both stable while the walk holds the parent), and marked
// nodes are chained through `post_next`, so it neither recurses nor
// allocates, however deep or wide the tree. Holding the path keeps Go's
// guarantee that when cancel returns, every descendant is cancelled, also
// when two cancellations race: the second waits at the first node the
// first one holds.
//
// Leaf fast path: a child with no children and no lock holder is marked by
// one CAS of its sync word from the value read before (whose sequence
// proves that first_child and done, read in between, did not change).
#include "goro/context.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>

#include "goro/go.h"
#include "runtime/cpu_relax.h"
#include "runtime/futex.h"
#include "runtime/timer.h"

namespace goro {
namespace detail {

namespace {

enum class Kind : std::uint8_t { kTodo, kCancel, kTimer, kAfterFunc, kValue, kWithoutCancel };

// CancelNode::sync
constexpr std::uint32_t kHeld = 1;
constexpr std::uint32_t kSleepers = 2;
constexpr std::uint32_t kLockBits = 3;
constexpr std::uint32_t kErrCanceled = 4;
constexpr std::uint32_t kErrDeadline = 8;
constexpr std::uint32_t kErrBits = 12;
constexpr std::uint32_t kNoChannel = 16;
constexpr std::uint32_t kSeqOne = 256;

std::size_t round_up(std::size_t n, std::size_t align) noexcept { return (n + align - 1) / align * align; }

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The shared closed channel: done() of every node cancelled before anybody
// asked for its channel. Never freed.
ChanCore* closed_chan() noexcept {
  static ChanCore* const c = [] {
    ChanCore* ch = chan_make(&elem_type_of<Empty>, 0);
    chan_close(ch);
    return ch;
  }();
  return c;
}

}  // namespace

struct CancelNode;

// Layout: a walk touches, per node, ContextNode and the first fields of
// CancelNode up to post_next (64 bytes); the cold fields follow.
struct ContextNode {
  constexpr explicit ContextNode(Kind k) noexcept : kind(k) {}

  std::atomic<std::uint32_t> refs{1};
  const Kind kind;
  bool has_deadline = false;  // the deadline itself is in the derived node (deadline_of)
  // CancelNodes: linked in the parent canceler's list. Written only under
  // that parent's lock; atomic for detach's unlocked first look.
  std::atomic<bool> attached{false};
  // CancelNodes: private to the walk that took the node out of its list:
  // that walk also marked it (else the node was cancelled already).
  bool post_marked = false;
  ContextNode* parent = nullptr;   // a reference; null: background
  CancelNode* canceler = nullptr;  // nearest cancellable node of the chain; borrowed (the chain holds it)

  bool cancellable_kind() const noexcept {
    return kind == Kind::kCancel || kind == Kind::kTimer || kind == Kind::kAfterFunc;
  }
};

struct CancelNode : ContextNode {
  explicit CancelNode(Kind k) noexcept : ContextNode(k) { canceler = this; }

  std::atomic<std::uint32_t> sync{0};   // lock, error, kNoChannel, sequence (top of file)
  std::atomic<bool> closed{false};      // the node's own done channel is closed (after the marking)
  std::atomic<ChanCore*> done{nullptr};  // a reference (unless closed_chan()); created under the lock
  std::atomic<CancelNode*> first_child{nullptr};  // own children; changed under the lock
  CancelNode* next = nullptr;  // in the parent canceler's list; guarded by THE PARENT's lock
  CancelNode* post_next = nullptr;  // private to the walk that took this node out of its list
  // --- cold
  CancelNode* prev = nullptr;  // guarded by the parent's lock, like next
  std::int64_t deadline_ns = 0;
  std::exception_ptr cause;  // non-null: the cause, when it is not the error itself

  // The node whose child list this node is (or was) registered in.
  CancelNode* registration() const noexcept { return parent != nullptr ? parent->canceler : nullptr; }

  // --- the lock (RuntimeLock's protocol on the low bits of sync) ---------------

  void lock() noexcept {
    std::uint32_t s = sync.load(std::memory_order_relaxed);
    if ((s & kLockBits) == 0 &&
        sync.compare_exchange_strong(s, (s | kHeld) + kSeqOne, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return;
    }
    lock_slow();
  }

  // Releases the lock and, in the same step, publishes `mark` (error bits,
  // kNoChannel; 0 for a plain unlock).
  void unlock(std::uint32_t mark = 0) noexcept {
    std::uint32_t s = sync.load(std::memory_order_relaxed);
    // Only sleepers change the word while we hold it (kHeld -> kSleepers).
    while (!sync.compare_exchange_weak(s, (s & ~kLockBits) | mark, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    }
    if ((s & kLockBits) == kSleepers) futex_wake(&sync, 1);
  }

  void lock_slow() noexcept {
    for (int i = 0; i < 100; ++i) {
      std::uint32_t s = sync.load(std::memory_order_relaxed);
      if ((s & kLockBits) == 0 &&
          sync.compare_exchange_weak(s, (s | kHeld) + kSeqOne, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        return;
      }
      cpu_relax();
    }
    for (;;) {
      std::uint32_t s = sync.load(std::memory_order_relaxed);
      if ((s & kLockBits) == 0) {
        // Taken as "held with sleepers": others may still sleep (mutex3).
        if (sync.compare_exchange_weak(s, ((s & ~kLockBits) | kSleepers) + kSeqOne, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
          return;
        }
        continue;
      }
      if ((s & kLockBits) == kHeld) {
        std::uint32_t w = (s & ~kLockBits) | kSleepers;
        if (!sync.compare_exchange_weak(s, w, std::memory_order_relaxed, std::memory_order_relaxed)) continue;
        s = w;
      }
      futex_wait(&sync, s);
    }
  }
};

struct TimerNode : CancelNode {
  TimerNode() noexcept : CancelNode(Kind::kTimer) {}
  Timer rt;
  bool armed = false;         // under the lock: the timer holds a reference
  bool stop_pending = false;  // private to the walk that marked the node
  std::exception_ptr deadline_cause;  // immutable
};

struct AfterFuncNode : CancelNode {
  AfterFuncNode() noexcept : CancelNode(Kind::kAfterFunc) {}
  // Go's afterFuncCtx.once: whoever sets it either starts f or stops it.
  std::atomic<bool> once{false};
  bool payload_live = true;  // written by the once winner
  PayloadFn invoke = nullptr;
  PayloadDestroyFn destroy = nullptr;
  std::uint32_t offset = 0;  // payload offset in the allocation
  std::uint32_t align = 0;   // allocation alignment
  void* payload() noexcept { return reinterpret_cast<unsigned char*>(this) + offset; }
};

struct ValueNode : ContextNode {
  ValueNode() noexcept : ContextNode(Kind::kValue) {}
  std::int64_t deadline_ns = 0;
  const void* key = nullptr;
  PayloadDestroyFn destroy = nullptr;
  std::uint32_t offset = 0;
  std::uint32_t align = 0;
  const void* payload() const noexcept { return reinterpret_cast<const unsigned char*>(this) + offset; }
  void* payload() noexcept { return reinterpret_cast<unsigned char*>(this) + offset; }
};

namespace {

ContextNode g_todo(Kind::kTodo);

bool immortal(const ContextNode* n) noexcept { return n == nullptr || n->kind == Kind::kTodo; }

// The deadline of a node with has_deadline (cancel kinds and values; the
// others never have one).
std::int64_t& deadline_of(ContextNode* n) noexcept {
  if (n->kind == Kind::kValue) return static_cast<ValueNode*>(n)->deadline_ns;
  return static_cast<CancelNode*>(n)->deadline_ns;
}

// Links a new node below parent: takes a reference to it and inherits its
// deadline and canceler (the caller overrides them where they differ).
void set_parent(ContextNode* n, ContextNode* parent) noexcept {
  if (!immortal(parent)) parent->refs.fetch_add(1, std::memory_order_relaxed);
  n->parent = parent;
  if (parent != nullptr) {
    if (parent->has_deadline && n->kind != Kind::kWithoutCancel) {
      n->has_deadline = true;
      deadline_of(n) = deadline_of(parent);
    }
    if (!n->cancellable_kind()) n->canceler = parent->canceler;
  }
}

// Allocation of nodes with a payload behind them, one block each.
template <class N>
N* alloc_with_payload(std::size_t size, std::size_t align, std::uint32_t& offset, std::uint32_t& block_align) {
  std::size_t a = align > alignof(N) ? align : alignof(N);
  std::size_t off = round_up(sizeof(N), align);
  void* mem = ::operator new(off + size, std::align_val_t{a});
  N* n = ::new (mem) N();
  offset = static_cast<std::uint32_t>(off);
  block_align = static_cast<std::uint32_t>(a);
  return n;
}

template <class N>
void free_with_payload(N* n, std::size_t align) noexcept {
  n->~N();
  ::operator delete(static_cast<void*>(n), std::align_val_t{align});
}

void release_done(CancelNode* c) noexcept {
  ChanCore* d = c->done.load(std::memory_order_relaxed);
  if (d != nullptr && d != closed_chan()) chan_release(d);
}

// Frees n (its references are gone); not its parent.
void destroy_node(ContextNode* n) noexcept {
  switch (n->kind) {
    case Kind::kCancel: {
      auto* c = static_cast<CancelNode*>(n);
      release_done(c);
      delete c;
      break;
    }
    case Kind::kTimer: {
      auto* t = static_cast<TimerNode*>(n);
      release_done(t);
      delete t;
      break;
    }
    case Kind::kAfterFunc: {
      auto* a = static_cast<AfterFuncNode*>(n);
      release_done(a);
      if (a->payload_live) a->destroy(a->payload());
      free_with_payload(a, a->align);
      break;
    }
    case Kind::kValue: {
      auto* v = static_cast<ValueNode*>(n);
      v->destroy(v->payload());
      free_with_payload(v, v->align);
      break;
    }
    case Kind::kWithoutCancel:
      delete n;
      break;
    case Kind::kTodo:
      break;
  }
}

}  // namespace

void context_retain(ContextNode* n) noexcept {
  if (!immortal(n)) n->refs.fetch_add(1, std::memory_order_relaxed);
}

// Iterative: a chain whose last handle goes frees its nodes bottom-up in
// this loop, with constant stack.
void context_release(ContextNode* n) noexcept {
  while (!immortal(n)) {
    // acq_rel rather than release + an acquire fence: the same instruction
    // on x86 and arm64's LDADDAL, and TSan does not model fences.
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    ContextNode* parent = n->parent;
    destroy_node(n);
    n = parent;
  }
}

namespace {

std::uint32_t err_bits(std::uint32_t s) noexcept { return s & kErrBits; }

// done() is closed or the shared closed channel (given an error in s).
bool done_complete(const CancelNode* c, std::uint32_t s) noexcept {
  return (s & kNoChannel) != 0 || c->closed.load(std::memory_order_acquire);
}

// Waits until the cancellation that published c's error has closed c's own
// done channel (parks like a channel receive; the closing party holds no
// lock and is about to close it).
void wait_closed(CancelNode* c) noexcept {
  RecvStorage<Empty> scratch;
  chan_recv(c->done.load(std::memory_order_acquire), scratch.bytes, true);  // returns on close
}

std::exception_ptr err_value(std::uint32_t s) noexcept {
  return err_bits(s) == kErrCanceled ? canceled() : deadline_exceeded();
}

// --- registration ---------------------------------------------------------------

// Registers child (new, not yet visible to anybody else) with its parent
// canceler p, or, if p is cancelled already, makes child born cancelled
// with p's error and cause. Returns true in the second case.
bool register_child(CancelNode* child, CancelNode* p) noexcept {
  if (p == nullptr) return false;  // the chain can never be cancelled
  p->lock();
  std::uint32_t perr = err_bits(p->sync.load(std::memory_order_relaxed));
  if (perr != 0) {
    child->cause = p->cause;
    child->done.store(closed_chan(), std::memory_order_relaxed);
    child->sync.store(perr | kNoChannel, std::memory_order_relaxed);
  } else {
    child->refs.fetch_add(1, std::memory_order_relaxed);  // the list's reference
    CancelNode* first = p->first_child.load(std::memory_order_relaxed);
    child->prev = nullptr;
    child->next = first;
    if (first != nullptr) first->prev = child;
    p->first_child.store(child, std::memory_order_relaxed);
    child->attached.store(true, std::memory_order_relaxed);
  }
  p->unlock();
  return perr != 0;
}

// Takes c out of its parent canceler's list if it is still there (a walk of
// an ancestor may have taken it out already, and then owns the list's
// reference). The caller holds a reference to c and no node lock.
void detach(CancelNode* c) noexcept {
  // Unlocked first look: `attached` became true before any party that can
  // cancel c could reach c, so false here is final.
  if (!c->attached.load(std::memory_order_relaxed)) return;
  CancelNode* p = c->registration();
  p->lock();
  bool was = c->attached.load(std::memory_order_relaxed);
  if (was) {
    if (c->prev != nullptr) {
      c->prev->next = c->next;
    } else {
      p->first_child.store(c->next, std::memory_order_relaxed);
    }
    if (c->next != nullptr) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    c->attached.store(false, std::memory_order_relaxed);
  }
  p->unlock();
  if (was) context_release(c);  // the list's reference; the caller's keeps c alive
}

// --- cancellation -------------------------------------------------------------

// Under n's lock, n live: what the marking writes before it is published
// (Go: c.cause = cause; the timer is stopped after the walk).
void prepare_mark(CancelNode* n, const std::exception_ptr& cause) noexcept {
  if (cause) n->cause = cause;
  if (n->kind == Kind::kTimer) {
    auto* t = static_cast<TimerNode*>(n);
    t->stop_pending = t->armed;
    t->armed = false;
  }
}

// Under n's lock: the bits that publish n's error.
std::uint32_t mark_bits(const CancelNode* n, std::uint32_t err) noexcept {
  return err | (n->done.load(std::memory_order_relaxed) == nullptr ? kNoChannel : 0);
}

// After the publication of a kNoChannel mark: done() is the closed channel
// from now on (a done() that saw the error first stores it too).
void publish_no_channel(CancelNode* n) noexcept { n->done.store(closed_chan(), std::memory_order_release); }

// After the walk, no node lock held: close n's own channel, stop its timer.
void finish(CancelNode* n) noexcept {
  if ((n->sync.load(std::memory_order_relaxed) & kNoChannel) == 0) {
    chan_close(n->done.load(std::memory_order_relaxed));  // ours alone to close: we marked n
    n->closed.store(true, std::memory_order_release);
  }
  if (n->kind == Kind::kTimer) {
    auto* t = static_cast<TimerNode*>(n);
    // Removed from the heap before firing: the timer's reference is ours to
    // drop (never the last: the caller holds one). Otherwise the firing's
    // goroutine drops it.
    if (t->stop_pending && delete_timer(&t->rt)) t->refs.fetch_sub(1, std::memory_order_relaxed);
  }
}

void run_after_func(AfterFuncNode* a) {
  a->invoke(a->payload());
  a->destroy(a->payload());
  a->payload_live = false;
  context_release(a);
}

// Go's afterFuncCtx.cancel: `a.once.Do(func() { go a.f() })`.
void start_after_func(AfterFuncNode* a) noexcept {
  if (a->once.exchange(true, std::memory_order_acq_rel)) return;  // stopped
  a->refs.fetch_add(1, std::memory_order_relaxed);                // the goroutine's
  goro::go([a] { run_after_func(a); });
}

// Visits child ch of the node the walk holds: takes it out of the list
// (attached = false, onto `post` with the list's reference) and marks it.
// Returns true when ch is locked and live-marked-pending: the walk must
// descend into it (its mark is published when the walk leaves it).
bool visit_child(CancelNode* ch, std::uint32_t err, const std::exception_ptr& cause, CancelNode*& post) noexcept {
  ch->attached.store(false, std::memory_order_relaxed);
  ch->post_next = post;
  post = ch;
  std::uint32_t s = ch->sync.load(std::memory_order_acquire);
  if ((s & (kErrBits | kLockBits)) == 0 && !cause && ch->kind != Kind::kTimer &&
      ch->first_child.load(std::memory_order_relaxed) == nullptr) {
    // Leaf fast path: if the word is unchanged, nobody held the lock since
    // the load, so ch still has no children and `done` is as read.
    ChanCore* d = ch->done.load(std::memory_order_relaxed);
    std::uint32_t mark = err | (d == nullptr ? kNoChannel : 0);
    if (ch->sync.compare_exchange_strong(s, s | mark, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      if (d == nullptr) publish_no_channel(ch);
      ch->post_marked = true;
      return false;
    }
  }
  if (err_bits(s) != 0 && (s & kLockBits) == 0) {  // cancelled, and its walk is over
    ch->post_marked = false;
    return false;
  }
  ch->lock();  // lock order: parent (held by the walk), then child
  if (err_bits(ch->sync.load(std::memory_order_relaxed)) != 0) {
    // Cancelled on its own; we waited for the walk that held it, so its
    // subtree is marked. Only detached here: its canceller's detach will
    // find attached false.
    ch->unlock();
    ch->post_marked = false;
    return false;
  }
  ch->post_marked = true;
  prepare_mark(ch, cause);
  return true;
}

// Cancels c and its subtree with err and cause (null: the cause is err),
// then detaches c from its parent. No-op if c is cancelled already (the
// first cancellation wins). The caller holds a reference to c and no node
// lock.
void cancel_subtree(CancelNode* c, std::uint32_t err, const std::exception_ptr& cause) noexcept {
  // Always through the lock, as Go: a walk that cancelled c held c's lock
  // until c's subtree was marked, so a cancel finding c cancelled returns
  // only after that, and its caller sees the whole subtree cancelled.
  c->lock();
  std::uint32_t s = c->sync.load(std::memory_order_relaxed);
  if (err_bits(s) != 0) {
    c->unlock();
    if (!done_complete(c, s)) wait_closed(c);  // and c's done() is closed on return
    return;
  }
  prepare_mark(c, cause);

  // The walk. Holds the locks of the path c .. cur (parent before child);
  // `child` is the next child of cur to visit.
  CancelNode* post = nullptr;
  CancelNode* cur = c;
  CancelNode* child = c->first_child.load(std::memory_order_relaxed);
  for (;;) {
    if (child != nullptr) {
      CancelNode* sibling = child->next;  // guarded by cur's lock, held
      if (visit_child(child, err, cause, post)) {
        cur = child;  // descend, keeping child's lock
        child = cur->first_child.load(std::memory_order_relaxed);
      } else {
        child = sibling;
      }
      continue;
    }
    // cur's children are all taken: publish cur's error and leave it.
    cur->first_child.store(nullptr, std::memory_order_relaxed);
    std::uint32_t mark = mark_bits(cur, err);
    if (cur == c) {
      cur->unlock(mark);
      if ((mark & kNoChannel) != 0) publish_no_channel(cur);
      break;
    }
    CancelNode* up = cur->registration();  // locked: we came from there
    CancelNode* sibling = cur->next;       // guarded by up's lock
    cur->unlock(mark);
    if ((mark & kNoChannel) != 0) publish_no_channel(cur);
    cur = up;
    child = sibling;
  }

  // No node lock held from here on. One pass closes the channels, stops
  // the timers and drops the list references; nodes whose reference was the
  // last, and marked after_func nodes, wait in two lists until every
  // channel is closed: freeing may run value destructors (user code, which
  // may wait on any of these channels), and f must run after ctx is done.
  finish(c);
  CancelNode* dead = nullptr;
  CancelNode* funcs = nullptr;
  while (post != nullptr) {
    CancelNode* n = post;
    post = n->post_next;
    if (n->post_marked) {
      finish(n);
      if (n->kind == Kind::kAfterFunc) {
        n->post_next = funcs;  // keeps the list's reference until started
        funcs = n;
        continue;
      }
    }
    if (n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {  // the list's reference
      n->post_next = dead;
      dead = n;
    }
  }
  detach(c);
  if (c->kind == Kind::kAfterFunc) start_after_func(static_cast<AfterFuncNode*>(c));
  while (funcs != nullptr) {
    CancelNode* n = funcs;
    funcs = n->post_next;
    start_after_func(static_cast<AfterFuncNode*>(n));
    context_release(n);
  }
  while (dead != nullptr) {
    CancelNode* n = dead;
    dead = n->post_next;
    ContextNode* parent = n->parent;
    destroy_node(n);
    context_release(parent);
  }
}

// --- deadlines ---------------------------------------------------------------------

// The timer callback (a worker's scheduler stack or the timer thread: it
// must not block). Like Go's time.AfterFunc, the cancellation runs on a
// goroutine of its own: it may free nodes and so run value destructors,
// which are user code.
void deadline_fired(Timer* t, void* arg, std::int64_t) {
  auto* n = static_cast<TimerNode*>(arg);
  // Our last touch of t: the node stays alive through the timer's
  // reference, which the goroutine inherits.
  t->inflight.fetch_sub(1, std::memory_order_release);
  goro::go([n] {
    cancel_subtree(n, kErrDeadline, n->deadline_cause);
    context_release(n);  // the timer's reference
  });
}

// Go's WithDeadlineCause after the parent's-deadline check: a timer node,
// registered, then cancelled at once if d has passed, else armed.
TimerNode* new_timer_node(ContextNode* parent, std::int64_t d, std::exception_ptr cause) {
  auto* n = new TimerNode();
  n->refs.store(2, std::memory_order_relaxed);  // the Context and the ScopedCancel
  set_parent(n, parent);
  n->has_deadline = true;
  n->deadline_ns = d;  // <= the parent's (with_deadline_cause checked)
  n->deadline_cause = std::move(cause);
  n->rt.fn = &deadline_fired;
  n->rt.arg = n;
  if (register_child(n, n->registration())) return n;
  if (d <= steady_now_ns()) {
    cancel_subtree(n, kErrDeadline, n->deadline_cause);
    return n;
  }
  n->lock();
  if (err_bits(n->sync.load(std::memory_order_relaxed)) == 0) {
    n->armed = true;
    n->refs.fetch_add(1, std::memory_order_relaxed);  // the timer's
    n->rt.when = d;
    add_timer(&n->rt);
  }
  n->unlock();
  return n;
}

CancelNode* new_cancel_node(ContextNode* parent) {
  auto* n = new CancelNode(Kind::kCancel);
  n->refs.store(2, std::memory_order_relaxed);  // the Context and the cancel handle
  set_parent(n, parent);
  register_child(n, n->registration());
  return n;
}

// Handles always point at CancelNodes.
CancelNode* as_cancel(ContextNode* n) noexcept { return static_cast<CancelNode*>(n); }

}  // namespace

// --- with_value / after_func plumbing -----------------------------------------

ContextAlloc value_node_alloc(ContextNode* parent, const void* key, std::size_t size, std::size_t align,
                              PayloadDestroyFn destroy) {
  std::uint32_t offset = 0;
  std::uint32_t block_align = 0;
  ValueNode* v = alloc_with_payload<ValueNode>(size, align, offset, block_align);
  v->offset = offset;
  v->align = block_align;
  v->key = key;
  v->destroy = destroy;
  set_parent(v, parent);
  return {v, v->payload()};
}

const void* context_value(const ContextNode* n, const void* key) noexcept {
  for (; n != nullptr; n = n->parent) {
    if (n->kind == Kind::kValue) {
      auto* v = static_cast<const ValueNode*>(n);
      if (v->key == key) return v->payload();
    }
  }
  return nullptr;
}

ContextAlloc after_func_alloc(std::size_t size, std::size_t align, PayloadFn invoke, PayloadDestroyFn destroy) {
  std::uint32_t offset = 0;
  std::uint32_t block_align = 0;
  AfterFuncNode* a = alloc_with_payload<AfterFuncNode>(size, align, offset, block_align);
  a->offset = offset;
  a->align = block_align;
  a->invoke = invoke;
  a->destroy = destroy;
  return {a, a->payload()};
}

void context_abort(ContextNode* n) noexcept {
  ContextNode* parent = n->parent;
  if (n->kind == Kind::kValue) {
    auto* v = static_cast<ValueNode*>(n);
    free_with_payload(v, v->align);
  } else {
    auto* a = static_cast<AfterFuncNode*>(n);
    free_with_payload(a, a->align);
  }
  context_release(parent);
}

// Go's AfterFunc: a.cancelCtx.propagateCancel(ctx, a). The node's one
// reference goes to the AfterFuncStop handle.
ContextNode* after_func_start(ContextNode* ctx, ContextNode* node) noexcept {
  auto* a = static_cast<AfterFuncNode*>(node);
  set_parent(a, ctx);
  if (register_child(a, a->registration())) start_after_func(a);  // ctx is done already
  return a;
}

bool after_func_stop(ContextNode* node) noexcept {
  auto* a = static_cast<AfterFuncNode*>(node);
  if (a->once.exchange(true, std::memory_order_acq_rel)) return false;  // started or stopped
  a->destroy(a->payload());
  a->payload_live = false;
  cancel_subtree(a, kErrCanceled, nullptr);  // detaches it from ctx
  return true;
}

std::size_t context_child_count(const Context& ctx) noexcept {
  ContextNode* n = ContextAccess::node(ctx);
  CancelNode* c = n != nullptr ? n->canceler : nullptr;
  if (c == nullptr) return 0;
  std::size_t count = 0;
  c->lock();
  for (CancelNode* k = c->first_child.load(std::memory_order_relaxed); k != nullptr; k = k->next) ++count;
  c->unlock();
  return count;
}

WithCancel context_with_timeout_ns(const Context& parent, std::int64_t ns, std::exception_ptr cause) {
  std::int64_t now = steady_now_ns();
  std::int64_t d;
  if (__builtin_add_overflow(now, ns, &d)) d = ns > 0 ? INT64_MAX : INT64_MIN;
  return with_deadline_cause(parent, Time(std::chrono::duration_cast<Time::duration>(std::chrono::nanoseconds(d))),
                             std::move(cause));
}

}  // namespace detail

using detail::CancelNode;
using detail::ContextAccess;
using detail::ContextNode;

// --- errors ---------------------------------------------------------------------

std::exception_ptr canceled() noexcept {
  static const std::exception_ptr e = std::make_exception_ptr(ContextCanceled());
  return e;
}

std::exception_ptr deadline_exceeded() noexcept {
  static const std::exception_ptr e = std::make_exception_ptr(DeadlineExceeded());
  return e;
}

std::string error_string(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

// --- Context ----------------------------------------------------------------------

RecvChan<Empty> Context::done() const {
  CancelNode* c = node_ != nullptr ? node_->canceler : nullptr;
  if (c == nullptr) return {};  // never cancelled: the nil channel
  detail::ChanCore* d = c->done.load(std::memory_order_acquire);
  if (d == nullptr) {
    c->lock();
    d = c->done.load(std::memory_order_relaxed);
    if (d == nullptr) {
      if (detail::err_bits(c->sync.load(std::memory_order_relaxed)) != 0) {
        d = detail::closed_chan();  // cancelled with no channel; its canceller stores the same
      } else {
        try {
          d = detail::chan_make(&detail::elem_type_of<Empty>, 0);
        } catch (...) {
          c->unlock();
          throw;
        }
      }
      c->done.store(d, std::memory_order_release);
    }
    c->unlock();
  }
  detail::chan_retain(d);
  return RecvChan<Empty>(detail::AdoptChan{}, detail::ChanRef(d));
}

std::exception_ptr Context::err() const {
  CancelNode* c = node_ != nullptr ? node_->canceler : nullptr;
  if (c == nullptr) return nullptr;
  std::uint32_t s = c->sync.load(std::memory_order_acquire);
  if (detail::err_bits(s) == 0) return nullptr;
  if (!detail::done_complete(c, s)) detail::wait_closed(c);
  return detail::err_value(s);
}

std::optional<Time> Context::deadline() const noexcept {
  if (node_ == nullptr || !node_->has_deadline) return std::nullopt;
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::nanoseconds(detail::deadline_of(node_))));
}

Context background() noexcept { return Context(); }

Context todo() noexcept { return ContextAccess::adopt<Context>(&detail::g_todo); }

std::exception_ptr cause(const Context& ctx) {
  ContextNode* n = ContextAccess::node(ctx);
  CancelNode* c = n != nullptr ? n->canceler : nullptr;
  if (c == nullptr) return nullptr;  // Go: no cancelCtx in the chain, so ctx.Err(), nil
  std::uint32_t s = c->sync.load(std::memory_order_acquire);
  if (detail::err_bits(s) == 0) return nullptr;
  if (!detail::done_complete(c, s)) detail::wait_closed(c);
  return c->cause ? c->cause : detail::err_value(s);
}

// --- cancel handles -----------------------------------------------------------------

void CancelFunc::operator()() const noexcept {
  if (node_ != nullptr) detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, nullptr);
}

void CancelCauseFunc::operator()(std::exception_ptr cause) const noexcept {
  if (node_ != nullptr) detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, cause);
}

void ScopedCancel::operator()() const noexcept {
  if (node_ != nullptr) detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, nullptr);
}

void ScopedCancel::reset() noexcept {
  if (node_ == nullptr) return;
  detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, nullptr);
  detail::context_release(std::exchange(node_, nullptr));
}

void ScopedCancelCause::operator()(std::exception_ptr cause) const noexcept {
  if (node_ != nullptr) detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, cause);
}

void ScopedCancelCause::reset() noexcept {
  if (node_ == nullptr) return;
  detail::cancel_subtree(detail::as_cancel(node_), detail::kErrCanceled, nullptr);
  detail::context_release(std::exchange(node_, nullptr));
}

// --- constructors -----------------------------------------------------------------------

WithCancel with_cancel(const Context& parent) {
  CancelNode* n = detail::new_cancel_node(ContextAccess::node(parent));
  return WithCancel{ContextAccess::adopt<Context>(n), ContextAccess::adopt<ScopedCancel>(n)};
}

WithCancelCause with_cancel_cause(const Context& parent) {
  CancelNode* n = detail::new_cancel_node(ContextAccess::node(parent));
  return WithCancelCause{ContextAccess::adopt<Context>(n), ContextAccess::adopt<ScopedCancelCause>(n)};
}

WithCancel with_deadline_cause(const Context& parent, Time d, std::exception_ptr cause) {
  ContextNode* p = ContextAccess::node(parent);
  std::int64_t d_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  // Go: `if cur, ok := parent.Deadline(); ok && cur.Before(d)`: the earlier
  // deadline applies, and this is a plain cancel context.
  if (p != nullptr && p->has_deadline && detail::deadline_of(p) < d_ns) return with_cancel(parent);
  CancelNode* n = detail::new_timer_node(p, d_ns, std::move(cause));
  return WithCancel{ContextAccess::adopt<Context>(n), ContextAccess::adopt<ScopedCancel>(n)};
}

WithCancel with_deadline(const Context& parent, Time d) { return with_deadline_cause(parent, d, nullptr); }

Context without_cancel(const Context& parent) {
  auto* n = new ContextNode(detail::Kind::kWithoutCancel);
  detail::set_parent(n, ContextAccess::node(parent));
  n->canceler = nullptr;
  return ContextAccess::adopt<Context>(n);
}

}  // namespace goro
