// Channels with Go's semantics: goro::Chan<T>, SendChan<T>, RecvChan<T>.
//
//   auto ch = goro::make_chan<int>(10);    // make(chan int, 10)
//   goro::go([ch] { ch.send(42); ch.close(); });
//   auto [v, ok] = ch.recv();              // v, ok := <-ch
//   for (int x : ch) { ... }               // for x := range ch (auto& for move-only T)
//
// A Chan<T> is a cheap, copyable handle to a shared channel (like Go's chan,
// a reference): copies refer to the same channel, which lives as long as any
// handle does. A default-constructed handle is the nil channel: sends and
// receives on it block forever, close() throws, and select never picks it.
//
// Semantics are Go's (runtime/chan.go):
//  - unbuffered channels are rendezvous: send returns once a receiver has
//    the value; buffered channels are FIFO;
//  - a value sent is received exactly once; values move (move-only types
//    work), and T's move constructor must not throw, so a transfer can never
//    fail halfway;
//  - misuse throws goro::Error with Go's message, which becomes Go's
//    "panic: ..." if uncaught in a goroutine: "send on closed channel",
//    "close of nil channel", "close of closed channel";
//  - close wakes every blocked receiver (they get {T{}, false} once the
//    buffer is drained) and makes every blocked sender throw.
//
// Blocking calls park the calling goroutine (wait reason "chan send",
// "chan receive", or "... (nil chan)") and its worker runs other goroutines.
// On a plain OS thread they block the thread; goroutines on the other side
// are woken normally. select over several channels: goro/select.h.
#pragma once

#include <cstddef>
#include <iterator>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/detail/chan_core.h"

namespace goro {

// The result of a receive: `auto [value, ok] = ch.recv();`. ok is false
// when the channel is closed and drained; value is then T{} (Go's zero
// value).
template <class T>
struct Received {
  T value;
  bool ok;
};

template <class T>
class Chan;
template <class T>
class SendChan;
template <class T>
class RecvChan;

namespace detail {

template <class T>
void check_elem_type() {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "goro::Chan<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "goro::Chan<T>: T's move constructor must be noexcept (a value in transit can never be lost)");
}

struct AdoptChan {};

// Shared ownership of a ChanCore (intrusive count); null is the nil channel.
class ChanRef {
 public:
  ChanRef() noexcept = default;
  explicit ChanRef(ChanCore* adopted) noexcept : c_(adopted) {}
  ChanRef(const ChanRef& o) noexcept : c_(o.c_) {
    if (c_ != nullptr) chan_retain(c_);
  }
  ChanRef(ChanRef&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  ChanRef& operator=(ChanRef o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~ChanRef() {
    if (c_ != nullptr) chan_release(c_);
  }
  ChanCore* get() const noexcept { return c_; }

 private:
  ChanCore* c_ = nullptr;
};

// A receive of T into raw storage: T{} when nothing arrived (closed).
template <class T>
Received<T> take_received(void* storage, bool ok) {
  if (!ok) return Received<T>{T{}, false};
  T* p = std::launder(static_cast<T*>(storage));
  Received<T> r{std::move(*p), true};
  p->~T();
  return r;
}

template <class T>
struct RecvStorage {
  alignas(T) unsigned char bytes[sizeof(T)];
};

// Operations shared by the three handle types.
template <class T>
class ChanOps {
 public:
  // Number of buffered elements / buffer capacity; 0 for the nil channel.
  std::size_t len() const noexcept { return ref_.get() != nullptr ? chan_len(ref_.get()) : 0; }
  std::size_t cap() const noexcept { return ref_.get() != nullptr ? chan_cap(ref_.get()) : 0; }
  // False for the nil channel.
  explicit operator bool() const noexcept { return ref_.get() != nullptr; }
  // Same channel (Go's ==): handles of any direction compare.
  friend bool operator==(const ChanOps& a, const ChanOps& b) noexcept { return a.ref_.get() == b.ref_.get(); }

  ChanCore* core() const noexcept { return ref_.get(); }

 protected:
  ChanOps() noexcept { check_elem_type<T>(); }
  explicit ChanOps(ChanRef r) noexcept : ref_(std::move(r)) { check_elem_type<T>(); }

  void do_send(T v) const { chan_send(ref_.get(), &v, true); }
  bool do_try_send(T&& v) const { return chan_send(ref_.get(), &v, false); }
  bool do_try_send(const T& v) const {
    T copy(v);
    return chan_send(ref_.get(), &copy, false);
  }
  void do_close() const { chan_close(ref_.get()); }
  Received<T> do_recv() const {
    static_assert(std::is_default_constructible_v<T>,
                  "goro::Chan<T>::recv: T must be default-constructible (a closed channel yields T{}, Go's zero value)");
    RecvStorage<T> s;
    RecvResult r = chan_recv(ref_.get(), s.bytes, true);
    return take_received<T>(s.bytes, r.received);
  }
  std::optional<Received<T>> do_try_recv() const {
    RecvStorage<T> s;
    RecvResult r = chan_recv(ref_.get(), s.bytes, false);
    if (!r.selected) return std::nullopt;
    return take_received<T>(s.bytes, r.received);
  }

  ChanRef ref_;
};

}  // namespace detail

// `for (auto& v : ch)`: receives until the channel is closed and drained
// (Go's for-range over a channel). Blocks between values; never ends on nil.
// Each value received lives in the iterator until the next one arrives:
// `auto&` binds to it (and can std::move it out, as move-only T needs);
// `T v` copies it. A C++20 input iterator, so std::ranges views and
// algorithms work too (single pass, like the channel).
template <class T>
class ChanRange {
 public:
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;

