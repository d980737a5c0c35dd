// goro::Pool<In, Out>, a fixed-size pool of workers that process jobs
// synchronously for their callers, like github.com/Jeffail/tunny.
//
//   // tunny.NewFunc: n goroutines, each running the same function.
//   goro::Pool<std::string, std::size_t> pool(4, [](std::string s) { return expensive(s); });
//   std::size_t n = pool.process("payload");        // blocks until a worker did it
//
//   try {
//     auto r = pool.process_timeout(job, 50ms);      // tunny's ProcessTimed
//   } catch (const goro::JobTimedOut&) { ... }       // "job request timed out"
//   auto r = pool.process_ctx(ctx, job);             // rethrows ctx.err()
//
//   // tunny.New: one PoolWorker object per worker, with its own state.
//   struct Encoder : goro::PoolWorker<Frame, Packet> {
//     Packet process(Frame f) override { return codec_.encode(f); }
//     void interrupt() override { codec_.abort(); }   // a caller gave up on the job
//     void terminate() override { codec_.flush(); }   // the worker leaves the pool
//     Codec codec_;
//   };
//   goro::Pool<Frame, Packet> encoders(8, [] { return std::make_unique<Encoder>(); });
//   encoders.set_size(16);                           // grow or shrink at any time
//   encoders.close();                                // or let the destructor do it
//
// Every worker is a goroutine that offers itself to callers through one
// shared channel, as tunny's workerWrapper does: a caller takes an idle
// worker, hands it the job, and waits for the result on that worker's
// channel. So callers queue fairly (FIFO) for the first idle worker, jobs run
// on goroutines (a job that blocks parks its worker goroutine, not a thread),
// and process() works from goroutines and plain threads alike. Idle workers
// wait with Go's wait reason "select", callers with "chan receive".
//
// In and Out are object types (Out may be void). Values move: a payload is
// moved to the worker, the result back to the caller. Types whose move
// constructor may throw travel boxed (one allocation per job).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "goro/chan.h"
#include "goro/context.h"
#include "goro/error.h"
#include "goro/go.h"
#include "goro/select.h"
#include "goro/sync/mutex.h"
#include "goro/time.h"

namespace goro {

// Thrown by Pool::process_timeout when the timeout passed before the result
// arrived: tunny's ErrJobTimedOut.
class JobTimedOut : public Error {
 public:
  JobTimedOut() : Error("job request timed out") {}
};

// Thrown by every Pool::process* call on a closed pool (also by those
// waiting for a worker when it closes) and by set_size after close():
// tunny's ErrPoolNotRunning.
class PoolClosed : public Error {
 public:
  PoolClosed() : Error("the pool is not running") {}
};

// One worker of a Pool, tunny's Worker interface. A Pool built from a
// factory owns one PoolWorker per worker goroutine; the goroutine calls
// block_until_ready() and process() one job at a time, so these need no
// locking against each other. interrupt() is the exception: a caller whose
// job timed out or whose context ended calls it on its own thread, while
// process() may be running.
template <class In, class Out>
class PoolWorker {
 public:
  virtual ~PoolWorker() = default;

  // Performs one job and returns its result, on the worker's goroutine. An
  // exception thrown here is rethrown to the caller waiting for this job;
  // the worker keeps serving.
  virtual Out process(In payload) = 0;

  // Called on the worker's goroutine before each job (before the worker
  // offers itself to callers); returns when the worker is ready for the
  // next one. While it blocks, the worker takes no job and cannot be
  // removed: set_size() and close() wait for it.
  virtual void block_until_ready() {}

  // Called by a caller that gave up on its job (timeout or context) after
  // the worker had been handed to it: it should make a running process()
  // return soon (its result is discarded). As in tunny it may also come
  // when process() has not started yet or has already returned. Runs on the
  // caller's thread, concurrently with process(): make it thread-safe.
  // Never called after terminate(), nor once the worker was handed to the
  // next caller. Should not throw: an exception from here reaches the
  // caller instead of JobTimedOut / ctx.err() (the worker is released all
  // the same).
  virtual void interrupt() {}

