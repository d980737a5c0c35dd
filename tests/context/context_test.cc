// goro::Context, Go's context package (src/context/context.go, Go 1.21+):
// background/todo, err/done/deadline/value/cause, with_cancel and
// with_cancel_cause, with_deadline/with_timeout (and their cause forms:
// never early, parent's earlier deadline kept, past deadlines), with_value
// transparency, without_cancel, after_func and its stop, the RAII cancel
// handles, done() in goro::select next to other channels, goroutines and
// plain threads on either side, trees of 10^5 contexts (wide and deep: no
// recursion on a goroutine's 256 KiB stack), that cancelled children are
// not kept by their parent (nodes are freed: Tracked payloads), and racing
// cancellations (parents against children, cancel against deadlines,
// stop against cancel). Go's own tests inspired many cases (TestCause,
// TestWithCancelCanceledParent, TestCancelRemoves, TestAfterFunc*,
// TestWithoutCancel, TestLayersCancel, TestSimultaneousCancels).
#include <gtest/gtest.h>
#include <goro/context.h>
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/goroutine_expect.h"
#include "support/test_support.h"
#include "support/tracked.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using goro::Context;
using goro::Empty;
using goro_test::eventually;
using goro_test::scaled;
using goro_test::Tracked;
using ::testing::ExitedWithCode;

// "Not absurdly late": anything past this is a lost wake-up, not noise.
constexpr auto kLate = goro_test::kSanitized ? 20s : 5s;

constexpr goro::ContextKey<int> kInt{"int"};
constexpr goro::ContextKey<int> kOtherInt{"int"};  // same name, another key
constexpr goro::ContextKey<std::string> kName{"name"};
constexpr goro::ContextKey<Tracked> kTracked{"tracked"};

// A cause of our own, like Go's errors.New("my cause").
struct MyCause : std::runtime_error {
  MyCause() : std::runtime_error("my cause") {}
};
std::exception_ptr my_cause() {
  static const std::exception_ptr e = std::make_exception_ptr(MyCause());
  return e;
}
std::exception_ptr other_cause() {
  static const std::exception_ptr e = std::make_exception_ptr(std::runtime_error("other cause"));
  return e;
}

// done() is closed: a receive is ready and says "closed".
bool is_closed(const goro::RecvChan<Empty>& d) {
  auto r = d.try_recv();
  return r.has_value() && !r->ok;
}
bool done_closed(const Context& ctx) { return is_closed(ctx.done()); }

// done() exists and is not closed (a live cancellable context).
bool done_open(const Context& ctx) {
  auto d = ctx.done();
  return static_cast<bool>(d) && !d.try_recv().has_value();
}

std::string str(const std::exception_ptr& e) { return goro::error_string(e); }

// --- background, todo, errors ---------------------------------------------------

TEST(Context, BackgroundAndTodoAreNeverCancelled) {
  for (const Context& ctx : {goro::background(), goro::todo(), Context{}}) {
    EXPECT_FALSE(ctx.done()) << "done() of an uncancellable context is the nil channel";
    EXPECT_EQ(ctx.err(), nullptr);
    EXPECT_EQ(goro::cause(ctx), nullptr);
    EXPECT_FALSE(ctx.deadline().has_value());
    EXPECT_EQ(ctx.value(kInt), nullptr);
    EXPECT_NO_THROW(ctx.throw_if_done());
  }
  EXPECT_TRUE(goro::background() == Context{});
  EXPECT_TRUE(goro::todo() == goro::todo());
  EXPECT_FALSE(goro::todo() == goro::background());
}

TEST(Context, ErrorsAreSharedValuesWithGosStrings) {
  EXPECT_EQ(goro::canceled(), goro::canceled());
  EXPECT_EQ(goro::deadline_exceeded(), goro::deadline_exceeded());
  EXPECT_NE(goro::canceled(), goro::deadline_exceeded());
  EXPECT_EQ(str(goro::canceled()), "context canceled");
  EXPECT_EQ(str(goro::deadline_exceeded()), "context deadline exceeded");
  EXPECT_EQ(goro::ContextCanceled().what(), std::string("context canceled"));
  EXPECT_EQ(goro::DeadlineExceeded().what(), std::string("context deadline exceeded"));
  EXPECT_TRUE(goro::DeadlineExceeded().timeout());
  static_assert(std::is_base_of_v<goro::Error, goro::ContextCanceled>);
  static_assert(std::is_base_of_v<goro::Error, goro::DeadlineExceeded>);
  try {
    std::rethrow_exception(goro::canceled());
  } catch (const goro::ContextCanceled& e) {
    EXPECT_STREQ(e.what(), "context canceled");
  }
  try {
    std::rethrow_exception(goro::deadline_exceeded());
  } catch (const goro::DeadlineExceeded& e) {
    EXPECT_STREQ(e.what(), "context deadline exceeded");
  }
}

TEST(Context, ErrorStringOfAnyErrorValue) {
  EXPECT_EQ(goro::error_string(nullptr), "");
  EXPECT_EQ(goro::error_string(my_cause()), "my cause");
  EXPECT_EQ(goro::error_string(std::make_exception_ptr(goro::Error("sync: negative WaitGroup counter"))),
            "sync: negative WaitGroup counter");
  EXPECT_EQ(goro::error_string(std::make_exception_ptr(42)), "unknown error");
}

TEST(Context, HandlesCopyMoveAndCompare) {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  Context copy = ctx;
  EXPECT_TRUE(copy == ctx);
  Context moved = std::move(copy);
  EXPECT_TRUE(moved == ctx);
  EXPECT_TRUE(copy == goro::background()) << "a moved-from Context is background()";  // NOLINT(bugprone-use-after-move)
  auto [other, cancel2] = goro::with_cancel(goro::background());
  EXPECT_FALSE(other == ctx);
  static_assert(std::is_nothrow_copy_constructible_v<Context>);
  static_assert(!std::is_copy_constructible_v<goro::ScopedCancel>);
  static_assert(!std::is_copy_constructible_v<goro::ScopedCancelCause>);
  static_assert(std::is_copy_constructible_v<goro::CancelFunc>);
  static_assert(std::is_copy_constructible_v<goro::CancelCauseFunc>);
  static_assert(std::is_copy_constructible_v<goro::AfterFuncStop>);
  static_assert(!std::is_copy_constructible_v<goro::ContextKey<int>>, "a copied key would be another key");
}

// --- with_cancel ------------------------------------------------------------------------

TEST(WithCancel, CancelClosesDoneAndSetsErrOnce) {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  EXPECT_EQ(ctx.err(), nullptr);
  EXPECT_EQ(goro::cause(ctx), nullptr);
  EXPECT_TRUE(done_open(ctx));
  auto d = ctx.done();
  EXPECT_TRUE(d == ctx.done()) << "successive calls return the same channel";
  EXPECT_EQ(d.len(), 0u);
  EXPECT_EQ(d.cap(), 0u);
  EXPECT_FALSE(ctx.deadline().has_value());

  cancel();
  EXPECT_EQ(ctx.err(), goro::canceled());
  EXPECT_EQ(goro::cause(ctx), goro::canceled());
  EXPECT_TRUE(is_closed(d));
  EXPECT_TRUE(d == ctx.done()) << "the channel handed out before is the one closed";
  auto [v, ok] = d.recv();  // a closed channel never blocks
  EXPECT_FALSE(ok);
  (void)v;

  cancel();  // no-op
  cancel();
  EXPECT_EQ(ctx.err(), goro::canceled());
  EXPECT_TRUE(done_closed(ctx));
  EXPECT_THROW(ctx.throw_if_done(), goro::ContextCanceled);
}

