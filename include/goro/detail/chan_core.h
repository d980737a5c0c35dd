// The type-erased channel behind goro::Chan<T> (Go's hchan). Internal: the
// templates in chan.h and select.h call these; users never do.
//
// Values move through channels with the element type's move constructor,
// named by an ElemType record (Go moves with typedmemmove). Everything else,
// locking, wait queues, the ring buffer, closing and select, is one compiled
// implementation in src/chan/, whatever T is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace goro::detail {

// How to move and destroy one element. One constant record per T.
struct ElemType {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src) noexcept;  // dst is raw memory
  void (*destroy)(void* p) noexcept;
};

template <class T>
inline constexpr ElemType elem_type_of{
    sizeof(T), alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(static_cast<T&&>(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); }};

class ChanCore;

// A new channel with room for cap buffered elements, holding one reference.
ChanCore* chan_make(const ElemType* type, std::size_t cap);
void chan_retain(ChanCore* c) noexcept;
void chan_release(ChanCore* c) noexcept;  // frees on the last reference

// Sends the element at src (moved from only when the send happens).
// block=false: returns false instead of waiting. c == nullptr is the nil
// channel: blocks forever ("chan send (nil chan)") or returns false.
// Throws goro::Error("send on closed channel").
bool chan_send(ChanCore* c, void* src, bool block);

struct RecvResult {
  bool selected;  // false: block=false and nothing was ready
  bool received;  // true: *dst holds a value; false: closed and drained
};
// Receives into dst (raw memory for one element; constructed only when
// received). c == nullptr blocks forever ("chan receive (nil chan)").
RecvResult chan_recv(ChanCore* c, void* dst, bool block);

// Throws goro::Error("close of nil channel" / "close of closed channel").
void chan_close(ChanCore* c);
std::size_t chan_len(const ChanCore* c) noexcept;
std::size_t chan_cap(const ChanCore* c) noexcept;

// One case of a select. elem: for a send, the value to move from; for a
// receive, raw memory for one element. c == nullptr disables the case.
struct SelectCase {
  ChanCore* c;
  void* elem;
  bool is_send;
};
struct SelectResult {
  int index;     // the case taken; -1: block=false and no case was ready
  bool recv_ok;  // for a receive case: a value arrived (false: closed)
};
// Go's selectgo over n cases: picks uniformly at random among ready cases;
// otherwise (block=true) waits on every channel at once. n == 0 with block
// parks forever ("select (no cases)"). Throws goro::Error("send on closed
// channel") when the case taken is a send on a closed channel.
SelectResult select_cases(SelectCase* cases, int n, bool block);

}  // namespace goro::detail
