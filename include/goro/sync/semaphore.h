// goro::Semaphore, a weighted semaphore like golang.org/x/sync/semaphore:
// bounds access to a resource of `size` units, each acquire taking n.
//
//   goro::Semaphore sem(4);                      // 4 units
//   if (auto err = sem.acquire(ctx, 1)) return err;   // waits, or ctx ends
//   work();
//   sem.release(1);
//
//   { goro::Semaphore::Guard g(sem, 2); work(); }     // RAII, no context
//
// Waiters are served first come, first served: a large request at the head
// blocks smaller ones behind it (so a large request cannot starve), as in
// x/sync/semaphore. Waiting goroutines park with wait reason "semacquire";
// plain threads block.
#pragma once

#include <cstdint>
#include <exception>

#include "goro/context.h"

namespace goro {

class Semaphore {
 public:
  // A semaphore with `size` units (>= 0; negative throws goro::Error).
  explicit Semaphore(std::int64_t size);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore();

  // Takes n units, waiting until they are free. n > size waits forever (as
  // x/sync's Acquire with a never-ending context). n < 0 throws goro::Error.
  void acquire(std::int64_t n = 1);

  // Takes n units, waiting until they are free or ctx is done. Returns null
  // on success; ctx.err() on failure, leaving the semaphore unchanged. A ctx
  // already done fails even when the units are free (x/sync's rule: the
  // cancellation happened first). n > size waits for ctx only.
  [[nodiscard]] std::exception_ptr acquire(const Context& ctx, std::int64_t n = 1);

  // Takes n units if they are free and nobody waits; never blocks.
  bool try_acquire(std::int64_t n = 1);

  // Returns n units and wakes the waiters that now fit. Never blocks.
  // Returning more than is held throws goro::Error("semaphore: released
  // more than held"), the semaphore unchanged.
  void release(std::int64_t n = 1);

  // Units per construction / units held now (a sample).
  std::int64_t size() const noexcept { return size_; }
  std::int64_t held() const noexcept;

  // Holds n units for a scope: acquire(n) in the constructor, release(n)
  // in the destructor.
  class Guard {
   public:
    Guard(Semaphore& s, std::int64_t n = 1) : s_(s), n_(n) { s_.acquire(n_); }
    ~Guard() { s_.release(n_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Semaphore& s_;
    std::int64_t n_;
  };

 private:
  struct Impl;
  const std::int64_t size_;
  Impl* impl_;
};

}  // namespace goro