  // Called on the worker's goroutine when the worker leaves the pool
  // (set_size shrinking, close): it finished its last job and takes no more.
  // The object is destroyed afterwards, by the set_size()/close() caller.
  virtual void terminate() {}
};

namespace detail {

// --- implementation notes ------------------------------------------------------
//
// The design is tunny's, with goro channels:
//
//   worker goroutine (PoolWorkerSlot::run)         caller (Pool::process)
//   ---------------------------------------        ---------------------------
//   block_until_ready()
//   select { req_chan <- self | <-close_chan }  →  w := <-req_chan       (1)
//   select { p := <-job_chan | <-interrupt }    ←  w.job_chan <- payload (2)
//   r := process(p)
//   select { ret_chan <- r | <-interrupt }      →  r := <-w.ret_chan     (3)
//
// req_chan is the pool's (unbuffered, shared); job_chan and ret_chan are the
// worker's own (unbuffered). A caller that received a worker in (1) "binds"
// it: the worker only listens to its own job, ret and interrupt channels
// until that caller either took the result or interrupted it.
//
// Invariants:
//  - a bound worker never exits: close_chan is watched only at (1);
//  - interrupt_chan (capacity 1) is empty whenever a worker is unbound: only
//    the bound caller sends a token, at most once, and only when its own
//    select in (2) or (3) gave up, i.e. the worker's matching send/receive
//    did not happen, so the worker is still waiting in (2) or (3) and takes
//    the token before it can bind again. The token send therefore never
//    blocks. (tunny closes and recreates its interrupt channel instead,
//    which races with the next binding; a reusable token does not.)
//  - the giving-up caller calls PoolWorker::interrupt() *before* sending the
//    token, so the worker object is alive (the worker is still bound and
//    cannot exit) and the call cannot hit the worker's next job.
//
// Lifetimes. Worker slots are deleted by set_size()/close() after their
// goroutine exited. A caller may still be inside a channel operation on the
// worker's channels at that point: a select's last step relocks its
// channels after the wake-up (Go keeps the channel alive with its GC). Plain
// send/receive touch nothing after the hand-off, so process() borrows the
// slot's channel handles; the selects of process_timeout/process_ctx hold
// their own references (one reference count pair per timed call), and so
// does the interrupt token's send.
//
// Per job, process() does exactly tunny's three channel operations and no
// allocation (payload and result move through the channels in place unless
// their move constructors may throw).

// How a T travels through a channel: channels need nothrow-movable,
// default-constructible elements.
template <class T, bool = std::is_nothrow_move_constructible_v<T>>
class PoolBox {
 public:
  PoolBox() noexcept = default;
  explicit PoolBox(T&& v) : v_(std::move(v)) {}
  // Holds what f() returns (empty if it throws).
  template <class F>
  void emplace_result(F&& f) {
    v_.emplace(std::forward<F>(f)());
  }
  bool has_value() const noexcept { return v_.has_value(); }
  T take() { return std::move(*v_); }

 private:
  std::optional<T> v_;
};

template <class T>
class PoolBox<T, false> {
 public:
  PoolBox() noexcept = default;
  explicit PoolBox(T&& v) : p_(std::make_unique<T>(std::move(v))) {}
  template <class F>
  void emplace_result(F&& f) {
    p_ = std::make_unique<T>(std::forward<F>(f)());
  }
  bool has_value() const noexcept { return p_ != nullptr; }
  T take() { return std::move(*p_); }

 private:
  std::unique_ptr<T> p_;
};

// A job's outcome: the result, or the exception process() threw.
template <class Out>
struct PoolResult {
  PoolBox<Out> value;
  std::exception_ptr error;

  Out take() {
    if (error) std::rethrow_exception(error);
    return value.take();
  }
};

template <>
struct PoolResult<void> {
  std::exception_ptr error;

  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

// One worker: its PoolWorker, its goroutine's channels (tunny's
// workerWrapper). Created and deleted by Pool under its mutex.
template <class In, class Out>
class PoolWorkerSlot {
 public:
  PoolWorkerSlot(std::unique_ptr<PoolWorker<In, Out>> worker, Chan<PoolWorkerSlot*> req_chan)
      : worker_(std::move(worker)), req_chan_(std::move(req_chan)) {}
  PoolWorkerSlot(const PoolWorkerSlot&) = delete;
  PoolWorkerSlot& operator=(const PoolWorkerSlot&) = delete;