TEST(WithCancel, DoneAskedOnlyAfterCancelIsClosed) {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  cancel();
  EXPECT_TRUE(done_closed(ctx));
  EXPECT_TRUE(ctx.done() == ctx.done());
}

TEST(WithCancel, CancellingAParentCancelsEveryDescendant) {
  auto [root, cancel_root] = goro::with_cancel(goro::background());
  auto [child, cancel_child] = goro::with_cancel(root);
  Context with_val = goro::with_value(child, kInt, 7);
  auto [grandchild, cancel_grandchild] = goro::with_cancel(with_val);
  auto [sibling, cancel_sibling] = goro::with_cancel(root);
  auto d = grandchild.done();  // one asked before, the others after

  cancel_root();
  for (const Context* c : {&root, &child, &with_val, &grandchild, &sibling}) {
    EXPECT_EQ(c->err(), goro::canceled());
    EXPECT_EQ(goro::cause(*c), goro::canceled());
    EXPECT_TRUE(done_closed(*c));
  }
  EXPECT_TRUE(is_closed(d));
  EXPECT_EQ(*grandchild.value(kInt), 7) << "values survive cancellation";
}

TEST(WithCancel, CancellingAChildLeavesParentAndSiblingsAlone) {
  auto [parent, cancel_parent] = goro::with_cancel(goro::background());
  auto [a, cancel_a] = goro::with_cancel(parent);
  auto [b, cancel_b] = goro::with_cancel(parent);
  auto [a1, cancel_a1] = goro::with_cancel(a);
  cancel_a();
  EXPECT_EQ(a.err(), goro::canceled());
  EXPECT_EQ(a1.err(), goro::canceled());
  EXPECT_EQ(parent.err(), nullptr);
  EXPECT_EQ(b.err(), nullptr);
  EXPECT_TRUE(done_open(parent));
  EXPECT_TRUE(done_open(b));
}

TEST(WithCancel, AChildOfACancelledParentIsBornCancelled) {  // Go's TestWithCancelCanceledParent
  auto [parent, cancel] = goro::with_cancel_cause(goro::background());
  cancel(my_cause());
  auto [child, cancel_child] = goro::with_cancel(parent);
  EXPECT_EQ(child.err(), goro::canceled());
  EXPECT_EQ(goro::cause(child), my_cause()) << "a child's cause is its parent's";
  EXPECT_TRUE(done_closed(child));
  auto [t, cancel_t] = goro::with_timeout(parent, 1h);
  EXPECT_EQ(t.err(), goro::canceled()) << "born cancelled, not armed";
  EXPECT_EQ(goro::cause(t), my_cause());
  EXPECT_EQ(goro::detail::context_child_count(parent), 0u) << "born-cancelled children are not registered";
}

TEST(WithCancel, TheFirstCancellationWins) {
  auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
  auto [child, cancel_child] = goro::with_cancel_cause(parent);
  cancel_child(my_cause());
  cancel_parent(other_cause());
  cancel_child(other_cause());
  EXPECT_EQ(goro::cause(child), my_cause());
  EXPECT_EQ(goro::cause(parent), other_cause());
  EXPECT_EQ(child.err(), goro::canceled());
}

TEST(WithCancel, AWithValueChainIsTransparentToCancellation) {
  auto [root, cancel] = goro::with_cancel(goro::background());
  Context v = root;
  for (int i = 0; i < 10; ++i) v = goro::with_value(v, kInt, i);
  EXPECT_TRUE(v.done() == root.done()) << "with_value's done() is its parent's channel";
  auto [leaf, cancel_leaf] = goro::with_cancel(v);
  EXPECT_EQ(goro::detail::context_child_count(root), 1u) << "leaf registers with the nearest cancellable ancestor";
  cancel();
  EXPECT_EQ(v.err(), goro::canceled());
  EXPECT_EQ(leaf.err(), goro::canceled());
  EXPECT_EQ(*leaf.value(kInt), 9);
}

TEST(WithCancel, BelowAnUncancellableChainNothingIsRegistered) {
  Context v = goro::with_value(goro::background(), kInt, 1);
  EXPECT_FALSE(v.done());
  auto [c, cancel] = goro::with_cancel(v);
  EXPECT_TRUE(done_open(c));
  EXPECT_EQ(goro::detail::context_child_count(v), 0u);
  cancel();
  EXPECT_EQ(c.err(), goro::canceled());
  EXPECT_EQ(v.err(), nullptr);
}

TEST(WithCancel, CancelledChildrenAreDetachedFromTheirParent) {  // Go's TestCancelRemoves
  auto [parent, cancel_parent] = goro::with_cancel(goro::background());
  EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
  auto [a, cancel_a] = goro::with_cancel(parent);
  auto [b, cancel_b] = goro::with_timeout(parent, 1h);
  auto stop = goro::after_func(parent, [] {});
  EXPECT_EQ(goro::detail::context_child_count(parent), 3u);
  cancel_a();
  EXPECT_EQ(goro::detail::context_child_count(parent), 2u);
  cancel_b();
  EXPECT_EQ(goro::detail::context_child_count(parent), 1u);
  EXPECT_TRUE(stop());
  EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
  auto [c, cancel_c] = goro::with_cancel(parent);
  cancel_parent();
  EXPECT_EQ(goro::detail::context_child_count(parent), 0u) << "the parent's cancellation empties its list";
}

// --- RAII cancel handles ------------------------------------------------------------------

TEST(CancelHandles, ScopedCancelCancelsAtScopeExit) {
  Context ctx;
  {
    auto [c, cancel] = goro::with_cancel(goro::background());
    ctx = c;
    EXPECT_TRUE(cancel);
    EXPECT_EQ(ctx.err(), nullptr);
  }
  EXPECT_EQ(ctx.err(), goro::canceled());
  {
    auto [c, cancel] = goro::with_cancel_cause(goro::background());
    ctx = c;
  }
  EXPECT_EQ(ctx.err(), goro::canceled());
  EXPECT_EQ(goro::cause(ctx), goro::canceled());
}

