// Goroutine dumps: snapshot(), stack(), write_goroutine_profile(debug=1/2),
// labels, and the same program shape dumped by real Go (when `go` is on
// PATH) compared grammar for grammar.
//
// Every scenario parks goroutines in named [[gnu::noinline]] functions so
// that their frames can be looked for by name, and learns each goroutine's
// ID from inside it (go_with_id), so that headers can be checked exactly.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/go_tools.h"
#include "support/goroutine_expect.h"
#include "support/test_support.h"

namespace dump_test {

[[gnu::noinline]] void wait_for_value(goro::Chan<int> ch) { ch.recv(); }
[[gnu::noinline]] void lock_forever(goro::Mutex* mu) { mu->lock(); }
[[gnu::noinline]] void select_nothing() { goro::select(); }
std::atomic<bool> g_stop_spinning{false};
[[gnu::noinline]] void spin_until_told() {
  volatile std::uint64_t n = 0;
  while (!g_stop_spinning.load(std::memory_order_relaxed)) n = n + 1;
}

}  // namespace dump_test

namespace {

using goro_test::go_with_id;
using goro_test::parks_with;

std::string dump(int debug) {
  std::ostringstream out;
  goro::debug::write_goroutine_profile(out, debug);
  return out.str();
}

// The debug=2 block of goroutine id ("" when absent).
std::string block_of(const std::string& text, std::uint64_t id) {
  std::string head = "goroutine " + std::to_string(id) + " [";
  std::size_t at = text.rfind(head, 0) == 0 ? 0 : text.find("\n" + head);
  if (at == std::string::npos) return "";
  if (at != 0) ++at;
  std::size_t end = text.find("\n\ngoroutine ", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Go's debug=2 grammar: header, then pairs of "function(...)" and
// "\tfile:line[ +0xoff]", then optionally "created by F[ in goroutine N]" and
// its location; blocks separated by one blank line.
::testing::AssertionResult has_go_debug2_grammar(const std::string& text) {
  static const std::regex header(R"(goroutine [0-9]+ \[[^\]]+\]:)");
  static const std::regex function(R"([^\t].*\(.*\))");
  static const std::regex location(R"(\t.+:[0-9]+( \+0x[0-9a-f]+)?)");
  static const std::regex created(R"(created by [^\t].*( in goroutine [0-9]+)?)");
  std::vector<std::string> lines = lines_of(text);
  std::size_t i = 0;
  while (i < lines.size()) {
    if (!std::regex_match(lines[i], header)) return ::testing::AssertionFailure() << "line " << i << ": " << lines[i];
    ++i;
    while (i < lines.size() && !lines[i].empty()) {
      if (lines[i] == "\tgoroutine running on other thread; stack unavailable") {
        ++i;
        continue;
      }
      bool is_created = std::regex_match(lines[i], created);
      if (!is_created && !std::regex_match(lines[i], function)) {
        return ::testing::AssertionFailure() << "line " << i << " is no frame: " << lines[i];
      }
      if (i + 1 >= lines.size() || !std::regex_match(lines[i + 1], location)) {
        return ::testing::AssertionFailure() << "line " << i + 1 << " is no location: "
                                             << (i + 1 < lines.size() ? lines[i + 1] : "<end>");
      }
      i += 2;
    }
    ++i;  // the blank line
  }
  return ::testing::AssertionSuccess();
}

// Go's text/tabwriter columns: in every run of "#\t" lines, the third cell
// starts at the same column, a multiple of 8 past the widest second cell.
::testing::AssertionResult columns_aligned(const std::string& text) {
  auto column_of_third = [](const std::string& line) {
    int col = 0, cells = 0;
    for (char c : line) {
      if (c == '\t') {
        col = (col / 8 + 1) * 8;
        if (++cells == 2) return col;
      } else {
        ++col;
      }
    }
    return -1;
  };
  int block_col = -1;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("#\t", 0) != 0) {
      block_col = -1;
      continue;
    }
    int col = column_of_third(line);
    if (col < 0) continue;
    if (block_col == -1) block_col = col;
    if (col != block_col) return ::testing::AssertionFailure() << "misaligned: " << line;
  }
  return ::testing::AssertionSuccess();
}

TEST(GoroutineDump, Debug2HasEveryParkedGoroutineWithGoWaitReasonAndCreator) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    goro::Mutex mu;
    mu.lock();
    std::uint64_t main_id = goro::id();
    std::uint64_t r = go_with_id([ch] { dump_test::wait_for_value(ch); });
    std::uint64_t l = go_with_id([&mu] { dump_test::lock_forever(&mu); });
    std::uint64_t s = go_with_id([] { dump_test::select_nothing(); });
    ASSERT_TRUE(parks_with(r, "chan receive"));
    ASSERT_TRUE(parks_with(l, "sync.Mutex.Lock"));
    ASSERT_TRUE(parks_with(s, "select (no cases)"));
    std::string text = dump(2);
    EXPECT_TRUE(has_go_debug2_grammar(text)) << text;
    // The caller first, running, with the dump call on top.
    EXPECT_EQ(text.rfind("goroutine " + std::to_string(main_id) + " [running]:\ngoro::debug::write_goroutine_profile(...)\n", 0), 0u)
        << text;
    struct Want {
      std::uint64_t id;
      std::string reason, frame;
    };
    // Channel operations and select are hidden like Go's runtime frames:
    // the receiving function is on top. sync calls stay, as in Go.
    for (const Want& w : {Want{r, "chan receive", "]:\ndump_test::wait_for_value(...)\n"},
                          Want{l, "sync.Mutex.Lock", "]:\ngoro::Mutex::lock_slow(...)\n"},
                          Want{s, "select (no cases)", "]:\ndump_test::select_nothing(...)\n"}}) {
      std::string b = block_of(text, w.id);
      EXPECT_EQ(b.rfind("goroutine " + std::to_string(w.id) + " [" + w.reason + "]:\n", 0), 0u) << b;
      EXPECT_NE(b.find(w.frame), std::string::npos) << b;
      if (w.id == l) {
        EXPECT_NE(b.find("\ndump_test::lock_forever(...)\n"), std::string::npos) << b;
      }
      EXPECT_NE(b.find("\ncreated by "), std::string::npos) << b;
      EXPECT_NE(b.find(" in goroutine " + std::to_string(main_id) + "\n\t"), std::string::npos) << b;
      EXPECT_NE(b.find("goroutine_dump_test.cc:"), std::string::npos) << b;
      // goro's own frames are hidden like Go's runtime frames.
      EXPECT_EQ(b.find("goro::detail::"), std::string::npos) << b;
      EXPECT_EQ(b.find("std::__invoke"), std::string::npos) << b;
    }
    // Others by ID after the caller.
    EXPECT_LT(text.find("goroutine " + std::to_string(r) + " ["), text.find("goroutine " + std::to_string(s) + " ["));
    ch.close();
    mu.unlock();
  });
}

