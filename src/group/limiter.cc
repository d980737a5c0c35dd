// Limiter: a goro::Semaphore of `max` units, one unit per slot.
//
// Invariants:
//  - every unit taken from sem_ belongs to exactly one non-empty Slot (or to
//    the goroutine Task holding that Slot), which gives it back once: Slot
//    moves leave the source empty, release() empties the slot;
//  - a Slot is constructed holding a unit only after the unit was taken
//    (acquire/try_acquire/acquire(ctx) succeeded), so no path can release a
//    unit it does not hold: Semaphore::release never throws here;
//  - ~Limiter takes all `max` units, which it can only get after every
//    Slot was released; the releaser wakes it as its last step and touches
//    the semaphore no more (Semaphore wakes after unlocking), so destroying
//    the semaphore then is safe.
#include "goro/limiter.h"

#include <cstdint>
#include <string>

#include "goro/error.h"

namespace goro {
namespace {

std::int64_t checked_max(std::size_t max) {
  if (max == 0) throw Error("goro::Limiter: the limit must be at least 1");
  if (max > static_cast<std::size_t>(INT64_MAX)) {
    throw Error("goro::Limiter: the limit " + std::to_string(max) + " is too large");
  }
  return static_cast<std::int64_t>(max);
}

}  // namespace

Limiter::Limiter(std::size_t max) : sem_(checked_max(max)) {}

Limiter::~Limiter() {
  sem_.acquire(sem_.size());
  sem_.release(sem_.size());
}

void Limiter::Slot::release() noexcept {
  if (Limiter* l = std::exchange(limiter_, nullptr)) l->sem_.release(1);
}

Limiter::Slot Limiter::acquire() {
  sem_.acquire(1);
  return Slot(this);
}

std::optional<Limiter::Slot> Limiter::try_acquire() {
  if (!sem_.try_acquire(1)) return std::nullopt;
  return Slot(this);
}

std::optional<Limiter::Slot> Limiter::acquire(const Context& ctx) {
  if (sem_.acquire(ctx, 1)) return std::nullopt;
  return Slot(this);
}

}  // namespace goro