TEST(CancelHandles, ReleaseHandsOverTheDuty) {
  Context ctx;
  goro::CancelFunc later;
  {
    auto [c, cancel] = goro::with_cancel(goro::background());
    ctx = c;
    later = cancel.release();
    EXPECT_FALSE(cancel);
    cancel();  // empty: nothing
  }
  EXPECT_EQ(ctx.err(), nullptr) << "a released handle does not cancel at scope exit";
  goro::CancelFunc copy = later;
  EXPECT_TRUE(copy);
  copy();
  EXPECT_EQ(ctx.err(), goro::canceled());
  later();  // no-op
  goro::CancelFunc none;
  EXPECT_FALSE(none);
  none();  // does nothing

  goro::CancelCauseFunc later_cause;
  {
    auto [c, cancel] = goro::with_cancel_cause(goro::background());
    ctx = c;
    later_cause = cancel.release();
  }
  EXPECT_EQ(ctx.err(), nullptr);
  later_cause(my_cause());
  EXPECT_EQ(goro::cause(ctx), my_cause());
  goro::CancelCauseFunc{}();  // empty: nothing
}

TEST(CancelHandles, MoveAssignmentCancelsTheOldContext) {
  auto [a, cancel_a] = goro::with_cancel(goro::background());
  auto [b, cancel_b] = goro::with_cancel(goro::background());
  goro::ScopedCancel h = std::move(cancel_a);
  EXPECT_FALSE(cancel_a);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.err(), nullptr) << "moving does not cancel";
  h = std::move(cancel_b);
  EXPECT_EQ(a.err(), goro::canceled()) << "assigning over an engaged handle cancels its context";
  EXPECT_EQ(b.err(), nullptr);
  h = goro::ScopedCancel{};
  EXPECT_EQ(b.err(), goro::canceled());

  auto [c, cancel_c] = goro::with_cancel_cause(goro::background());
  goro::ScopedCancelCause hc = std::move(cancel_c);
  hc = goro::ScopedCancelCause{};
  EXPECT_EQ(c.err(), goro::canceled());
}

TEST(CancelHandles, AForgottenReleasedCancelKeepsTheChildUntilTheParentIsCancelled) {
  long base = Tracked::live.load();
  auto [parent, cancel_parent] = goro::with_cancel(goro::background());
  {
    Context v = goro::with_value(parent, kTracked, Tracked(1));
    auto [child, cancel_child] = goro::with_cancel(v);
    (void)cancel_child.release();  // dropped without calling: Go's "lost cancel"
  }
  EXPECT_EQ(goro::detail::context_child_count(parent), 1u);
  EXPECT_EQ(Tracked::live.load(), base + 1) << "the parent's list keeps the child, as Go's children map does";
  cancel_parent();
  EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
  EXPECT_EQ(Tracked::live.load(), base) << "cancelling the parent frees it";
}

// --- cause -----------------------------------------------------------------------------------

// Go's TestCause, case by case.
TEST(Cause, FollowsGosRules) {
  {  // Cancel
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    cancel();
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(goro::cause(ctx), goro::canceled());
  }
  {  // CancelCause
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    cancel(my_cause());
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(goro::cause(ctx), my_cause());
  }
  {  // CancelCause with nil
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    cancel(nullptr);
    EXPECT_EQ(goro::cause(ctx), goro::canceled());
  }
  {  // Parent cancel doesn't affect child cause
    auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
    auto [child, cancel_child] = goro::with_cancel_cause(parent);
    cancel_child(my_cause());
    cancel_parent(nullptr);
    EXPECT_EQ(child.err(), goro::canceled());
    EXPECT_EQ(goro::cause(child), my_cause());
  }
  {  // Parent cause affects child (through a value layer too)
    auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
    auto [child, cancel_child] = goro::with_cancel(goro::with_value(parent, kInt, 1));
    cancel_parent(my_cause());
    EXPECT_EQ(child.err(), goro::canceled());
    EXPECT_EQ(goro::cause(child), my_cause());
  }
  {  // Timeout
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 0ns);
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(ctx), goro::deadline_exceeded());
  }
  {  // TimeoutCause
    auto [ctx, cancel] = goro::with_timeout_cause(goro::background(), 0ns, my_cause());
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(ctx), my_cause());
  }
  {  // Parent cancelled with a cause, then WithTimeout
    auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
    cancel_parent(my_cause());
    auto [ctx, cancel] = goro::with_timeout(parent, 0ns);
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(goro::cause(ctx), my_cause());
  }
  {  // Parent timed out with a cause, then WithTimeoutCause
    auto [parent, cancel_parent] = goro::with_timeout_cause(goro::background(), 0ns, my_cause());
    auto [ctx, cancel] = goro::with_timeout_cause(parent, 0ns, other_cause());
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(ctx), my_cause());
  }
  {  // Deadline passed, then cancel
    auto [ctx, cancel] = goro::with_deadline_cause(goro::background(), Clock::now() - 1s, my_cause());
    cancel();
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(ctx), my_cause());
  }
  {  // Cancel before the deadline
    auto [ctx, cancel] = goro::with_timeout_cause(goro::background(), 1h, my_cause());
    cancel();
    EXPECT_EQ(ctx.err(), goro::canceled());
    EXPECT_EQ(goro::cause(ctx), goro::canceled());
  }
  {  // WithoutCancel
    auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
    cancel_parent(my_cause());
    Context ctx = goro::without_cancel(parent);
    EXPECT_EQ(ctx.err(), nullptr);
    EXPECT_EQ(goro::cause(ctx), nullptr);
  }
  {  // WithoutCancel, deadline
    auto [parent, cancel_parent] = goro::with_timeout_cause(goro::background(), 0ns, my_cause());
    Context ctx = goro::without_cancel(parent);
    EXPECT_EQ(ctx.err(), nullptr);
    EXPECT_EQ(goro::cause(ctx), nullptr);
  }
  {  // A live context has no cause
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    EXPECT_EQ(goro::cause(ctx), nullptr);
    EXPECT_EQ(goro::cause(goro::with_value(ctx, kInt, 1)), nullptr);
  }
}

TEST(Cause, AnyExceptionCanBeACause) {
  auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
  cancel(std::make_exception_ptr(std::string("not even a std::exception")));
  EXPECT_EQ(ctx.err(), goro::canceled());
  EXPECT_EQ(goro::error_string(goro::cause(ctx)), "unknown error");
  try {
    std::rethrow_exception(goro::cause(ctx));
  } catch (const std::string& s) {
    EXPECT_EQ(s, "not even a std::exception");
  }
}

// --- deadlines --------------------------------------------------------------------------------

TEST(Deadline, FiresNeverEarlyWithDeadlineExceeded) {
  goro::run([] {
    auto start = Clock::now();
    auto d = start + 30ms;
    auto [ctx, cancel] = goro::with_deadline(goro::background(), d);
    ASSERT_TRUE(ctx.deadline().has_value());
    EXPECT_EQ(*ctx.deadline(), d);
    EXPECT_EQ(ctx.err(), nullptr);
    ctx.done().recv();
    auto woke = Clock::now();
    EXPECT_GE(woke, d) << "a deadline fired early";
    EXPECT_LT(woke - start, kLate);
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(ctx), goro::deadline_exceeded());
    EXPECT_THROW(ctx.throw_if_done(), goro::DeadlineExceeded);
    cancel();  // after the deadline: nothing changes
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
  });
}

