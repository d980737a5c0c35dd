// Contexts: Go's context package — cancellation, deadlines and request-scoped
// values that flow down a tree of contexts.
//
//   // Waits for a result, at most 100 ms, and gives up early when the
//   // caller's context is cancelled.
//   std::exception_ptr fetch(const goro::Context& parent, goro::Chan<Result> results, Result& out) {
//     auto [ctx, cancel] = goro::with_timeout(parent, 100ms);  // cancelled at scope exit
//     goro::go([ctx = ctx, results] { produce(ctx, results); });
//     int taken = goro::select(goro::recv(results, [&out](Result r) { out = std::move(r); }),
//                              goro::recv(ctx.done()));     // closed on cancel or timeout
//     return taken == 0 ? nullptr : ctx.err();  // goro::canceled() or goro::deadline_exceeded()
//   }
//
//   goro::error_string(goro::deadline_exceeded()) == "context deadline exceeded"
//
// Semantics are Go's (src/context/context.go, Go 1.21+):
//  - a Context is a node in a tree. Cancelling a node cancels its whole
//    subtree: every descendant's err() becomes the same error (canceled() or
//    deadline_exceeded()) and cause() the same cause. Children never cancel
//    their parent. The first cancellation wins; later ones do nothing.
//  - done() is a channel that is closed (exactly once) when the context is
//    cancelled, for goro::select; err() is null until then and stable after.
//    A context that can never be cancelled (background(), todo(), and
//    with_value / without_cancel chains of them) has a nil done() channel:
//    receiving blocks forever and select never picks it.
//  - a child created from an already-cancelled parent is born cancelled;
//    a deadline later than the parent's keeps the parent's deadline;
//    a deadline already past cancels at once with deadline_exceeded().
//  - with_value adds a typed value and is transparent to cancellation;
//    without_cancel keeps the values but drops cancellation and deadline.
//
// C++ over Go: cancel functions are RAII handles. `auto [ctx, cancel] =
// goro::with_cancel(parent);` cancels ctx when `cancel` goes out of scope,
// which is Go's `defer cancel()` made impossible to forget; release() hands
// out a plain CancelFunc when the cancel must outlive the scope.
//
// Errors are std::exception_ptr (null: no error), so that any exception can
// be a cancellation cause. The two errors of the package are shared values,
// compare them with ==:  `if (ctx.err() == goro::deadline_exceeded())`.
// Their what() strings are Go's: "context canceled" and "context deadline
// exceeded". goro::error_string(e) (goro/error.h) prints any of them.
//
// Everything here works on goroutines and on plain threads, and every
// function may be called from many goroutines at once. Nothing blocks except
// where a comment says so; cancelling never waits for the work it cancels.
// "Never blocks" below still allows a short wait for a context's internal
// lock, which is only ever held for bounded work (never across a park).
//
// Cost: with_cancel is one allocation and one lock of the nearest
// cancellable ancestor; the done() channel is created on its first call
// only; cancelling a subtree walks it iteratively (no recursion, however
// deep) without allocating.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/chan.h"
#include "goro/error.h"
#include "goro/time.h"