TEST(GoroutineDump, WaitMinutesAppearOnlyFromOneMinute) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::uint64_t r = go_with_id([ch] { dump_test::wait_for_value(ch); });
    ASSERT_TRUE(parks_with(r, "chan receive"));
    std::string b = block_of(dump(2), r);
    EXPECT_EQ(b.rfind("goroutine " + std::to_string(r) + " [chan receive]:\n", 0), 0u) << b;
    auto snap = goro::debug::snapshot();
    for (const auto& g : snap.goroutines) {
      if (g.id == r) {
        EXPECT_LT(g.wait_duration, std::chrono::minutes(1));
      }
    }
    ch.close();
  });
}

TEST(GoroutineDump, StackWithoutAllIsTheCallerOnly) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::uint64_t r = go_with_id([ch] { dump_test::wait_for_value(ch); });
    ASSERT_TRUE(parks_with(r, "chan receive"));
    std::string mine = goro::debug::stack(false);
    EXPECT_EQ(mine.rfind("goroutine " + std::to_string(goro::id()) + " [running]:\ngoro::debug::stack(...)\n", 0), 0u)
        << mine;
    EXPECT_EQ(mine.find("\n\ngoroutine "), std::string::npos) << mine;
    std::string all = goro::debug::stack(true);
    EXPECT_NE(all.find("goroutine " + std::to_string(r) + " [chan receive]:"), std::string::npos) << all;
    EXPECT_TRUE(has_go_debug2_grammar(all)) << all;
    ch.close();
  });
  EXPECT_EQ(goro::debug::stack(false), "");  // a plain thread is no goroutine
}