TEST(Deadline, WithTimeoutFiresAfterTheDurationAndCancelsChildren) {
  goro::run([] {
    auto start = Clock::now();
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 20ms);
    auto [child, cancel_child] = goro::with_cancel(ctx);
    ASSERT_TRUE(child.deadline().has_value()) << "a child inherits the deadline";
    EXPECT_EQ(*child.deadline(), *ctx.deadline());
    EXPECT_GE(*ctx.deadline(), start + 20ms);
    child.done().recv();
    EXPECT_GE(Clock::now(), start + 20ms);
    EXPECT_EQ(child.err(), goro::deadline_exceeded());
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
  });
}

TEST(Deadline, APastDeadlineIsBornExceeded) {
  for (auto d : {Clock::now() - 1h, Clock::now(), goro::Time{}}) {
    auto [ctx, cancel] = goro::with_deadline(goro::background(), d);
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_TRUE(done_closed(ctx));
    EXPECT_EQ(*ctx.deadline(), d);
  }
  for (auto t : {0ns, -1ns, std::chrono::nanoseconds(-1h)}) {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), t);
    EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
    EXPECT_TRUE(done_closed(ctx));
  }
}

TEST(Deadline, ALaterDeadlineKeepsTheParents) {
  goro::run([] {
    auto [parent, cancel_parent] = goro::with_timeout(goro::background(), 20ms);
    auto pd = *parent.deadline();
    // Go: WithDeadline returns WithCancel(parent) then, so the cause given
    // here is never used: the parent's deadline cancels with its own.
    auto [child, cancel_child] = goro::with_deadline_cause(parent, pd + 1h, my_cause());
    EXPECT_EQ(*child.deadline(), pd);
    child.done().recv();
    EXPECT_GE(Clock::now(), pd);
    EXPECT_EQ(child.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(child), goro::deadline_exceeded());
  });
}

TEST(Deadline, AnEarlierDeadlineBelowALaterOne) {
  goro::run([] {
    auto [parent, cancel_parent] = goro::with_timeout(goro::background(), 1h);
    auto start = Clock::now();
    auto [child, cancel_child] = goro::with_timeout_cause(parent, 20ms, my_cause());
    EXPECT_LT(*child.deadline(), *parent.deadline());
    child.done().recv();
    EXPECT_GE(Clock::now(), start + 20ms);
    EXPECT_EQ(child.err(), goro::deadline_exceeded());
    EXPECT_EQ(goro::cause(child), my_cause());
    EXPECT_EQ(parent.err(), nullptr) << "a child's deadline does not touch its parent";
    EXPECT_EQ(goro::detail::context_child_count(parent), 0u) << "a fired child detaches itself";
  });
}

TEST(Deadline, AnEqualDeadlineGetsItsOwnTimerAndCause) {
  goro::run([] {
    auto d = Clock::now() + 20ms;
    auto [parent, cancel_parent] = goro::with_deadline(goro::background(), d);
    auto [child, cancel_child] = goro::with_deadline_cause(parent, d, my_cause());
    child.done().recv();
    EXPECT_EQ(child.err(), goro::deadline_exceeded());
    // Whichever timer fires first decides the child's cause.
    auto c = goro::cause(child);
    EXPECT_TRUE(c == my_cause() || c == goro::deadline_exceeded());
  });
}

TEST(Deadline, HugeTimeoutsSaturateAndNeverFire) {
  auto [ctx, cancel] = goro::with_timeout(goro::background(), std::chrono::hours::max());
  ASSERT_TRUE(ctx.deadline().has_value());
  EXPECT_GT(*ctx.deadline(), Clock::now() + std::chrono::hours(24 * 365 * 100));
  EXPECT_EQ(ctx.err(), nullptr);
  cancel();
  EXPECT_EQ(ctx.err(), goro::canceled());
}

TEST(Deadline, CancelStopsTheTimerAndFreesTheNode) {
  long base = Tracked::live.load();
  {
    Context holder = goro::with_value(goro::background(), kTracked, Tracked(5));
    auto [ctx, cancel] = goro::with_timeout(holder, 1h);
    holder = Context{};
    EXPECT_EQ(Tracked::live.load(), base + 1);
    cancel();
    EXPECT_EQ(ctx.err(), goro::canceled());
  }
  EXPECT_EQ(Tracked::live.load(), base) << "a stopped timer keeps no reference";
}

TEST(Deadline, AFiredTimerFreesTheNode) {
  goro::run([] {
    long base = Tracked::live.load();
    {
      auto [ctx, cancel] = goro::with_timeout(goro::with_value(goro::background(), kTracked, Tracked(6)), 5ms);
      ctx.done().recv();
    }
    EXPECT_TRUE(eventually([&] { return Tracked::live.load() == base; }))
        << "the firing's goroutine dropped the timer's reference";
  });
}

TEST(Deadline, WorksOnPlainThreadsWithoutRun) {
  auto start = Clock::now();
  auto [ctx, cancel] = goro::with_timeout(goro::background(), 20ms);
  Context copy = ctx;
  std::thread t([copy] { copy.done().recv(); });  // blocks the thread
  t.join();
  EXPECT_GE(Clock::now(), start + 20ms);
  EXPECT_EQ(ctx.err(), goro::deadline_exceeded());
}

TEST(Deadline, ManyTimersFireInAnyOrder) {
  goro::run([] {
    const int n = static_cast<int>(scaled(2000, 500, 200));
    std::vector<goro::WithCancel> ctxs;
    std::vector<Clock::time_point> deadlines;
    std::mt19937 rng(42);
    auto base = Clock::now() + 5ms;
    for (int i = 0; i < n; ++i) {
      auto d = base + std::chrono::microseconds(rng() % 30000);
      deadlines.push_back(d);
      ctxs.push_back(goro::with_deadline(goro::background(), d));
    }
    for (int i = 0; i < n; ++i) {
      ctxs[i].ctx.done().recv();
      EXPECT_GE(Clock::now(), deadlines[i]);
      EXPECT_EQ(ctxs[i].ctx.err(), goro::deadline_exceeded());
    }
  });
}

// --- values ------------------------------------------------------------------------------------

TEST(WithValue, NearestValueForTheKeyWins) {
  Context c1 = goro::with_value(goro::background(), kInt, 1);
  Context c2 = goro::with_value(c1, kName, "two");
  Context c3 = goro::with_value(c2, kInt, 3);
  EXPECT_EQ(*c1.value(kInt), 1);
  EXPECT_EQ(*c2.value(kInt), 1);
  EXPECT_EQ(*c2.value(kName), "two");
  EXPECT_EQ(*c3.value(kInt), 3) << "the nearest with_value shadows";
  EXPECT_EQ(*c3.value(kName), "two");
  EXPECT_EQ(c1.value(kName), nullptr);
  EXPECT_EQ(c3.value(kOtherInt), nullptr) << "keys are identified by address, not name or type";
  EXPECT_STREQ(kOtherInt.name(), "int");
  EXPECT_EQ(goro::background().value(kInt), nullptr);
  // Through cancel and deadline layers.
  auto [c4, cancel] = goro::with_cancel(c3);
  auto [c5, cancel5] = goro::with_timeout(c4, 1h);
  EXPECT_EQ(*c5.value(kInt), 3);
  EXPECT_EQ(*c5.value(kName), "two");
  EXPECT_EQ(c5.value(kInt), c3.value(kInt)) << "the value is stored once, not copied";
}