  // The worker goroutine's body (tunny's workerWrapper.run).
  void run() {
    PoolWorkerSlot* self = this;
    for (;;) {
      worker_->block_until_ready();
      if (goro::select(goro::send(req_chan_, self), goro::recv(close_chan_)) == 1) break;
      // Bound to the caller that received us.
      std::optional<PoolBox<In>> job;
      goro::select(goro::recv(job_chan_, [&job](PoolBox<In> b) { job.emplace(std::move(b)); }),
                   goro::recv(interrupt_chan_));
      if (!job) continue;  // the caller gave up before sending
      PoolResult<Out> r = run_job(job->take());
      // Interrupted: the caller gave up and the result is dropped here.
      goro::select(goro::send(ret_chan_, std::move(r)), goro::recv(interrupt_chan_));
    }
    worker_->terminate();
    // The slot may be deleted as soon as this wakes the joiner: nothing of
    // it is touched afterwards (chan_close wakes after unlocking).
    closed_chan_.close();
  }

  // --- the bound caller's side ---
  const Chan<PoolBox<In>>& job_chan() const noexcept { return job_chan_; }
  const Chan<PoolResult<Out>>& ret_chan() const noexcept { return ret_chan_; }

  // The bound caller gives up: interrupt the worker, then release it.
  void interrupt_from_caller() {
    // Our own reference: the worker may take the token, exit and be deleted
    // while the send is still unlocking the channel.
    struct SendToken {
      Chan<Empty> token;
      ~SendToken() { token.try_send(Empty{}); }  // never full (see invariants), never closed
    } release{interrupt_chan_};
    worker_->interrupt();
  }

  // --- the pool's side (under its mutex) ---
  void stop() { close_chan_.close(); }
  void join() const { closed_chan_.recv(); }

 private:
  PoolResult<Out> run_job(In&& payload) noexcept {
    PoolResult<Out> r;
    try {
      if constexpr (std::is_void_v<Out>) {
        worker_->process(std::move(payload));
      } else {
        r.value.emplace_result([&]() -> Out { return worker_->process(std::move(payload)); });
      }
    } catch (...) {
      r.error = std::current_exception();
    }
    return r;
  }

  std::unique_ptr<PoolWorker<In, Out>> worker_;
  Chan<PoolWorkerSlot*> req_chan_;                        // the pool's
  Chan<PoolBox<In>> job_chan_ = make_chan<PoolBox<In>>();  // unbuffered
  Chan<PoolResult<Out>> ret_chan_ = make_chan<PoolResult<Out>>();
  Chan<Empty> interrupt_chan_ = make_chan<Empty>(1);
  Chan<Empty> close_chan_ = make_chan<Empty>();   // closed by stop()
  Chan<Empty> closed_chan_ = make_chan<Empty>();  // closed by run() when it ends
};

// tunny's closureWorker: every worker calls the pool's one function.
template <class In, class Out>
class PoolFuncWorker final : public PoolWorker<In, Out> {
 public:
  explicit PoolFuncWorker(const std::function<Out(In)>* fn) noexcept : fn_(fn) {}
  Out process(In payload) override { return (*fn_)(std::move(payload)); }

 private:
  const std::function<Out(In)>* fn_;
};

// queue_length's counter: counts a call from entry to return or throw.
class PoolQueued {
 public:
  explicit PoolQueued(std::atomic<std::int64_t>& n) noexcept : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
  ~PoolQueued() { n_.fetch_sub(1, std::memory_order_relaxed); }
  PoolQueued(const PoolQueued&) = delete;
  PoolQueued& operator=(const PoolQueued&) = delete;

 private:
  std::atomic<std::int64_t>& n_;
};

}  // namespace detail

// A pool of worker goroutines that process jobs of type In into results of
// type Out, one job per worker at a time (tunny.Pool). Not copyable or
// movable. All member functions may be called concurrently from goroutines
// and plain threads, except that the pool must outlive every call.
//
// Deadlocks to avoid (as in tunny): a worker's process() calling set_size()
// or close() of its own pool (they wait for that worker), and a worker whose
// block_until_ready() never returns (it cannot be removed).
template <class In, class Out>
class Pool {
  static_assert(std::is_object_v<In> && !std::is_const_v<In> && !std::is_array_v<In>,
                "goro::Pool<In, Out>: In must be a non-const object type");
  static_assert(std::is_move_constructible_v<In>, "goro::Pool<In, Out>: In must be movable");
  static_assert(std::is_void_v<Out> || (std::is_object_v<Out> && !std::is_const_v<Out> && !std::is_array_v<Out> &&
                                        std::is_move_constructible_v<Out>),
                "goro::Pool<In, Out>: Out must be void or a movable, non-const object type");

