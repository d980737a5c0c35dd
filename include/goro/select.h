// select over channels, with Go's semantics (runtime/select.go).
//
//   int taken = goro::select(
//       goro::recv(jobs, [&](Job j, bool ok) { if (ok) run(j); }),
//       goro::send(results, r, [&] { ++sent; }),
//       goro::recv(ctx_done, [&] { cancelled = true; }),
//       goro::default_case([&] { idle(); }));
//
// - Cases are checked in a uniformly random order; among the ready ones one
//   is taken at random, like Go, so no case starves.
// - Without a ready case and without default_case, the caller waits on all
//   channels at once (no polling) with wait reason "select"; the first
//   channel to become ready wins and the other waits are withdrawn. A select
//   with exactly one channel case waits as "chan send" / "chan receive", as
//   Go compiles it to a plain channel operation.
// - A case on a nil channel is never taken (Go's way to disable a case).
// - select() with no cases blocks forever ("select (no cases)").
// - A send case taken on a closed channel throws
//   goro::Error("send on closed channel"), as in Go.
// - The callback of the case taken runs after all channel locks are
//   released, on the calling goroutine; select returns that case's index
//   (0-based, in argument order; default_case included).
//
// Callbacks: recv accepts fn(T value, bool ok), fn(T value) or fn(); send
// and default_case accept fn() (or nothing, for send).
// Works on plain threads too (the thread blocks).
#pragma once

#include <cstddef>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/chan.h"

namespace goro {
namespace detail {

struct NoCallback {
  void operator()() const noexcept {}
};

template <class T, class F>
struct RecvCase {
  ChanCore* c;
  F fn;
  RecvStorage<T> storage;

  SelectCase erase() { return SelectCase{c, storage.bytes, false}; }
  void taken(bool ok) {
    if constexpr (std::is_invocable_v<F&, T, bool>) {
      static_assert(std::is_default_constructible_v<T>,
                    "goro::recv(ch, fn(T, bool)): T must be default-constructible (closed gives T{})");
      Received<T> r = take_received<T>(storage.bytes, ok);
      fn(std::move(r.value), r.ok);
    } else if constexpr (std::is_invocable_v<F&, T>) {
      static_assert(std::is_default_constructible_v<T>,
                    "goro::recv(ch, fn(T)): T must be default-constructible (closed gives T{})");
      Received<T> r = take_received<T>(storage.bytes, ok);
      fn(std::move(r.value));
    } else {
      static_assert(std::is_invocable_v<F&>, "goro::recv: the callback takes (T, bool), (T) or ()");
      if (ok) std::launder(reinterpret_cast<T*>(storage.bytes))->~T();
      fn();
    }
  }
};

template <class T, class F>
struct SendCase {
  ChanCore* c;
  T value;
  F fn;

  SelectCase erase() { return SelectCase{c, &value, true}; }
  void taken(bool) { fn(); }
};

template <class F>
struct DefaultCase {
  F fn;
  void taken(bool) { fn(); }
};

template <class C>
struct IsDefaultCase : std::false_type {};
template <class F>
struct IsDefaultCase<DefaultCase<F>> : std::true_type {};

template <class... Cases, std::size_t... I>
int select_impl(std::tuple<Cases&...>& cases, std::index_sequence<I...>) {
  constexpr bool kHasDefault = (IsDefaultCase<std::remove_const_t<Cases>>::value || ...);
  constexpr int kDefaults = (int{IsDefaultCase<std::remove_const_t<Cases>>::value} + ... + 0);
  static_assert(kDefaults <= 1, "goro::select: more than one default_case");
  constexpr int kChannels = static_cast<int>(sizeof...(Cases)) - kDefaults;
  // Channel cases in argument order, and where each sits in the argument list.
  SelectCase erased[kChannels > 0 ? kChannels : 1];
  int position[kChannels > 0 ? kChannels : 1] = {};
  int default_position = -1;
  int n = 0;
  [[maybe_unused]] auto add = [&](auto& c, int pos) {
    if constexpr (IsDefaultCase<std::remove_reference_t<decltype(c)>>::value) {
      default_position = pos;
    } else {
      erased[n] = c.erase();
      position[n] = pos;
      ++n;
    }
  };
  (add(std::get<I>(cases), static_cast<int>(I)), ...);
  SelectResult r = select_cases(erased, n, !kHasDefault);
  int taken = r.index >= 0 ? position[r.index] : default_position;
  ((static_cast<int>(I) == taken ? std::get<I>(cases).taken(r.recv_ok) : void()), ...);
  return taken;
}

}  // namespace detail

// A receive case: fn(T value, bool ok), fn(T value) or fn().
template <class Ch, class F = detail::NoCallback>
auto recv(const Ch& ch, F fn = {}) {
  using T = typename Ch::value_type;
  return detail::RecvCase<T, F>{ch.core(), std::move(fn), {}};
}

// A send case: the value is moved into the channel only if this case is
// taken; fn() runs after.
template <class Ch, class V, class F = detail::NoCallback>
auto send(const Ch& ch, V&& value, F fn = {}) {
  using T = typename Ch::value_type;
  static_assert(std::is_constructible_v<T, V&&>, "goro::send: the value does not convert to the channel's type");
  return detail::SendCase<T, F>{ch.core(), T(std::forward<V>(value)), std::move(fn)};
}

// Taken when no channel case is ready: the select does not block.
template <class F = detail::NoCallback>
auto default_case(F fn = {}) {
  return detail::DefaultCase<F>{std::move(fn)};
}

// Runs the select; returns the index of the case taken.
//
// Case objects borrow the channel handle they were made from (no reference
// count traffic on the hot path): make them inside the select(...) call,
// as above, not ahead of time from temporary handles.
template <class... Cases>
int select(Cases&&... cases) {
  std::tuple<std::remove_reference_t<Cases>&...> refs(cases...);
  return detail::select_impl(refs, std::index_sequence_for<Cases...>{});
}

}  // namespace goro