TEST(WithValue, TheValueLivesAsLongAsAnyContextReferringToIt) {
  long base = Tracked::live.load();
  const Tracked* p = nullptr;
  {
    Context leaf;
    {
      Context v = goro::with_value(goro::background(), kTracked, Tracked(9));
      EXPECT_EQ(Tracked::live.load(), base + 1) << "constructed once";
      leaf = goro::with_value(v, kInt, 0);
      p = v.value(kTracked);
    }
    ASSERT_EQ(leaf.value(kTracked), p);
    EXPECT_EQ(p->v, 9);
  }
  EXPECT_EQ(Tracked::live.load(), base);
}

struct ThrowsOnConstruction {
  explicit ThrowsOnConstruction(int) { throw std::runtime_error("no"); }
};
constexpr goro::ContextKey<ThrowsOnConstruction> kThrows{"throws"};

TEST(WithValue, AThrowingConstructorPropagatesAndLeaksNothing) {
  long base = Tracked::live.load();
  {
    Context parent = goro::with_value(goro::background(), kTracked, Tracked(1));
    EXPECT_THROW(goro::with_value(parent, kThrows, 1), std::runtime_error);
    struct ThrowingCopy {
      ThrowingCopy() = default;
      ThrowingCopy(const ThrowingCopy&) { throw std::runtime_error("copy"); }
      void operator()() const {}
    };
    ThrowingCopy f;
    EXPECT_THROW(goro::after_func(parent, f), std::runtime_error);
  }
  EXPECT_EQ(Tracked::live.load(), base) << "the parent reference taken for the failed node was returned";
}

// --- without_cancel ---------------------------------------------------------------------------

TEST(WithoutCancel, KeepsValuesDropsCancellationAndDeadline) {  // Go's TestWithoutCancel
  auto [parent, cancel] = goro::with_timeout(goro::with_value(goro::background(), kInt, 4), 1h);
  Context wc = goro::without_cancel(parent);
  EXPECT_EQ(*wc.value(kInt), 4);
  EXPECT_FALSE(wc.done());
  EXPECT_FALSE(wc.deadline().has_value());
  auto [child, cancel_child] = goro::with_cancel(wc);
  EXPECT_FALSE(child.deadline().has_value());
  cancel();
  EXPECT_EQ(parent.err(), goro::canceled());
  EXPECT_EQ(wc.err(), nullptr);
  EXPECT_EQ(goro::cause(wc), nullptr);
  EXPECT_EQ(child.err(), nullptr) << "below without_cancel, the parent's cancellation does not reach";
  EXPECT_TRUE(done_open(child));
  Context v = goro::with_value(wc, kName, "x");
  EXPECT_FALSE(v.done());
  EXPECT_EQ(*v.value(kInt), 4);
}

// --- select, goroutines, plain threads ------------------------------------------------------------

TEST(Done, SelectPicksDoneNextToOtherChannels) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    EXPECT_EQ(goro::select(goro::recv(ch), goro::recv(ctx.done()), goro::default_case()), 2);
    cancel();
    bool fired = false;
    EXPECT_EQ(goro::select(goro::recv(ch), goro::recv(ctx.done(), [&](Empty, bool ok) { fired = !ok; })), 1);
    EXPECT_TRUE(fired);
  });
}

TEST(Done, TheNilDoneOfAnUncancellableContextIsNeverPicked) {
  goro::run([] {
    Context ctx = goro::with_value(goro::background(), kInt, 1);
    EXPECT_EQ(goro::select(goro::recv(ctx.done()), goro::default_case()), 1);
    auto t = goro::after(5ms);
    EXPECT_EQ(goro::select(goro::recv(goro::without_cancel(ctx).done()), goro::recv(t)), 1);
  });
}

TEST(Done, AGoroutineParkedOnDoneIsWokenByCancel) {
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto woke = std::make_shared<std::atomic<int>>(0);
    std::uint64_t receiver = goro_test::go_with_id([ctx = ctx, woke] {
      ctx.done().recv();
      woke->fetch_add(1);
    });
    auto ch = goro::make_chan<int>();
    std::uint64_t selector = goro_test::go_with_id([ctx = ctx, ch, woke] {
      EXPECT_EQ(goro::select(goro::recv(ch), goro::recv(ctx.done())), 1);
      woke->fetch_add(1);
    });
    EXPECT_TRUE(goro_test::parks_with(receiver, "chan receive"));
    EXPECT_TRUE(goro_test::parks_with(selector, "select"));
    EXPECT_EQ(woke->load(), 0);
    cancel();
    EXPECT_TRUE(eventually([&] { return woke->load() == 2; }));
  });
}

TEST(Done, ABlockedSelectSeesTheOtherChannelFirstWhenItIsReady) {
  goro::run([] {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 1h);
    auto ch = goro::make_chan<int>();
    goro::go([ch] { ch.send(5); });
    int got = 0;
    EXPECT_EQ(goro::select(goro::recv(ch, [&](int v) { got = v; }), goro::recv(ctx.done())), 0);
    EXPECT_EQ(got, 5);
    EXPECT_EQ(ctx.err(), nullptr);
  });
}

TEST(Done, CancelFromAPlainThreadWakesGoroutines) {
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    const int n = 50;
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([ctx = ctx, &wg] {
        ctx.done().recv();
        EXPECT_EQ(ctx.err(), goro::canceled());
        EXPECT_EQ(goro::cause(ctx), my_cause());
        wg.done();
      });
    }
    goro::CancelCauseFunc f = cancel.release();
    std::thread t([f] {
      std::this_thread::sleep_for(5ms);
      f(my_cause());
    });
    wg.wait();
    t.join();
  });
}

TEST(Done, PlainThreadsWaitForACancelFromAGoroutine) {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  std::atomic<int> woke{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&woke, ctx = ctx] {
      goro::select(goro::recv(ctx.done()), goro::recv(goro::make_chan<int>()));
      EXPECT_EQ(ctx.err(), goro::canceled());
      woke.fetch_add(1);
    });
  }
  goro::CancelFunc f = cancel.release();
  goro::run([f] {
    goro::sleep(5ms);
    f();
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(woke.load(), 4);
}

// --- after_func ------------------------------------------------------------------------------------

TEST(AfterFunc, RunsOnceInItsOwnGoroutineAfterCancel) {  // TestAfterFuncCalledAfterCancel
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto ran_on = std::make_shared<std::atomic<std::uint64_t>>(0);
    auto stop = goro::after_func(ctx, [ctx = ctx, calls, ran_on] {
      EXPECT_EQ(ctx.err(), goro::canceled()) << "f runs after ctx is done";
      ran_on->store(goro::id());
      calls->fetch_add(1);
    });
    goro::sleep(5ms);
    EXPECT_EQ(calls->load(), 0) << "f ran before ctx was done";
    cancel();
    cancel();
    EXPECT_TRUE(eventually([&] { return calls->load() == 1; }));
    EXPECT_NE(ran_on->load(), goro::id()) << "f runs in a goroutine of its own";
    EXPECT_NE(ran_on->load(), 0u);
    EXPECT_FALSE(stop()) << "f has been started";
    goro::sleep(5ms);
    EXPECT_EQ(calls->load(), 1);
  });
}

