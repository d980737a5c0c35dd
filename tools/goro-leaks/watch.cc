// Polling: one snapshot per tick, the diff recomputed from all snapshots
// (groups only: cheap), one line printed per poll so a log stays readable;
// the progress bar is drawn with '\r' only on a terminal.
#include "watch.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ctime>
#include <thread>

#include "go_text_parser.h"

namespace goro_leaks {
namespace {

using Clock = std::chrono::steady_clock;

void print_poll(std::ostream& out, const std::vector<Snapshot>& snaps) {
  Diff d = diff_snapshots(snaps);
  const Snapshot& last = snaps.back();
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  fmt::print(out, "{:%H:%M:%S}  poll {:>3}  {:>8} goroutines  {:>+7} since first  {:>5} groups", local, snaps.size(),
             last.total, last.total - snaps.front().total, last.groups.size());
  if (!d.series.empty() && d.series.front().growth > 0) {
    const GroupSeries& s = d.series.front();
    const Group& g = snaps[s.snapshot].groups[s.group];
    const Frame* f = g.telling_frame();
    fmt::print(out, "  fastest: {:+} {}", s.growth, f != nullptr ? f->function : "?");
  }
  out << std::endl;
}

// Sleeps until `until`, redrawing "[#####.....] 40% of 5m0s" every 200 ms.
void wait_with_progress(Clock::time_point start, Clock::time_point until, std::chrono::nanoseconds duration,
                        bool draw, std::ostream& progress) {
  constexpr int kWidth = 30;
  while (Clock::now() < until) {
    if (draw) {
      double done = std::min(1.0, std::chrono::duration<double>(Clock::now() - start) / duration);
      int filled = static_cast<int>(done * kWidth);
      fmt::print(progress, "\r[{}{}] {:3.0f}%", std::string(filled, '#'), std::string(kWidth - filled, '.'), done * 100);
      progress.flush();
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(200), until - Clock::now()));
  }
  if (draw) progress << "\r" << std::string(kWidth + 8, ' ') << "\r" << std::flush;
}

}  // namespace

Analysis watch(const std::string& url, const WatchOptions& o, std::ostream& out, std::ostream& progress) {
  std::vector<Snapshot> snaps;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + o.duration;
  std::string last_error;
  for (Clock::time_point next = start;;) {
    wait_with_progress(start, next, o.duration, o.progress, progress);
    try {
      snaps.push_back(load_snapshot(url, o.similarity, o.fetch));
      print_poll(out, snaps);
    } catch (const std::exception& e) {  // InputError, ParseError: report, go on
      last_error = e.what();
      fmt::print(progress, "goro-leaks: poll failed: {}\n", last_error);
    }
    // The next tick of the schedule after now: a poll slower than --every
    // skips ticks instead of firing late ones back to back.
    Clock::time_point now = Clock::now();
    next = start + o.every * ((now - start) / o.every + 1);
    if (next > end && snaps.size() >= 2) break;
    if (now > end + o.every * 3) break;  // the endpoint keeps failing
  }
  if (snaps.size() < 2) {
    throw InputError("watch " + url + ": " + std::to_string(snaps.size()) + " successful poll(s), need two" +
                     (last_error.empty() ? "" : " (last error: " + last_error + ")"));
  }
  return analyze(std::move(snaps), o.similarity, o.classify);
}

}  // namespace goro_leaks
