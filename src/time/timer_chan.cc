// Channels of time: after, tick, Timer, Ticker (Go's time package on top of
// runtime timers).
//
// A TimerState couples one runtime Timer with a channel of capacity 1 that
// reports len/cap 0 (Go 1.23's synchronous timer channels). When the timer
// fires, its callback (on a worker's scheduler stack or the timer thread:
// it must not block) sends the time without blocking; a tick nobody has
// received yet makes it drop the new one, as Go's tickers do.
//
// Go 1.23 guarantees that no value prepared before stop() or reset()
// returns is received after. Here: `mu` orders the callback's delivery
// against stop/reset; a firing delivers only if it belongs to the current
// arming (its deadline is armed_when, or later for a ticker), and stop/reset
// discard a value already delivered but not received.
//
// Ownership: a Timer/Ticker object owns its state; stop + delete_timer_sync
// in the destructor guarantee that no callback still runs on it. after() and
// tick() states have no owner object: after's callback frees its state when
// it fires; tick's frees it once the channel has no other handle.
//
// Lock order: TimerState::mu, then a timer heap's lock or the channel's lock.
#include <sched.h>

#include <atomic>

#include "chan/hchan.h"
#include "goro/error.h"
#include "goro/time.h"
#include "runtime/clock.h"
#include "runtime/runtime_lock.h"
#include "runtime/timer.h"

namespace goro::detail {

class TimerState {
 public:
  TimerState(TimerFunc fn, std::int64_t period_ns)
      : chan_(chan_make(&elem_type_of<goro::Time>, 1)) {
    chan_->timer_chan = true;
    rt_.fn = fn;
    rt_.arg = this;
    rt_.period = period_ns;
  }
  ~TimerState() { chan_release(chan_); }
  TimerState(const TimerState&) = delete;
  TimerState& operator=(const TimerState&) = delete;

  RecvChan<goro::Time> channel() {
    chan_retain(chan_);
    return RecvChan<goro::Time>(AdoptChan{}, ChanRef(chan_));
  }

  // Arms the timer to fire first at now + ns (under no lock).
  void start(std::int64_t ns) {
    mu_.lock();
    arm_locked(ns);
    mu_.unlock();
  }

  // Disarms; returns whether a firing was prevented (pending, or delivered
  // but not received: that value is discarded).
  bool stop() {
    mu_.lock();
    bool prevented = disarm_locked();
    mu_.unlock();
    return prevented;
  }

  bool reset(std::int64_t ns, std::int64_t period_ns) {
    mu_.lock();
    bool prevented = disarm_locked();
    rt_.period = period_ns;
    arm_locked(ns);
    mu_.unlock();
    return prevented;
  }

  // Owner destruction: no callback may run on this state afterwards.
  void stop_for_destruction() {
    stop();
    delete_timer_sync(&rt_);
  }

  // The callbacks. Owned timers (Timer, Ticker) and the unowned ones
  // (after, tick) differ only in what happens after delivery.
  static void fired_owned(Timer* t, void* arg, std::int64_t fired_when) {
    static_cast<TimerState*>(arg)->deliver(fired_when);
    t->inflight.fetch_sub(1, std::memory_order_release);  // last touch
  }
  static void fired_after(Timer*, void* arg, std::int64_t fired_when) {
    auto* s = static_cast<TimerState*>(arg);
    s->deliver(fired_when);
    delete s;  // out of every heap, and nobody else refers to it
  }
  static void fired_tick(Timer* t, void* arg, std::int64_t fired_when) {
    auto* s = static_cast<TimerState*>(arg);
    if (s->chan_->refs.load(std::memory_order_acquire) == 1 &&
        !s->dying_.exchange(true, std::memory_order_acq_rel)) {
      // Only our own reference is left: nobody can receive again. The
      // ticker was re-armed before this call; take it out, let a concurrent
      // firing of it finish, and free it. Two firings may run at once (a
      // worker and the timer thread): the one that sets dying_ frees, the
      // other only delivers (to nobody) and leaves.
      delete_timer(t);
      while (t->inflight.load(std::memory_order_acquire) != 1) sched_yield();
      delete s;
      return;
    }
    s->deliver(fired_when);
    t->inflight.fetch_sub(1, std::memory_order_release);
  }

 private:
  void arm_locked(std::int64_t ns) {
    std::int64_t now = nanotime();
    rt_.when = deadline_after(now, ns > 0 ? ns : 0);
    armed_when_ = rt_.when;
    armed_ = true;
    add_timer(&rt_);
  }

  bool disarm_locked() {
    bool pending = armed_;
    armed_ = false;
    delete_timer(&rt_);
    return drain_locked() || pending;
  }

  // Discards a delivered, unreceived value. Under mu_.
  bool drain_locked() {
    chan_->lock.lock();
    bool had = chan_->count() > 0;
    if (had) {
      RecvStorage<goro::Time> scratch;
      buffer_take(chan_, scratch.bytes);
    }
    chan_->lock.unlock();
    return had;
  }

  void deliver(std::int64_t fired_when) {
    mu_.lock();
    bool current = armed_ && (rt_.period > 0 ? fired_when >= armed_when_ : fired_when == armed_when_);
    if (current) {
      if (rt_.period == 0) armed_ = false;
      goro::Time now = std::chrono::steady_clock::now();
      chan_send(chan_, &now, /*block=*/false);  // full: an unreceived tick, drop this one
    }
    mu_.unlock();
  }

  Timer rt_;
  ChanCore* chan_;  // one reference, ours
  RuntimeLock mu_;
  bool armed_ = false;
  std::int64_t armed_when_ = 0;
  std::atomic<bool> dying_{false};  // tick(): a firing is freeing the state
};

RecvChan<goro::Time> after_ns(std::int64_t ns) {
  auto* s = new TimerState(&TimerState::fired_after, 0);
  RecvChan<goro::Time> c = s->channel();
  s->start(ns);
  return c;
}

RecvChan<goro::Time> tick_ns(std::int64_t ns) {
  if (ns <= 0) return {};  // Go: Tick returns nil for d <= 0
  auto* s = new TimerState(&TimerState::fired_tick, ns);
  RecvChan<goro::Time> c = s->channel();
  s->start(ns);
  return c;
}

}  // namespace goro::detail

namespace goro {

Timer::Timer(std::int64_t ns, int)
    : state_(std::make_unique<detail::TimerState>(&detail::TimerState::fired_owned, 0)) {
  C = state_->channel();
  state_->start(ns);
}

Timer::~Timer() { state_->stop_for_destruction(); }

bool Timer::stop() { return state_->stop(); }

bool Timer::reset_ns(std::int64_t ns) { return state_->reset(ns, 0); }

Ticker::Ticker(std::int64_t ns, int) {
  if (ns <= 0) throw Error("non-positive interval for NewTicker");
  state_ = std::make_unique<detail::TimerState>(&detail::TimerState::fired_owned, ns);
  C = state_->channel();
  state_->start(ns);
}

Ticker::~Ticker() { state_->stop_for_destruction(); }

void Ticker::stop() { state_->stop(); }

void Ticker::reset_ns(std::int64_t ns) {
  if (ns <= 0) throw Error("non-positive interval for Ticker.Reset");
  state_->reset(ns, ns);
}

}  // namespace goro