TEST(GoroutineDump, PlainThreadDumpListsGoroutinesMainFirst) {
  std::atomic<std::uint64_t> main_id{0};
  goro::Chan<int> done = goro::make_chan<int>(1);
  std::string text;
  std::thread t([&] {
    goro_test::eventually([&] { return main_id != 0 && goro_test::parked_as(main_id, "chan receive"); });
    text = dump(2);
    done.send(1);
  });
  goro::run([&] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::uint64_t r = go_with_id([ch] { dump_test::wait_for_value(ch); });
    ASSERT_TRUE(parks_with(r, "chan receive"));
    main_id = goro::id();
    done.recv();
    ch.close();
  });
  t.join();
  // No caller goroutine: main first even though its ID is not the lowest
  // when earlier tests ran goro::run.
  EXPECT_NE(text.find("goroutine "), std::string::npos);
  EXPECT_TRUE(has_go_debug2_grammar(text)) << text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(^goroutine ([0-9]+) \[([^\]]+)\]:)")));
  EXPECT_EQ(m[1].str(), std::to_string(main_id)) << text;
  EXPECT_EQ(m[2].str(), "chan receive") << text;
}

TEST(GoroutineDump, RunningGoroutineIsSampledWhereItSpins) {
  if (goro::maxprocs() < 2) GTEST_SKIP() << "needs a second worker to spin on";
  goro::run([] {
    dump_test::g_stop_spinning = false;
    std::uint64_t spinner = go_with_id([] { dump_test::spin_until_told(); });
    ASSERT_TRUE(goro_test::eventually([&] {
      auto st = goro::detail::goroutine_state(spinner);
      return st && st->status == "running";
    }));
    bool seen = false;
    for (int attempt = 0; attempt < 20 && !seen; ++attempt) {
      for (const auto& g : goro::debug::snapshot().goroutines) {
        if (g.id != spinner || g.status != "running" || !g.stack_available) continue;
        // The innermost frame of our own; inlined std::atomic code may sit
        // above it. Under the sanitizers the loop calls into their runtime,
        // which keeps no frame pointers: the walk from there skips the
        // function it interrupted and goes on with that function's caller.
        auto own = std::find_if(g.stack.begin(), g.stack.end(), [](const goro::debug::Frame& f) {
          return f.function.rfind("std::", 0) != 0 && f.function.rfind("__", 0) != 0;
        });
        if (goro_test::kSanitized && (own == g.stack.end() || own->function != "dump_test::spin_until_told")) {
          // Interrupted inside the sanitizer runtime, whose code uses the
          // frame-pointer register for data: the walk may end at once.
          if (own != g.stack.end()) {
            EXPECT_NE(own->function.find("RunningGoroutineIsSampledWhereItSpins"), std::string::npos) << own->function;
          }
        } else {
          ASSERT_NE(own, g.stack.end());
          EXPECT_EQ(own->function, "dump_test::spin_until_told");
        }
        seen = true;
      }
    }
    dump_test::g_stop_spinning = true;
    // TSan delivers signals only at its own safe points, which a tight loop
    // may never reach within the sampling timeout.
    if (!seen && goro_test::kTsan) GTEST_SKIP() << "the spinning goroutine was never sampled under TSan";
    EXPECT_TRUE(seen);
  });
}