    explicit iterator(detail::ChanCore* c) : c_(c) { advance(); }
    iterator() = default;
    T& operator*() const { return *cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& a, std::default_sentinel_t) { return !a.cur_.has_value(); }

   private:
    void advance() {
      cur_.reset();
      detail::RecvStorage<T> s;
      if (detail::chan_recv(c_, s.bytes, true).received) {
        T* p = std::launder(reinterpret_cast<T*>(s.bytes));
        cur_.emplace(std::move(*p));
        p->~T();
      }
    }
    detail::ChanCore* c_ = nullptr;
    mutable std::optional<T> cur_;  // mutable: input iterators deref through const
  };
};

// A bidirectional channel (Go's chan T).
template <class T>
class Chan : public detail::ChanOps<T> {
 public:
  using value_type = T;

  // The nil channel.
  Chan() noexcept = default;

  // Sends v, blocking until a receiver takes it (unbuffered) or there is room
  // in the buffer. Throws goro::Error("send on closed channel"), also when
  // the channel is closed while the sender waits. On nil: blocks forever.
  void send(T v) const { this->do_send(std::move(v)); }
  // Sends only if that can happen without blocking (Go's select with a
  // default case). v is moved from only when it was sent. Throws like send
  // when the channel is closed; false on nil.
  bool try_send(T&& v) const { return this->do_try_send(std::move(v)); }
  bool try_send(const T& v) const { return this->do_try_send(v); }

  // Receives the next value: {value, true}; {T{}, false} once the channel
  // is closed and drained. Blocks until then. On nil: blocks forever.
  Received<T> recv() const { return this->do_recv(); }
  // std::nullopt when a receive would block; otherwise what recv() returns.
  std::optional<Received<T>> try_recv() const { return this->do_try_recv(); }

  // Closes the channel: later sends throw, receivers drain the buffer and
  // then get {T{}, false}. Throws goro::Error("close of nil channel") /
  // ("close of closed channel").
  void close() const { this->do_close(); }

  typename ChanRange<T>::iterator begin() const { return typename ChanRange<T>::iterator(this->core()); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  template <class U>
  friend Chan<U> make_chan(std::size_t cap);
  explicit Chan(detail::ChanRef r) noexcept : detail::ChanOps<T>(std::move(r)) {}
  friend class SendChan<T>;
  friend class RecvChan<T>;
};

// The send-only view of a channel (Go's chan<- T): send, try_send, close.
template <class T>
class SendChan : public detail::ChanOps<T> {
 public:
  using value_type = T;
  SendChan() noexcept = default;
  SendChan(const Chan<T>& c) noexcept : detail::ChanOps<T>(c.ref_) {}  // NOLINT: implicit like Go's
  void send(T v) const { this->do_send(std::move(v)); }
  bool try_send(T&& v) const { return this->do_try_send(std::move(v)); }
  bool try_send(const T& v) const { return this->do_try_send(v); }
  void close() const { this->do_close(); }
};

// The receive-only view of a channel (Go's <-chan T): recv, try_recv,
// range-for. It cannot close, as in Go.
template <class T>
class RecvChan : public detail::ChanOps<T> {
 public:
  using value_type = T;
  RecvChan() noexcept = default;
  RecvChan(const Chan<T>& c) noexcept : detail::ChanOps<T>(c.ref_) {}  // NOLINT: implicit like Go's
  Received<T> recv() const { return this->do_recv(); }
  std::optional<Received<T>> try_recv() const { return this->do_try_recv(); }
  typename ChanRange<T>::iterator begin() const { return typename ChanRange<T>::iterator(this->core()); }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Internal (goro's timers): adopts a channel reference.
  RecvChan(detail::AdoptChan, detail::ChanRef r) noexcept : detail::ChanOps<T>(std::move(r)) {}
};

// make(chan T, cap): a new channel with a buffer of cap elements (0:
// unbuffered). Throws std::bad_alloc when the buffer cannot be allocated.
template <class T>
Chan<T> make_chan(std::size_t cap = 0) {
  detail::check_elem_type<T>();
  return Chan<T>(detail::ChanRef(detail::chan_make(&detail::elem_type_of<T>, cap)));
}

}  // namespace goro
