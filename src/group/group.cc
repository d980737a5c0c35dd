// Group: golang.org/x/sync/errgroup.
//
// State:
//  - wg_ counts the goroutines started and not finished (errgroup's wg);
//  - sem_ is errgroup's semaphore channel: a goroutine puts a token in
//    before it starts and takes one out when it finishes, so len(sem_) is
//    the number of active goroutines under the current limit. Each
//    goroutine keeps a handle to the channel it put its token into, so
//    set_limit(-1) while goroutines run (allowed, as in Go) cannot make a
//    finishing goroutine read a replaced sem_ (in Go that is a data race the
//    GC makes harmless);
//  - failed_/err_ are errgroup's errOnce/err: the first failing goroutine
//    wins failed_, stores err_ and cancels the context; the others do
//    nothing. err_ is read only by wait(), after wg_.wait(), which orders it
//    after the winner's store (the winner stores before its wg_.done());
//  - cancel_ is errgroup's cancel (WithContext only); cancelling is
//    idempotent and thread-safe, so record() and wait() may both call it.
// Invariant: a goroutine touches the Group only before its wg_.done(), so
// the Group may be destroyed as soon as wg_ reaches zero.
#include "goro/group.h"

#include <string>

#include "goro/error.h"

namespace goro {

Group::Group(ScopedCancelCause cancel) noexcept : cancel_(std::move(cancel)) {}

Group::~Group() {
  // Without a wait(), goroutines may be waiting for the context: end it
  // first, or the wait below could never return. A no-op after wait().
  if (cancel_) cancel_(nullptr);
  wg_.wait();
}

GroupWithContext Group::with_context(const Context& parent) {
  auto [ctx, cancel] = with_cancel_cause(parent);
  return GroupWithContext{Group(std::move(cancel)), std::move(ctx)};
}

void Group::set_limit(int n) {
  if (n < 0) {
    sem_ = Chan<Empty>();
    return;
  }
  if (std::size_t active = sem_.len(); active != 0) {
    throw Error("errgroup: modify limit while " + std::to_string(active) + " goroutines in the group are still active");
  }
  sem_ = make_chan<Empty>(static_cast<std::size_t>(n));
}

std::exception_ptr Group::wait() {
  wg_.wait();
  if (cancel_) cancel_(err_);
  return err_;
}

void Group::record(std::exception_ptr err) noexcept {
  if (failed_.exchange(true, std::memory_order_acq_rel)) return;
  err_ = std::move(err);
  if (cancel_) cancel_(err_);
}

}  // namespace goro