TEST(AfterFunc, RunsAfterADeadline) {  // TestAfterFuncCalledAfterTimeout
  goro::run([] {
    auto start = Clock::now();
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 10ms);
    auto ch = goro::make_chan<Clock::time_point>(1);
    auto stop = goro::after_func(ctx, [ch] { ch.send(Clock::now()); });
    auto [when, ok] = ch.recv();
    EXPECT_GE(when, start + 10ms);
  });
}

TEST(AfterFunc, RunsAtOnceWhenTheContextIsDoneAlready) {  // TestAfterFuncCalledImmediately
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    cancel();
    auto ch = goro::make_chan<int>(1);
    auto stop = goro::after_func(ctx, [ch] { ch.send(1); });
    EXPECT_EQ(ch.recv().value, 1);
    EXPECT_FALSE(stop());
  });
}

TEST(AfterFunc, StopBeforeCancelPreventsIt) {  // TestAfterFuncNotCalledAfterStop
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto stop = goro::after_func(ctx, [calls] { calls->fetch_add(1); });
    auto copy = stop;
    EXPECT_TRUE(copy());
    EXPECT_FALSE(stop()) << "already stopped";
    cancel();
    goro::sleep(10ms);
    EXPECT_EQ(calls->load(), 0);
    EXPECT_EQ(ctx.err(), goro::canceled()) << "stop does not cancel ctx";
  });
}

TEST(AfterFunc, StopDoesNotWaitForFToFinish) {  // TestAfterFuncCalledAsynchronously
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto gate = goro::make_chan<int>();
    auto finished = goro::make_chan<int>(1);
    auto stop = goro::after_func(ctx, [gate, finished] {
      gate.recv();  // blocks until the test lets it go
      finished.send(1);
    });
    cancel();  // returns while f is blocked
    EXPECT_FALSE(stop());
    gate.send(1);
    EXPECT_EQ(finished.recv().value, 1);
  });
}

TEST(AfterFunc, NeverRunsOnAnUncancellableContext) {
  bool ran = false;
  auto stop = goro::after_func(goro::background(), [&ran] { ran = true; });
  EXPECT_TRUE(stop());
  EXPECT_FALSE(stop());
  auto stop2 = goro::after_func(goro::without_cancel(goro::todo()), [&ran] { ran = true; });
  EXPECT_FALSE(ran);
  goro::AfterFuncStop none;
  EXPECT_FALSE(none());
}

TEST(AfterFunc, SeveralRunIndependently) {
  goro::run([] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto calls = std::make_shared<std::atomic<int>>(0);
    std::vector<goro::AfterFuncStop> stops;
    for (int i = 0; i < 10; ++i) stops.push_back(goro::after_func(ctx, [calls] { calls->fetch_add(1); }));
    EXPECT_TRUE(stops[3]());
    EXPECT_TRUE(stops[7]());
    cancel();
    EXPECT_TRUE(eventually([&] { return calls->load() == 8; }));
    goro::sleep(5ms);
    EXPECT_EQ(calls->load(), 8);
  });
}

TEST(AfterFunc, FIsDestroyedAfterItRanOrWasStopped) {
  goro::run([] {
    long base = Tracked::live.load();
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto ran = goro::make_chan<int>(1);
    auto stop1 = goro::after_func(ctx, [t = Tracked(1), ran] { ran.send(t.v); });
    auto stop2 = goro::after_func(ctx, [t = Tracked(2)] {});
    EXPECT_EQ(Tracked::live.load(), base + 2);
    EXPECT_TRUE(stop2());
    EXPECT_EQ(Tracked::live.load(), base + 1) << "a stopped f is destroyed at once";
    cancel();
    EXPECT_EQ(ran.recv().value, 1);
    EXPECT_TRUE(eventually([&] { return Tracked::live.load() == base; }))
        << "f is destroyed after it ran, while the stop handle still lives";
  });
}

TEST(AfterFunc, StopRacingWithCancelDecidesExactlyOnce) {
  goro::run([] {
    const int rounds = static_cast<int>(scaled(2000, 500, 200));
    auto ran = std::make_shared<std::atomic<int>>(0);
    int stopped = 0;
    for (int i = 0; i < rounds; ++i) {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      auto stop = goro::after_func(ctx, [ran] { ran->fetch_add(1); });
      auto won = std::make_shared<std::atomic<bool>>(false);
      goro::WaitGroup wg;
      wg.add(2);
      goro::go([&wg, stop, won] {
        won->store(stop());
        wg.done();
      });
      goro::CancelFunc f = cancel.release();
      goro::go([&wg, f] {
        f();
        wg.done();
      });
      wg.wait();
      if (won->load()) ++stopped;
    }
    EXPECT_TRUE(eventually([&] { return ran->load() + stopped == rounds; }))
        << "ran " << ran->load() << ", stopped " << stopped << ", rounds " << rounds;
    goro::sleep(10ms);
    EXPECT_EQ(ran->load() + stopped, rounds) << "f ran after a successful stop";
  });
}

// --- trees ---------------------------------------------------------------------------------------------

TEST(Trees, AWideTreeOf100kChildren) {
  goro::run([] {
    const int n = 100000;
    auto [root, cancel_root] = goro::with_cancel(goro::background());
    std::vector<goro::WithCancel> children;
    children.reserve(n);
    for (int i = 0; i < n; ++i) children.push_back(goro::with_cancel(root));
    EXPECT_EQ(goro::detail::context_child_count(root), static_cast<std::size_t>(n));
    for (int i = 0; i < n; i += 97) (void)children[i].ctx.done();  // some have channels
    auto d = children[n - 1].ctx.done();
    cancel_root();
    EXPECT_TRUE(is_closed(d));
    int bad = 0;
    for (auto& c : children) bad += c.ctx.err() != goro::canceled() || !done_closed(c.ctx);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(goro::detail::context_child_count(root), 0u);
  });
}

TEST(Trees, ADeepChainOf100kOnAGoroutineStack) {
  goro::run([] {  // the main goroutine: a 256 KiB stack, no recursion allowed
    const int n = 100000;
    long base = Tracked::live.load();
    auto [root, cancel_root] = goro::with_cancel(goro::with_value(goro::background(), kTracked, Tracked(0)));
    std::vector<goro::ScopedCancel> cancels;
    cancels.reserve(n);
    Context leaf = root;
    for (int i = 0; i < n; ++i) {
      if (i % 3 == 0) leaf = goro::with_value(leaf, kInt, i);
      auto [c, cancel] = (i % 10 == 5) ? goro::with_timeout(leaf, 1h) : goro::with_cancel(leaf);
      leaf = std::move(c);
      cancels.push_back(std::move(cancel));
    }
    Context mid = leaf;
    auto d = leaf.done();
    EXPECT_EQ(*leaf.value(kInt), (n - 1) / 3 * 3) << "the nearest value";
    EXPECT_EQ(leaf.value(kTracked)->v, 0) << "found at the root, 10^5 nodes up";
    cancel_root();
    EXPECT_TRUE(is_closed(d));
    EXPECT_EQ(leaf.err(), goro::canceled());
    cancels.clear();  // every cancel is a no-op now
    leaf = Context{};
    mid = Context{};
    EXPECT_EQ(Tracked::live.load(), base + 1);
    root = Context{};
    cancel_root = goro::ScopedCancel{};
    EXPECT_EQ(Tracked::live.load(), base) << "the whole chain was freed";
  });
}