  using Slot = detail::PoolWorkerSlot<In, Out>;

 public:
  using Worker = PoolWorker<In, Out>;
  using WorkerFactory = std::function<std::unique_ptr<Worker>()>;

  // tunny.NewFunc: n workers, each calling fn(payload) for its jobs. fn is
  // called concurrently by up to size() workers. Starts n goroutines.
  // Throws std::invalid_argument when fn is empty, std::bad_alloc.
  Pool(std::size_t n, std::function<Out(In)> fn) : fn_(std::move(fn)) {
    if (!fn_) throw std::invalid_argument("goro::Pool: empty function");
    make_worker_ = [this] { return std::unique_ptr<Worker>(new detail::PoolFuncWorker<In, Out>(&fn_)); };
    start(n);
  }

  // tunny.New: n workers, each made by make_worker() (called again for every
  // worker set_size() adds). Throws std::invalid_argument when make_worker
  // is empty or returns null, and whatever make_worker throws (the workers
  // started so far are stopped again).
  Pool(std::size_t n, WorkerFactory make_worker) : make_worker_(std::move(make_worker)) {
    if (!make_worker_) throw std::invalid_argument("goro::Pool: empty worker factory");
    start(n);
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // close(): stops the workers and waits for them (so it blocks while they
  // finish their current jobs).
  ~Pool() { close(); }

  // Hands payload to the first idle worker and returns its result (tunny's
  // Process). Blocks (a goroutine parks with "chan receive") until a worker
  // is free and has processed the job; callers are served in arrival order.
  // Rethrows what the worker's process() threw. Throws PoolClosed when the
  // pool is closed or closes while the caller waits for a worker. Never
  // gives up otherwise: see process_timeout/process_ctx.
  Out process(In payload) {
    detail::PoolQueued queued(queued_);
    auto [slot, open] = req_chan_.recv();
    if (!open) throw PoolClosed();
    slot->job_chan().send(detail::PoolBox<In>(std::move(payload)));
    // The worker is bound to us until it sent the result (see the notes);
    // its ret channel is never closed.
    return slot->ret_chan().recv().value.take();
  }

  // process() that gives up after `timeout` (tunny's ProcessTimed) and
  // throws JobTimedOut. If a worker had already been handed the job (or was
  // about to be), its interrupt() is called before throwing and the late
  // result is discarded, never delivered to anybody. A timeout <= 0 throws
  // JobTimedOut at once without taking a worker (in Go it races with an
  // idle worker). Blocks as process(), waiting with "select". Throws
  // PoolClosed, or what the worker's process() threw, as process().
  template <class Rep, class Period>
  Out process_timeout(In payload, std::chrono::duration<Rep, Period> timeout) {
    detail::PoolQueued queued(queued_);
    if (timeout <= timeout.zero()) throw JobTimedOut();
    Timer timer(timeout);
    return process_until(std::move(payload), timer.C, [] { throw JobTimedOut(); });
  }

  // process() that gives up when ctx is done (tunny's ProcessCtx) and
  // rethrows ctx.err() (canceled() or deadline_exceeded()); interrupt() as
  // process_timeout. A ctx that is already done fails at once without
  // taking a worker. Blocks, throws otherwise as process().
  Out process_ctx(const Context& ctx, In payload) {
    detail::PoolQueued queued(queued_);
    if (std::exception_ptr err = ctx.err()) std::rethrow_exception(err);
    RecvChan<Empty> done = ctx.done();  // nil when ctx can never end: plain waiting
    return process_until(std::move(payload), done, [&ctx] {
      std::exception_ptr err = ctx.err();
      std::rethrow_exception(err ? err : canceled());  // done is closed only with err set
    });
  }

  // Callers inside process*() right now: waiting for a worker or being
  // served (tunny's QueueLength). A sample.
  std::int64_t queue_length() const noexcept { return queued_.load(std::memory_order_relaxed); }

  // Grows or shrinks the pool to n workers (tunny's SetSize), under load if
  // need be. New workers start at once. Removed workers (the most recently
  // added ones) finish the job they are bound to, if any, run terminate()
  // and are destroyed before set_size returns; no job is lost, callers
  // waiting for a worker are served by the others (or wait for a later
  // set_size if n is 0). Blocks for that: a goroutine waits with "chan
  // receive" per removed worker, and concurrent set_size()/close() calls
  // wait their turn ("sync.Mutex.Lock"). Throws PoolClosed after close(),
  // std::invalid_argument when the factory returns null, whatever it throws
  // (workers made so far stay), std::bad_alloc.
  void set_size(std::size_t n) {
    std::lock_guard lock(mu_);
    if (closed_) throw PoolClosed();
    resize_locked(n);
  }

  // The number of workers (tunny's GetSize). Never blocks.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

  // Stops all workers (each finishes its current job, then terminate()
  // runs) and waits for them, then closes the pool: callers waiting for a
  // worker and all later process*() calls throw PoolClosed, set_size()
  // throws PoolClosed. Idempotent; a concurrent close() returns once the
  // first one finished. Blocks as set_size(0).
  void close() {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    resize_locked(0);
    req_chan_.close();
  }

 private:
  void start(std::size_t n) {
    std::lock_guard lock(mu_);
    try {
      resize_locked(n);
    } catch (...) {
      closed_ = true;
      resize_locked(0);
      throw;
    }
  }

  // Stages (1)-(3) of the notes, each also listening to `stop` (a timer's or
  // a context's channel); give_up() throws.
  template <class StopChan, class GiveUp>
  Out process_until(In&& payload, const StopChan& stop, GiveUp give_up) {
    Slot* slot = nullptr;
    bool open = false;
    auto got_worker = [&](Slot* s, bool ok) {
      slot = s;
      open = ok;
    };
    if (goro::select(goro::recv(req_chan_, got_worker), goro::recv(stop)) == 1) {
      give_up();
    }
    if (!open) throw PoolClosed();
    // Bound: the worker exists until we took the result or interrupted it.
    if (goro::select(goro::send(slot->job_chan(), detail::PoolBox<In>(std::move(payload))), goro::recv(stop)) == 1) {
      slot->interrupt_from_caller();
      give_up();
    }
    // Our own reference: once the result is handed over, the worker may be
    // removed and deleted while this select still relocks the channel.
    Chan<detail::PoolResult<Out>> ret = slot->ret_chan();
    std::optional<detail::PoolResult<Out>> result;
    auto got_result = [&](detail::PoolResult<Out> r) { result.emplace(std::move(r)); };
    if (goro::select(goro::recv(ret, got_result), goro::recv(stop)) == 1) {
      slot->interrupt_from_caller();
      give_up();
    }
    return result->take();
  }

  // Under mu_.
  void resize_locked(std::size_t n) {
    while (slots_.size() < n) {
      std::unique_ptr<Worker> w = make_worker_();
      if (!w) throw std::invalid_argument("goro::Pool: the worker factory returned null");
      auto slot = std::make_unique<Slot>(std::move(w), req_chan_);
      slots_.reserve(slots_.size() + 1);
      Slot* s = slot.get();
      goro::go([s] { s->run(); });  // no goroutine: the slot is freed, nothing changed
      slots_.push_back(std::move(slot));
      size_.store(slots_.size(), std::memory_order_relaxed);
    }
    if (slots_.size() > n) {
      // tunny's SetSize: stop them all, then wait for each.
      for (std::size_t i = n; i < slots_.size(); ++i) slots_[i]->stop();
      for (std::size_t i = n; i < slots_.size(); ++i) slots_[i]->join();
      slots_.resize(n);
      size_.store(n, std::memory_order_relaxed);
    }
  }

  // Written by every caller: a line of its own, away from req_chan_, which
  // every caller reads.
  alignas(64) std::atomic<std::int64_t> queued_{0};
  alignas(64) Chan<Slot*> req_chan_ = make_chan<Slot*>();
  std::atomic<std::size_t> size_{0};
  Mutex mu_;                                  // guards the fields below
  std::vector<std::unique_ptr<Slot>> slots_;  // workers, oldest first
  bool closed_ = false;
  std::function<Out(In)> fn_;  // NewFunc's function, shared by its workers
  WorkerFactory make_worker_;
};

}  // namespace goro