TEST(GoroutineDump, Debug1GroupsCountsSortsAndLabelsLikeGo) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(go_with_id([ch] { dump_test::wait_for_value(ch); }));
    goro::with_labels({{"handler", "/api \"v1\""}, {"tenant", "7"}}, [&] {
      for (int i = 0; i < 2; ++i) ids.push_back(go_with_id([ch] { dump_test::wait_for_value(ch); }));
    });
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "chan receive"));
    std::string text = dump(1);
    // Groups: count, " @ ", the pcs; the labelled group has its own key.
    std::regex group(R"(\n([0-9]+) @( 0x[0-9a-f]+)+\n)");
    std::vector<int> counts;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), group); it != std::sregex_iterator(); ++it) {
      counts.push_back(std::stoi((*it)[1].str()));
    }
    ASSERT_GE(counts.size(), 2u) << text;
    int total = 0;
    for (int c : counts) total += c;
    EXPECT_EQ(text.rfind("goroutine profile: total " + std::to_string(total) + "\n", 0), 0u) << text;
    EXPECT_EQ(counts[0], 5) << text;
    EXPECT_TRUE(std::is_sorted(counts.rbegin(), counts.rend())) << text;
    EXPECT_NE(text.find("\n# labels: {\"handler\":\"/api \\\"v1\\\"\", \"tenant\":\"7\"}\n"), std::string::npos) << text;
    // Frames: "#\t0xpc\tfunction+0xoff\tfile:line", aligned like tabwriter.
    EXPECT_TRUE(std::regex_search(
        text, std::regex(R"(\n#\t0x[0-9a-f]+\t+dump_test::wait_for_value\+0x[0-9a-f]+\t+\S+goroutine_dump_test\.cc:[0-9]+\n)")))
        << text;
    EXPECT_TRUE(columns_aligned(text)) << text;
    EXPECT_EQ(text.find("goro::detail::"), std::string::npos) << text;
    ch.close();
  });
}

TEST(GoroutineDump, BadDebugValueThrows) {
  std::ostringstream out;
  EXPECT_THROW(goro::debug::write_goroutine_profile(out, 3), std::invalid_argument);
  EXPECT_THROW(goro::debug::write_goroutine_profile(out, -1), std::invalid_argument);
}

// A streambuf that counts bytes and remembers the largest single write.
class CountingBuf : public std::streambuf {
 public:
  std::size_t bytes = 0, writes = 0, largest = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += static_cast<std::size_t>(n);
    ++writes;
    largest = std::max(largest, static_cast<std::size_t>(n));
    return n;
  }
  int overflow(int c) override {
    if (c != EOF) ++bytes;
    return c;
  }
};

TEST(GoroutineDump, WritersStreamInChunks) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    goro::WaitGroup started;
    constexpr int kParked = 5000;
    started.add(kParked);
    for (int i = 0; i < kParked; ++i) goro::go([ch, &started] {
      started.done();
      dump_test::wait_for_value(ch);
    });
    started.wait();
    goro::sleep(std::chrono::milliseconds(20));
    CountingBuf buf;
    std::ostream out(&buf);
    goro::debug::write_goroutine_profile(out, 2);
    EXPECT_GT(buf.bytes, std::size_t{kParked} * 100);
    EXPECT_GT(buf.writes, 3u);
    EXPECT_LE(buf.largest, std::size_t{256} << 10) << "one write held most of the dump";
    ch.close();
  });
}

TEST(Labels, WithLabelsAddsRestoresAndIsInherited) {
  goro::run([] {
    EXPECT_TRUE(goro::labels().empty());
    goro::Chan<goro::Labels> seen = goro::make_chan<goro::Labels>(1);
    goro::with_labels({{"b", "2"}, {"a", "1"}}, [&] {
      EXPECT_EQ(goro::labels(), (goro::Labels{{"a", "1"}, {"b", "2"}}));
      goro::with_labels({{"a", "override"}}, [&] {
        EXPECT_EQ(goro::label("a"), "override");
        goro::go([seen] { seen.send(goro::labels()); });
      });
      EXPECT_EQ(goro::label("a"), "1");
    });
    EXPECT_TRUE(goro::labels().empty());
    EXPECT_FALSE(goro::label("a").has_value());
    EXPECT_EQ(seen.recv().value, (goro::Labels{{"a", "override"}, {"b", "2"}}));
  });
}