namespace goro {

// Go's struct{}: the element type of done() channels (never sent, only
// closed).
struct Empty {
  friend constexpr bool operator==(Empty, Empty) noexcept { return true; }
};

// Go's context.Canceled: err() of a context cancelled by a cancel function
// (or by an ancestor's). what(): "context canceled".
class ContextCanceled : public Error {
 public:
  ContextCanceled() : Error("context canceled") {}
};

// Go's context.DeadlineExceeded: err() of a context whose deadline passed.
// what(): "context deadline exceeded". timeout() is true, like Go's
// Timeout() method (net.Error).
class DeadlineExceeded : public Error {
 public:
  DeadlineExceeded() : Error("context deadline exceeded") {}
  bool timeout() const noexcept { return true; }
};

// The one shared exception_ptr holding a ContextCanceled: every cancelled
// context's err() returns this same value (compare with ==).
std::exception_ptr canceled() noexcept;
// The one shared exception_ptr holding a DeadlineExceeded.
std::exception_ptr deadline_exceeded() noexcept;

class Context;
class AfterFuncStop;

namespace detail {

struct ContextNode;  // src/context/context.cc
struct AdoptNode {};
struct ContextAccess;

void context_retain(ContextNode* n) noexcept;
void context_release(ContextNode* n) noexcept;

// Storage for a with_value payload or an after_func callable, in the same
// allocation as its node.
struct ContextAlloc {
  ContextNode* node;
  void* storage;
};
using PayloadFn = void (*)(void*);
using PayloadDestroyFn = void (*)(void*) noexcept;

// with_value: a node below parent for key; the caller constructs the value
// in storage and adopts the node into a Context (or frees it with
// context_abort if the construction throws).
ContextAlloc value_node_alloc(ContextNode* parent, const void* key, std::size_t size, std::size_t align,
                              PayloadDestroyFn destroy);
const void* context_value(const ContextNode* n, const void* key) noexcept;

// after_func: the node for f (not yet registered), f is constructed in
// storage, then after_func_start registers it below ctx.
ContextAlloc after_func_alloc(std::size_t size, std::size_t align, PayloadFn invoke, PayloadDestroyFn destroy);
// Frees a node from value_node_alloc / after_func_alloc whose payload was
// never constructed.
void context_abort(ContextNode* n) noexcept;
ContextNode* after_func_start(ContextNode* ctx, ContextNode* node) noexcept;
bool after_func_stop(ContextNode* node) noexcept;

template <class T>
void destroy_payload(void* p) noexcept {
  static_cast<T*>(p)->~T();
}
template <class F>
void invoke_payload(void* p) {
  std::invoke(*static_cast<F*>(p));
}

// Test hook: how many children are registered below ctx's nearest
// cancellable node (cancelled children never stay registered). O(children).
std::size_t context_child_count(const Context& ctx) noexcept;

}  // namespace detail

// A typed key for with_value / Context::value. Its identity is its address
// (Go's "key of an unexported type"): define keys as globals or static
// members, never as temporaries.
//
//   inline constexpr goro::ContextKey<std::string> kRequestId{"request-id"};
//   auto ctx2 = goro::with_value(ctx, kRequestId, "r-42");
//   if (const std::string* id = ctx2.value(kRequestId)) log(*id);
template <class T>
class ContextKey {
 public:
  static_assert(std::is_object_v<T> && !std::is_array_v<T>, "goro::ContextKey<T>: T must be an object type");
  using value_type = T;
  constexpr explicit ContextKey(const char* name) noexcept : name_(name) {}
  ContextKey(const ContextKey&) = delete;  // a copy would be another key
  ContextKey& operator=(const ContextKey&) = delete;
  // The name given at construction (for humans; identity is the address).
  constexpr const char* name() const noexcept { return name_; }