TEST(Trees, FreeingADeepChainDoesNotRecurse) {
  goro::run([] {
    const int n = 200000;
    long base = Tracked::live.load();
    {
      Context leaf = goro::with_value(goro::background(), kTracked, Tracked(1));
      for (int i = 0; i < n; ++i) {
        leaf = (i % 2 == 0) ? goro::with_value(leaf, kInt, i) : goro::without_cancel(leaf);
      }
      EXPECT_EQ(leaf.value(kTracked)->v, 1);
    }  // the last handle: 2 * 10^5 nodes freed in a loop
    EXPECT_EQ(Tracked::live.load(), base);
    {
      // Cancel nodes whose handles are gone, held only by their parent's list.
      auto [root, cancel_root] = goro::with_cancel(goro::background());
      Context leaf = goro::with_value(root, kTracked, Tracked(2));
      for (int i = 0; i < n; ++i) {
        auto [c, cancel] = goro::with_cancel(leaf);
        (void)cancel.release();
        leaf = std::move(c);
      }
      leaf = Context{};
      EXPECT_EQ(Tracked::live.load(), base + 1) << "an uncancelled chain is kept by the parents' lists";
      cancel_root();  // the walk drops every list reference: the chain frees itself
      EXPECT_EQ(Tracked::live.load(), base);
    }
  });
}

TEST(Trees, ABushyTreeCancelledFromTheMiddle) {  // like Go's TestLayersCancel, larger
  goro::run([] {
    // 1 + 10 + 100 + 1000 + 10000 nodes, breadth first, as the benchmark builds them.
    std::vector<goro::WithCancel> nodes;
    nodes.push_back(goro::with_cancel(goro::background()));
    std::size_t begin = 0, end = 1;
    for (int depth = 0; depth < 4; ++depth) {
      for (std::size_t p = begin; p < end; ++p) {
        for (int c = 0; c < 10; ++c) nodes.push_back(goro::with_cancel(nodes[p].ctx));
      }
      begin = end;
      end = nodes.size();
    }
    ASSERT_EQ(nodes.size(), 11111u);
    for (auto& n : nodes) (void)n.ctx.done();
    // Cancel the first node of level 1: its 1 + 10 + 100 + 1000 descendants go.
    nodes[1].cancel();
    int cancelled = 0;
    for (auto& n : nodes) cancelled += n.ctx.err() != nullptr;
    EXPECT_EQ(cancelled, 1111);
    EXPECT_EQ(goro::detail::context_child_count(nodes[0].ctx), 9u);
    nodes[0].cancel();
    for (auto& n : nodes) {
      EXPECT_TRUE(n.ctx.done().recv().ok == false);
      ASSERT_EQ(n.ctx.err(), goro::canceled());
    }
  });
}

TEST(Trees, CancelledChildrenAreNotKept) {
  goro::run([] {
    const int n = 100000;
    long base = Tracked::live.load();
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    for (int i = 0; i < n; ++i) {
      auto [child, cancel] = goro::with_cancel(goro::with_value(parent, kTracked, Tracked(i)));
      if (i % 2 == 0) (void)child.done();
    }  // each child cancelled at its scope exit
    EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
    EXPECT_EQ(Tracked::live.load(), base) << "cancelled children (and their values) are freed while the parent lives";
    for (int i = 0; i < n; ++i) {
      auto [child, cancel] = goro::with_timeout(goro::with_value(parent, kTracked, Tracked(i)), 1h);
    }
    EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
    EXPECT_EQ(Tracked::live.load(), base) << "stopped timers keep nothing alive";
    EXPECT_EQ(parent.err(), nullptr);
  });
}

// --- races ---------------------------------------------------------------------------------------------

// Once err() is non-null, done() is closed: a cancellation in flight is
// waited for (Go 1.23's Err waits on Done the same way).
TEST(Races, ErrNonNullImpliesDoneClosed) {
  goro::run([] {
    const int rounds = static_cast<int>(scaled(200, 50, 20));
    const int kids = 200;
    for (int r = 0; r < rounds; ++r) {
      auto [root, cancel] = goro::with_cancel(goro::background());
      std::vector<goro::WithCancel> children;
      for (int i = 0; i < kids; ++i) children.push_back(goro::with_cancel(root));
      for (auto& c : children) (void)c.ctx.done();
      auto violations = std::make_shared<std::atomic<int>>(0);
      goro::WaitGroup wg;
      wg.add(2);
      for (int side = 0; side < 2; ++side) {
        Context probe = children[side == 0 ? kids - 1 : kids / 2].ctx;
        goro::go([probe, violations, &wg] {
          while (probe.err() == nullptr) goro::yield();
          if (!done_closed(probe)) violations->fetch_add(1);
          wg.done();
        });
      }
      goro::CancelFunc f = cancel.release();
      std::thread t([f] { f(); });
      wg.wait();
      t.join();
      EXPECT_EQ(violations->load(), 0);
    }
  });
}

// Cancelling parents and children concurrently from goroutines and
// threads, while others create children and wait on done channels.
TEST(Races, ConcurrentCancelsCreationsAndWaits) {
  goro::run([] {
    const int rounds = static_cast<int>(scaled(30, 10, 5));
    const int n = static_cast<int>(scaled(3000, 1000, 300));
    for (int r = 0; r < rounds; ++r) {
      std::vector<Context> ctxs;
      std::vector<goro::CancelCauseFunc> cancels;
      auto [root, cancel_root] = goro::with_cancel_cause(goro::background());
      ctxs.push_back(root);
      std::mt19937 rng(r);
      for (int i = 1; i < n; ++i) {
        const Context& p = ctxs[rng() % ctxs.size()];
        auto [c, cancel] = (i % 7 == 0) ? goro::with_cancel_cause(goro::with_value(p, kInt, i))
                                        : goro::with_cancel_cause(p);
        ctxs.push_back(c);
        cancels.push_back(cancel.release());
      }
      goro::WaitGroup wg;
      const int workers = 8;
      wg.add(workers + 1);
      for (int w = 0; w < workers; ++w) {
        goro::go([&, w] {
          std::mt19937 wr(r * 100 + w);
          for (int k = 0; k < n / workers; ++k) {
            switch (wr() % 4) {
              case 0:
                cancels[wr() % cancels.size()](my_cause());
                break;
              case 1: {
                auto [c, cancel] = goro::with_cancel(ctxs[wr() % ctxs.size()]);
                (void)c.done();
                break;
              }
              case 2: {
                auto stop = goro::after_func(ctxs[wr() % ctxs.size()], [] {});
                if (wr() % 2) stop();
                break;
              }
              default:
                (void)ctxs[wr() % ctxs.size()].err();
                (void)ctxs[wr() % ctxs.size()].done();
            }
          }
          wg.done();
        });
      }
      goro::CancelCauseFunc stop_all = cancel_root.release();
      std::thread t([&wg, stop_all] {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        stop_all(other_cause());
        wg.done();
      });
      auto d = ctxs.back().done();
      d.recv();  // ends: the root's cancellation reaches everything
      wg.wait();
      t.join();
      int bad = 0;
      for (auto& c : ctxs) {
        std::exception_ptr cause = goro::cause(c);
        bad += c.err() != goro::canceled() || !done_closed(c) || (cause != my_cause() && cause != other_cause());
      }
      EXPECT_EQ(bad, 0);
      EXPECT_EQ(goro::detail::context_child_count(root), 0u);
    }
  });
}