TEST(Labels, SetLabelsReplacesAndTheLastDuplicateWins) {
  goro::run([] {
    goro::set_labels({{"k", "1"}, {"j", "x"}, {"k", "2"}});
    EXPECT_EQ(goro::labels(), (goro::Labels{{"j", "x"}, {"k", "2"}}));
    goro::set_labels({});
    EXPECT_TRUE(goro::labels().empty());
  });
}

TEST(Labels, WithLabelsRestoresWhenTheFunctionThrows) {
  goro::run([] {
    goro::set_labels({{"keep", "me"}});
    EXPECT_THROW(goro::with_labels({{"tmp", "1"}}, [] { throw std::runtime_error("x"); }), std::runtime_error);
    EXPECT_EQ(goro::labels(), (goro::Labels{{"keep", "me"}}));
    goro::set_labels({});
  });
}

TEST(Labels, PlainThreadLabelsAreInheritedByItsGoroutines) {
  goro::ScopedLabels scope({{"origin", "thread"}});
  goro::Chan<std::optional<std::string>> got = goro::make_chan<std::optional<std::string>>(1);
  goro::go([got] { got.send(goro::label("origin")); });
  EXPECT_EQ(got.recv().value, std::optional<std::string>("thread"));
}

TEST(Labels, SnapshotShowsEachGoroutinesLabels) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::uint64_t a = 0, b = 0;
    goro::with_labels({{"role", "a"}}, [&] { a = go_with_id([ch] { dump_test::wait_for_value(ch); }); });
    goro::with_labels({{"role", "b"}}, [&] { b = go_with_id([ch] { dump_test::wait_for_value(ch); }); });
    ASSERT_TRUE(parks_with(a, "chan receive"));
    ASSERT_TRUE(parks_with(b, "chan receive"));
    std::map<std::uint64_t, goro::Labels> by_id;
    for (auto& g : goro::debug::snapshot().goroutines) by_id[g.id] = g.labels;
    EXPECT_EQ(by_id[a], (goro::Labels{{"role", "a"}}));
    EXPECT_EQ(by_id[b], (goro::Labels{{"role", "b"}}));
    ch.close();
  });
}

TEST(Snapshot, FieldsDescribeEachGoroutine) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::uint64_t main_id = goro::id();
    std::atomic<std::uint64_t> gid{0};
    // Started here (not through go_with_id) so that this line is the
    // creation site.
    goro::go([ch, &gid] {
      gid = goro::id();
      dump_test::wait_for_value(ch);
    });
    ASSERT_TRUE(parks_with(gid, "chan receive"));
    std::uint64_t r = gid;
    goro::sleep(std::chrono::milliseconds(30));
    goro::debug::Snapshot snap = goro::debug::snapshot();
    ASSERT_FALSE(snap.goroutines.empty());
    EXPECT_TRUE(snap.goroutines.front().is_current);
    EXPECT_EQ(snap.goroutines.front().id, main_id);
    EXPECT_TRUE(snap.goroutines.front().is_main);
    EXPECT_EQ(snap.goroutines.front().status, "running");
    bool found = false;
    for (const auto& g : snap.goroutines) {
      if (g.id != r) continue;
      found = true;
      EXPECT_EQ(g.status, "waiting");
      EXPECT_EQ(g.wait_reason, "chan receive");
      EXPECT_GE(g.wait_duration, std::chrono::milliseconds(20));
      EXPECT_EQ(g.creator_id, main_id);
      EXPECT_NE(g.created_by.file.find("goroutine_dump_test.cc"), std::string::npos);
      ASSERT_FALSE(g.stack.empty());
      bool has_frame = false;
      for (const auto& f : g.stack) has_frame |= f.function == "dump_test::wait_for_value";
      EXPECT_TRUE(has_frame);
      EXPECT_TRUE(g.stack_available);
    }
    EXPECT_TRUE(found);
    EXPECT_LE(snap.taken_at, std::chrono::system_clock::now());
    ch.close();
  });
}