 private:
  const char* name_;
};

// A handle to a context (Go's context.Context): cheap to copy (a reference
// count), safe to use from many goroutines at once (but one handle object
// must not be assigned while another thread reads it, like shared_ptr).
// A default-constructed or moved-from Context is background().
class Context {
 public:
  // background().
  Context() noexcept = default;
  Context(const Context& o) noexcept : node_(o.node_) { detail::context_retain(node_); }
  Context(Context&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  Context& operator=(Context o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~Context() { detail::context_release(node_); }

  // A channel closed when this context is cancelled (by its cancel handle,
  // an ancestor's, or its deadline). The nil channel when the context can
  // never be cancelled. Successive calls return the same channel. The first
  // call on a live cancellable context creates the channel (Go: lazily);
  // may throw std::bad_alloc then. Never blocks.
  //
  //   goro::select(goro::recv(jobs, run), goro::recv(ctx.done()));
  RecvChan<Empty> done() const;

  // Null while the context is live; canceled() or deadline_exceeded() once
  // it is cancelled, and the same value forever after. When err() returns
  // non-null, done() is closed: if a cancellation is in flight on another
  // thread, err() waits until it has closed this context's channel (at most
  // the time that cancellation takes to walk its subtree), parking like a
  // channel receive ("chan receive"). Never throws.
  std::exception_ptr err() const;

  // The time at which this context is cancelled by a deadline (its own or
  // an ancestor's), or nullopt when no deadline applies. Never blocks.
  std::optional<Time> deadline() const noexcept;

  // The value of the nearest with_value for key in this context's chain
  // (itself and its ancestors), or nullptr. The pointer stays valid as long
  // as this context (or any context derived from it) is alive. O(depth of
  // the chain); never blocks.
  template <class T>
  const T* value(const ContextKey<T>& key) const noexcept {
    return static_cast<const T*>(detail::context_value(node_, &key));
  }

  // Rethrows err() if the context is cancelled (C++ convenience: lets a
  // cancelled operation unwind with "context canceled" as its exception).
  void throw_if_done() const {
    if (std::exception_ptr e = err()) std::rethrow_exception(e);
  }

  // Same context (same node): a copy compares equal, two with_cancel calls
  // on one parent do not. background() == Context{}; todo() != background().
  friend bool operator==(const Context& a, const Context& b) noexcept { return a.node_ == b.node_; }

 private:
  friend struct detail::ContextAccess;
  Context(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}

  detail::ContextNode* node_ = nullptr;  // null: background
};

// The root of every context tree (Go's context.Background()): never
// cancelled, no deadline, no values. Free: no allocation, no reference count.
Context background() noexcept;
// Like background(), but says "the right context is not known here yet"
// (Go's context.TODO()). todo() != background().
Context todo() noexcept;

// A cancel function that does not cancel on destruction (Go's CancelFunc):
// copyable, may be called any number of times from any goroutine; the first
// call cancels (err() = canceled()), later calls do nothing. When a call
// returns, the context and its whole subtree are cancelled and this
// context's done() is closed: a call racing with another cancellation of
// the same context (or of an ancestor) waits for that one to get there,
// parking if needed. It never waits for the work that uses the context.
// Cost: O(size of the subtree), no allocation, no recursion. A
// default-constructed CancelFunc does nothing. Got from
// ScopedCancel::release().
class CancelFunc {
 public:
  CancelFunc() noexcept = default;
  CancelFunc(const CancelFunc& o) noexcept : node_(o.node_) { detail::context_retain(node_); }
  CancelFunc(CancelFunc&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  CancelFunc& operator=(CancelFunc o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~CancelFunc() { detail::context_release(node_); }
  void operator()() const noexcept;
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::ContextAccess;
  friend class ScopedCancel;
  CancelFunc(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}
  detail::ContextNode* node_ = nullptr;
};

// Go's CancelCauseFunc without RAII: cancel(cause) cancels with err() =
// canceled() and cause() = cause (null cause: canceled()). Copyable; the
// first call wins. Got from ScopedCancelCause::release().
class CancelCauseFunc {
 public:
  CancelCauseFunc() noexcept = default;
  CancelCauseFunc(const CancelCauseFunc& o) noexcept : node_(o.node_) { detail::context_retain(node_); }
  CancelCauseFunc(CancelCauseFunc&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  CancelCauseFunc& operator=(CancelCauseFunc o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~CancelCauseFunc() { detail::context_release(node_); }
  void operator()(std::exception_ptr cause = nullptr) const noexcept;
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::ContextAccess;
  friend class ScopedCancelCause;
  CancelCauseFunc(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}
  detail::ContextNode* node_ = nullptr;
};

// The RAII cancel function of with_cancel / with_deadline / with_timeout:
// move-only; destroying it cancels its context (Go's `defer cancel()`),
// unless release() gave the duty away. Calling it cancels early; calling it
// again does nothing; each call behaves as CancelFunc's. Cancelling also
// stops a deadline's timer and takes the context out of its parent, so a
// cancelled context costs its parent nothing. Assigning over an engaged
// handle cancels the old context first, like destroying it.
class ScopedCancel {
 public:
  ScopedCancel() noexcept = default;
  ScopedCancel(ScopedCancel&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  ScopedCancel& operator=(ScopedCancel&& o) noexcept {
    if (this != &o) {
      reset();
      node_ = std::exchange(o.node_, nullptr);
    }
    return *this;
  }
  ScopedCancel(const ScopedCancel&) = delete;
  ScopedCancel& operator=(const ScopedCancel&) = delete;
  ~ScopedCancel() { reset(); }

  // Cancels the context (err() = canceled()); no-op after the first call or
  // after release().
  void operator()() const noexcept;
  // Gives up the cancel-on-destruction duty: returns a plain CancelFunc for
  // the same context and leaves this handle empty. A CancelFunc that is
  // never called keeps the context (and its subtree) registered with its
  // parent until an ancestor is cancelled, as in Go.
  [[nodiscard]] CancelFunc release() noexcept { return CancelFunc(detail::AdoptNode{}, std::exchange(node_, nullptr)); }
  // False when empty (default-constructed, moved from, or released).
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::ContextAccess;
  ScopedCancel(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}
  void reset() noexcept;
  detail::ContextNode* node_ = nullptr;
};

// The RAII cancel function of with_cancel_cause (Go's CancelCauseFunc):
// like ScopedCancel; cancel(cause) records cause for goro::cause(ctx) (null:
// canceled()). Destruction cancels with canceled() as the cause.
class ScopedCancelCause {
 public:
  ScopedCancelCause() noexcept = default;
  ScopedCancelCause(ScopedCancelCause&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  ScopedCancelCause& operator=(ScopedCancelCause&& o) noexcept {
    if (this != &o) {
      reset();
      node_ = std::exchange(o.node_, nullptr);
    }
    return *this;
  }
  ScopedCancelCause(const ScopedCancelCause&) = delete;
  ScopedCancelCause& operator=(const ScopedCancelCause&) = delete;
  ~ScopedCancelCause() { reset(); }

  void operator()(std::exception_ptr cause = nullptr) const noexcept;
  [[nodiscard]] CancelCauseFunc release() noexcept {
    return CancelCauseFunc(detail::AdoptNode{}, std::exchange(node_, nullptr));
  }
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend struct detail::ContextAccess;
  ScopedCancelCause(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}
  void reset() noexcept;
  detail::ContextNode* node_ = nullptr;
};

// Results, for structured bindings: auto [ctx, cancel] = with_cancel(p);
struct WithCancel {
  Context ctx;
  ScopedCancel cancel;
};
struct WithCancelCause {
  Context ctx;
  ScopedCancelCause cancel;
};

// A child of parent that is cancelled when `cancel` is called or destroyed,
// or when parent is cancelled, whichever comes first (Go's WithCancel).
// Born cancelled (same err and cause) if parent already is. Throws
// std::bad_alloc. Never blocks.
WithCancel with_cancel(const Context& parent);

// Like with_cancel, but the cancel function records a cause (Go's
// WithCancelCause): after cancel(e), err() is canceled() and cause(ctx) is e.
WithCancelCause with_cancel_cause(const Context& parent);

// A child of parent that is also cancelled, with deadline_exceeded(), when
// the steady clock reaches d (Go's WithDeadline). If parent's deadline is
// already earlier, this is with_cancel(parent) (the parent's deadline
// applies). If d has passed, the child is born cancelled with
// deadline_exceeded(). The deadline fires on a runtime timer, never early;
// the cancellation itself runs on a goroutine of its own, as Go's timers do.
// Destroying `cancel` stops the timer. Throws std::bad_alloc. Never blocks.
WithCancel with_deadline(const Context& parent, Time d);

// with_deadline whose deadline cancellation records `cause` (Go's
// WithDeadlineCause): cause(ctx) is `cause` (null: deadline_exceeded())
// when the deadline fires; an explicit cancel still gives canceled(). When
// parent's deadline is earlier, `cause` is never used (Go returns a plain
// WithCancel then): the parent's deadline cancels with the parent's cause.
WithCancel with_deadline_cause(const Context& parent, Time d, std::exception_ptr cause);

namespace detail {
WithCancel context_with_timeout_ns(const Context& parent, std::int64_t ns, std::exception_ptr cause);
}

// with_deadline(parent, now + d) (Go's WithTimeout). d <= 0 gives a context
// born with deadline_exceeded(); huge d saturate (never fire).
template <class Rep, class Period>
WithCancel with_timeout(const Context& parent, std::chrono::duration<Rep, Period> d) {
  return detail::context_with_timeout_ns(parent, detail::to_ns_saturated(d), nullptr);
}

// with_deadline_cause(parent, now + d, cause) (Go's WithTimeoutCause).
template <class Rep, class Period>
WithCancel with_timeout_cause(const Context& parent, std::chrono::duration<Rep, Period> d,
                              std::exception_ptr cause) {
  return detail::context_with_timeout_ns(parent, detail::to_ns_saturated(d), std::move(cause));
}

namespace detail {
// The one door into the handles' nodes (src/context and the templates here).
struct ContextAccess {
  static ContextNode* node(const Context& c) noexcept { return c.node_; }
  template <class Handle>
  static Handle adopt(ContextNode* n) noexcept {
    return Handle(AdoptNode{}, n);
  }
};
}  // namespace detail

// A child of parent carrying T(value) for key (Go's WithValue). Cancellation
// and deadline are parent's (done() is parent's channel). The value is
// constructed once, never copied again, and destroyed when the last context
// referring to it is gone. Throws what T's constructor throws, or
// std::bad_alloc.
template <class T, class V>
Context with_value(const Context& parent, const ContextKey<T>& key, V&& value) {
  static_assert(std::is_constructible_v<T, V&&>, "goro::with_value: the value does not convert to the key's type");
  detail::ContextAlloc a =
      detail::value_node_alloc(detail::ContextAccess::node(parent), &key, sizeof(T), alignof(T), &detail::destroy_payload<T>);
  try {
    ::new (a.storage) T(std::forward<V>(value));
  } catch (...) {
    detail::context_abort(a.node);
    throw;
  }
  return detail::ContextAccess::adopt<Context>(a.node);
}

// A child of parent with parent's values but never cancelled: no deadline,
// nil done(), null err() and cause(), whatever happens to parent (Go's
// WithoutCancel). Throws std::bad_alloc.
Context without_cancel(const Context& parent);

// Why ctx was cancelled (Go's Cause): null while ctx is live; otherwise the
// cause given to the cancellation of ctx or of the ancestor that cancelled
// it (with_cancel_cause, with_deadline_cause), or ctx.err() when none was
// given. Null for contexts that cannot be cancelled (without_cancel).
// Like err(), may wait for a cancellation in flight to finish.
std::exception_ptr cause(const Context& ctx);

// The stop function of after_func (Go's `stop func() bool`): stops the
// association of ctx with f. Returns true if this call stopped f from being
// run; false if f has already been started in its own goroutine (ctx was
// done) or was already stopped. Does not wait for f to finish. Copyable;
// keeps no more than a small record alive.
class AfterFuncStop {
 public:
  AfterFuncStop() noexcept = default;
  AfterFuncStop(const AfterFuncStop& o) noexcept : node_(o.node_) { detail::context_retain(node_); }
  AfterFuncStop(AfterFuncStop&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  AfterFuncStop& operator=(AfterFuncStop o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~AfterFuncStop() { detail::context_release(node_); }
  bool operator()() const noexcept { return node_ != nullptr && detail::after_func_stop(node_); }

 private:
  friend struct detail::ContextAccess;
  AfterFuncStop(detail::AdoptNode, detail::ContextNode* n) noexcept : node_(n) {}
  detail::ContextNode* node_ = nullptr;
};

// Arranges for f() to run once, in a goroutine of its own, after ctx is done
// (Go's AfterFunc); if ctx is already done, that goroutine starts at once.
// Several after_func calls on one context run independently. f is destroyed
// after it ran or once stopped. If ctx can never be cancelled, f never runs.
// f is moved/copied into the registration (throws what that throws, or
// std::bad_alloc); an exception escaping f() is a panic, as in any
// goroutine. Never blocks.
template <class F>
AfterFuncStop after_func(const Context& ctx, F&& f) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "goro::after_func needs a callable taking no arguments");
  detail::ContextAlloc a = detail::after_func_alloc(sizeof(Fn), alignof(Fn), &detail::invoke_payload<Fn>,
                                                    &detail::destroy_payload<Fn>);
  try {
    ::new (a.storage) Fn(std::forward<F>(f));
  } catch (...) {
    detail::context_abort(a.node);
    throw;
  }
  return detail::ContextAccess::adopt<AfterFuncStop>(
      detail::after_func_start(detail::ContextAccess::node(ctx), a.node));
}

}  // namespace goro