// Two cancellations of overlapping subtrees: when either returns, its whole
// subtree is cancelled, and every node has one of the two causes, with the
// nodes below the middle agreeing with the middle.
TEST(Races, RacingCancelsOfParentAndChildCompleteTheirSubtrees) {
  goro::run([] {
    const int rounds = static_cast<int>(scaled(300, 100, 30));
    for (int r = 0; r < rounds; ++r) {
      auto [root, cancel_root] = goro::with_cancel_cause(goro::background());
      auto [mid, cancel_mid] = goro::with_cancel_cause(root);
      std::vector<Context> below;
      std::vector<goro::ScopedCancel> keep;
      Context p = mid;
      for (int i = 0; i < 300; ++i) {
        auto [c, cancel] = goro::with_cancel(i % 2 ? p : mid);
        p = c;
        below.push_back(c);
        keep.push_back(std::move(cancel));
      }
      auto bad = std::make_shared<std::atomic<int>>(0);
      goro::WaitGroup wg;
      wg.add(2);
      auto check = [below, bad] {
        for (auto& c : below) bad->fetch_add(c.err() == nullptr);
      };
      goro::CancelCauseFunc fr = cancel_root.release();
      goro::CancelCauseFunc fm = cancel_mid.release();
      goro::go([&wg, fr, check] {
        fr(my_cause());
        check();
        wg.done();
      });
      std::thread t([&wg, fm, check] {
        fm(other_cause());
        check();
        wg.done();
      });
      wg.wait();
      t.join();
      EXPECT_EQ(bad->load(), 0) << "a cancel returned before its subtree was cancelled";
      std::exception_ptr mc = goro::cause(mid);
      for (auto& c : below) {
        EXPECT_EQ(goro::cause(c), mc);
        EXPECT_TRUE(done_closed(c));
      }
    }
  });
}

// The leaves of a cancelled parent are marked without their own lock when
// nobody holds it; meanwhile other goroutines give them children and done
// channels. No grandchild may stay live, and every channel handed out must
// be closed (none lost, none left open).
TEST(Races, LeavesGainingChildrenAndChannelsWhileTheParentIsCancelled) {
  goro::run([] {
    const int rounds = static_cast<int>(scaled(100, 30, 10));
    const int leaves = 64;
    for (int r = 0; r < rounds; ++r) {
      auto [parent, cancel_parent] = goro::with_cancel(goro::background());
      std::vector<goro::WithCancel> ls;
      for (int i = 0; i < leaves; ++i) ls.push_back(goro::with_cancel(parent));
      auto grandchildren = std::make_shared<std::vector<Context>>(leaves);
      auto channels = std::make_shared<std::vector<goro::RecvChan<Empty>>>(leaves);
      goro::WaitGroup wg;
      wg.add(leaves);
      for (int i = 0; i < leaves; ++i) {
        Context leaf = ls[i].ctx;
        goro::go([&wg, leaf, i, grandchildren, channels] {
          if (i % 2 == 0) {
            auto [g, cancel] = goro::with_cancel(leaf);
            (void)cancel.release();  // only the parent's walk can cancel it now
            (*grandchildren)[i] = g;
          } else {
            (*channels)[i] = leaf.done();
          }
          wg.done();
        });
      }
      goro::CancelFunc f = cancel_parent.release();
      std::thread t([f] { f(); });
      wg.wait();
      t.join();
      for (int i = 0; i < leaves; ++i) {
        EXPECT_EQ(ls[i].ctx.err(), goro::canceled());
        if (i % 2 == 0) {
          EXPECT_EQ((*grandchildren)[i].err(), goro::canceled()) << "a child added during the walk stayed live";
          EXPECT_TRUE(done_closed((*grandchildren)[i]));
        } else {
          EXPECT_TRUE(is_closed((*channels)[i])) << "a done channel handed out was never closed";
          EXPECT_TRUE((*channels)[i] == ls[i].ctx.done()) << "done() changed identity";
        }
      }
      EXPECT_EQ(goro::detail::context_child_count(parent), 0u);
    }
  });
}

TEST(Races, DeadlinesRacingWithCancel) {
  goro::run([] {
    const int n = static_cast<int>(scaled(3000, 1000, 300));
    long base = Tracked::live.load();
    {
      auto [root, cancel_root] = goro::with_cancel(goro::with_value(goro::background(), kTracked, Tracked(3)));
      std::vector<goro::WithCancel> ctxs;
      std::mt19937 rng(7);
      for (int i = 0; i < n; ++i) {
        const Context& p = ctxs.empty() || rng() % 3 == 0 ? root : ctxs[rng() % ctxs.size()].ctx;
        ctxs.push_back(goro::with_timeout(p, std::chrono::microseconds(rng() % 3000)));
      }
      goro::WaitGroup wg;
      wg.add(2);
      for (int half = 0; half < 2; ++half) {
        goro::go([&, half] {
          for (int i = half; i < n; i += 4) ctxs[i].cancel();
          wg.done();
        });
      }
      goro::sleep(1ms);
      cancel_root();
      wg.wait();
      for (auto& c : ctxs) {
        auto e = c.ctx.err();
        EXPECT_TRUE(e == goro::canceled() || e == goro::deadline_exceeded());
        EXPECT_TRUE(done_closed(c.ctx));
      }
    }
    EXPECT_TRUE(eventually([&] { return Tracked::live.load() == base; }))
        << "every node freed once the timers' goroutines are done";
  });
}

// --- panics ----------------------------------------------------------------------------------------------

void uncaught_throw_if_done() {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  cancel();
  ctx.throw_if_done();
}

void uncaught_deadline() {
  auto [ctx, cancel] = goro::with_timeout(goro::background(), 1ms);
  ctx.done().recv();
  ctx.throw_if_done();
}

TEST(ContextDeathTest, AnUncaughtThrowIfDonePanicsWithGosMessage) {
  EXPECT_EXIT(goro_test::panic_in_goroutine(uncaught_throw_if_done), ExitedWithCode(2),
              goro_test::go_panic_pattern("context canceled"));
  EXPECT_EXIT(goro_test::panic_in_goroutine(uncaught_deadline), ExitedWithCode(2),
              goro_test::go_panic_pattern("context deadline exceeded"));
}

}  // namespace