// Snapshots race with goroutines that park and resume all the time: every
// goroutine appears once, and a walk torn by a resume is never shown.
TEST(Snapshot, ConcurrentWithPingPongStaysConsistent) {
  goro::run([] {
    std::atomic<bool> stop{false};
    goro::WaitGroup wg;
    constexpr int kPairs = 8;
    for (int i = 0; i < kPairs; ++i) {
      goro::Chan<int> a = goro::make_chan<int>(), b = goro::make_chan<int>();
      wg.add(2);
      goro::go([a, b, &stop, &wg] {
        while (!stop) {
          a.send(1);
          b.recv();
        }
        a.close();
        wg.done();
      });
      goro::go([a, b, &wg] {
        for (int v : a) {
          (void)v;
          b.send(1);
        }
        wg.done();
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(goro_test::kSanitized ? 600 : 300);
    int snapshots = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      goro::debug::Snapshot snap = goro::debug::snapshot();
      std::set<std::uint64_t> ids;
      for (const auto& g : snap.goroutines) {
        EXPECT_TRUE(ids.insert(g.id).second) << "goroutine " << g.id << " twice";
        for (const auto& f : g.stack) EXPECT_NE(f.function.rfind("goro::detail::", 0), 0u) << f.function;
      }
      ++snapshots;
      std::string text = dump(1);
      EXPECT_EQ(text.rfind("goroutine profile: total ", 0), 0u);
    }
    stop = true;
    wg.wait();
    EXPECT_GT(snapshots, 0);
  });
}

// --- the same program in Go --------------------------------------------------

// The Go twin of TwinShape below: three goroutines receiving in a named
// function, two with pprof labels, one in select {}; main dumps debug=1,
// a separator, then debug=2.
constexpr const char* kGoTwin = R"(package main

import (
	"context"
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func waitForValue(ch chan int) { <-ch }

//go:noinline
func selectNothing() { select {} }

func main() {
	ch := make(chan int)
	for i := 0; i < 3; i++ {
		go waitForValue(ch)
	}
	pprof.Do(context.Background(), pprof.Labels("handler", "/api \"v1\"", "tenant", "7"), func(context.Context) {
		for i := 0; i < 2; i++ {
			go waitForValue(ch)
		}
	})
	go selectNothing()
	time.Sleep(200 * time.Millisecond)
	p := pprof.Lookup("goroutine")
	p.WriteTo(os.Stdout, 1)
	os.Stdout.WriteString("=====\n")
	p.WriteTo(os.Stdout, 2)
}
)";

// goro's side of the twin: the same goroutines; debug=1, "=====", debug=2
// on stderr.
GORO_TEST_SCENARIO(twin_shape) {
  goro::run([] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(go_with_id([ch] { dump_test::wait_for_value(ch); }));
    goro::with_labels({{"handler", "/api \"v1\""}, {"tenant", "7"}}, [&] {
      for (int i = 0; i < 2; ++i) ids.push_back(go_with_id([ch] { dump_test::wait_for_value(ch); }));
    });
    ids.push_back(go_with_id([] { dump_test::select_nothing(); }));
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
      if (!goro_test::eventually([&] { return goro_test::parked_as(ids[i], "chan receive"); })) std::_Exit(3);
    }
    if (!goro_test::eventually([&] { return goro_test::parked_as(ids.back(), "select (no cases)"); })) std::_Exit(4);
    std::string text = dump(1) + "=====\n" + dump(2);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    ch.close();
  });
  std::_Exit(0);
}


// What both dumps should agree on, extracted from a debug=1 + debug=2 pair.
struct Shape {
  std::string total_line;
  std::vector<int> group_counts;
  std::vector<std::string> label_lines;
  std::multiset<std::string> reasons;  // of the non-dumping goroutines
  int created_by_lines = 0;
};

Shape shape_of(const std::string& debug1, const std::string& debug2) {
  Shape s;
  std::vector<std::string> l1 = lines_of(debug1);
  s.total_line = l1.empty() ? "" : l1[0];
  static const std::regex group(R"(([0-9]+) @( 0x[0-9a-f]+)+)");
  std::smatch m;
  for (const std::string& line : l1) {
    if (std::regex_match(line, m, group)) s.group_counts.push_back(std::stoi(m[1].str()));
    if (line.rfind("# labels: ", 0) == 0) s.label_lines.push_back(line);
  }
  static const std::regex header(R"(goroutine [0-9]+ \[([^\]]+)\]:)");
  for (const std::string& line : lines_of(debug2)) {
    if (std::regex_match(line, m, header) && m[1].str() != "running") s.reasons.insert(m[1].str());
    if (line.rfind("created by ", 0) == 0) ++s.created_by_lines;
  }
  return s;
}

TEST(GoTwin, SameProgramShapeGivesTheSameDumpShapeAsGo) {
  if (!goro_test::have_go()) GTEST_SKIP() << "go is not installed";
  goro_test::GoScratch scratch("dump_twin");
  std::string go_out = goro_test::go_run(scratch, kGoTwin);
  std::size_t sep = go_out.find("=====\n");
  ASSERT_NE(sep, std::string::npos) << go_out;
  Shape go = shape_of(go_out.substr(0, sep), go_out.substr(sep + 6));

  // goro's side runs in a fresh process: goroutines other tests left
  // behind would change the counts.
  goro_test::ChildResult child = goro_test::run_scenario("twin_shape");
  ASSERT_TRUE(child.exited && child.exit_code == 0) << child.err;
  std::size_t our_sep = child.err.find("=====\n");
  ASSERT_NE(our_sep, std::string::npos) << child.err;
  std::string d1 = child.err.substr(0, our_sep), d2 = child.err.substr(our_sep + 6);
  Shape ours = shape_of(d1, d2);
  EXPECT_EQ(ours.total_line, go.total_line) << d1 << "\n--- Go ---\n" << go_out;
  EXPECT_EQ(ours.group_counts, go.group_counts) << d1 << "\n--- Go ---\n" << go_out;
  EXPECT_EQ(ours.label_lines, go.label_lines) << d1 << "\n--- Go ---\n" << go_out;
  EXPECT_EQ(ours.reasons, go.reasons) << d2 << "\n--- Go ---\n" << go_out;
  EXPECT_EQ(ours.created_by_lines, go.created_by_lines) << d2 << "\n--- Go ---\n" << go_out;
  EXPECT_TRUE(has_go_debug2_grammar(d2)) << d2;
  EXPECT_TRUE(has_go_debug2_grammar(go_out.substr(sep + 6))) << go_out;
  EXPECT_TRUE(columns_aligned(d1)) << d1;
  EXPECT_TRUE(columns_aligned(go_out.substr(0, sep))) << go_out;
}

TEST(GoTwin, GoToolPprofReadsTheDebug0Profile) {
  if (!goro_test::have_go()) GTEST_SKIP() << "go is not installed";
  goro_test::GoScratch scratch("dump_pprof");
  std::string file = scratch.dir + "/goroutine.pb.gz";
  goro::run([&] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(go_with_id([ch] { dump_test::wait_for_value(ch); }));
    for (std::uint64_t id : ids) ASSERT_TRUE(parks_with(id, "chan receive"));
    std::ofstream out(file, std::ios::binary);
    goro::debug::write_goroutine_profile(out, 0);
    out.close();
    ch.close();
  });
  std::string top = goro_test::go_pprof(scratch, "-top", file);
  EXPECT_NE(top.find("Type: goroutine"), std::string::npos) << top;
  EXPECT_TRUE(std::regex_search(top, std::regex(R"(\s4\s+[0-9.]+%\s+dump_test::wait_for_value\n)")))
      << top;
  std::string traces = goro_test::go_pprof(scratch, "-traces", file);
  EXPECT_NE(traces.find("dump_test::wait_for_value"), std::string::npos) << traces;
}

}  // namespace
