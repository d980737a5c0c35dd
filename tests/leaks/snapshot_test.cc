// Grouping dumps into snapshots, format detection, and diffs.
#include "snapshot.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "diff.h"
#include "input.h"
#include "leaks_test_support.h"

namespace goro_leaks {
namespace {

using leaks_test::fixture;

Snapshot load_text(const std::string& text, Similarity s = Similarity::kIgnoreArgs) {
  std::istringstream in(text);
  return load_snapshot(in, "test", s);
}

Snapshot load_fixture(const std::string& name, Similarity s = Similarity::kIgnoreArgs) {
  std::istringstream in(fixture(name));
  return load_snapshot(in, name, s);
}

// count of each group, keyed by "<state>|<first user function>".
std::map<std::string, std::int64_t> shape(const Snapshot& s, bool with_state) {
  std::map<std::string, std::int64_t> out;
  for (const Group& g : s.groups) {
    const Frame* f = g.telling_frame();
    std::string where = f != nullptr ? f->function : "-";
    out[(with_state ? g.state + "|" : "") + where] += g.count;
  }
  return out;
}

TEST(Snapshot, GroupsIdenticalStacksLargestFirst) {
  Snapshot s = load_fixture("go119_stack_all.txt");
  EXPECT_EQ(s.format, Format::kGoText);
  EXPECT_EQ(s.total, 6);
  ASSERT_EQ(s.groups.size(), 4u);
  EXPECT_EQ(s.groups[0].count, 3);
  EXPECT_EQ(s.groups[0].state, "chan receive");
  EXPECT_EQ(s.groups[0].ids, (std::vector<std::uint64_t>{6, 7, 8}));
  ASSERT_TRUE(s.groups[0].created_by.has_value());
  EXPECT_EQ(s.groups[0].created_by->function, "main.main");
  for (std::size_t i = 1; i < s.groups.size(); ++i) EXPECT_EQ(s.groups[i].count, 1);
  std::int64_t locked = 0;
  for (const Group& g : s.groups) locked += g.locked_to_thread;
  EXPECT_EQ(locked, 1);
}

TEST(Snapshot, TheGoroutineThatDumpedIsMarked) {
  Snapshot s = load_fixture("go119_stack_all.txt");
  int marked = 0;
  for (const Group& g : s.groups) {
    if (g.took_dump) {
      ++marked;
      EXPECT_EQ(g.state, "running");
      EXPECT_EQ(g.frames.front().function, "main.main");
    }
  }
  EXPECT_EQ(marked, 1);
}

constexpr const char* kThreeWorkers =
    "goroutine 1 [chan receive]:\n"
    "main.worker(0xc000010000)\n\t/src/w.go:10 +0x1d\n"
    "created by main.main\n\t/src/w.go:30 +0x2f\n\n"
    "goroutine 2 [chan receive, 3 minutes]:\n"
    "main.worker(0xc000020000)\n\t/src/w.go:10 +0x1d\n"
    "created by main.main\n\t/src/w.go:30 +0x2f\n\n"
    "goroutine 3 [chan receive, 7 minutes]:\n"
    "main.worker(0xc000020000)\n\t/src/w.go:12 +0x3d\n"
    "created by main.main\n\t/src/w.go:30 +0x2f\n";

TEST(Snapshot, SimilarityModesGroupFromStrictToLoose) {
  EXPECT_EQ(load_text(kThreeWorkers, Similarity::kExact).groups.size(), 3u);
  Snapshot args = load_text(kThreeWorkers, Similarity::kIgnoreArgs);
  ASSERT_EQ(args.groups.size(), 2u);
  EXPECT_EQ(args.groups[0].count, 2);
  EXPECT_EQ(args.groups[0].min_wait_minutes, 0);
  EXPECT_EQ(args.groups[0].max_wait_minutes, 3);
  Snapshot fn = load_text(kThreeWorkers, Similarity::kFunction);
  ASSERT_EQ(fn.groups.size(), 1u);
  EXPECT_EQ(fn.groups[0].count, 3);
  EXPECT_EQ(fn.groups[0].max_wait_minutes, 7);
  EXPECT_EQ(parse_similarity("ignore-args"), Similarity::kIgnoreArgs);
  EXPECT_EQ(parse_similarity("loose"), std::nullopt);
}

// Memory follows distinct stacks: 300,000 goroutines over three stacks
// are three groups, each keeping at most kMaxGroupIds IDs.
TEST(Snapshot, ManyGoroutinesFewGroups) {
  std::string dump;
  for (int i = 1; i <= 300000; ++i) {
    dump += "goroutine " + std::to_string(i) + " [select]:\nmain.loop" + std::to_string(i % 3) +
            "(0x" + std::to_string(i) + ")\n\t/src/l.go:" + std::to_string(10 + i % 3) + " +0x1\n\n";
  }
  Snapshot s = load_text(dump);
  EXPECT_EQ(s.total, 300000);
  ASSERT_EQ(s.groups.size(), 3u);
  for (const Group& g : s.groups) {
    EXPECT_EQ(g.count, 100000);
    EXPECT_EQ(g.ids.size(), Group::kMaxGroupIds);
    EXPECT_TRUE(std::is_sorted(g.ids.begin(), g.ids.end()));
  }
}

// The same program's debug=2, debug=1 and profile.proto dumps give the same
// groups; profile.proto's runtime frames name the same states.
TEST(Snapshot, FormatsOfOneDumpAgree) {
  for (const char* cause : {"mutex-never-unlocked", "send-no-receiver", "blocked-without-timeout", "http-body-not-closed"}) {
    SCOPED_TRACE(cause);
    std::string dir = std::string("causes/") + cause + "/";
    Snapshot text = load_fixture(dir + "snap3.txt");
    Snapshot proto = load_fixture(dir + "snap3.pb.gz");
    Snapshot debug1 = load_fixture(dir + "snap3.debug1.txt");
    EXPECT_EQ(proto.format, Format::kProfileProto);
    EXPECT_EQ(debug1.format, Format::kGoDebug1);
    EXPECT_EQ(text.total, proto.total);
    EXPECT_EQ(text.total, debug1.total);
    // The goroutine writing the profile differs between the three writes.
    auto without_writer = [](std::map<std::string, std::int64_t> m) {
      std::erase_if(m, [](const auto& kv) { return kv.first.find("main.(*harness).") != std::string::npos; });
      return m;
    };
    EXPECT_EQ(without_writer(shape(text, false)), without_writer(shape(proto, false)));
    EXPECT_EQ(without_writer(shape(text, false)), without_writer(shape(debug1, false)));
    for (const Group& g : proto.groups) {
      if (g.count < 10) continue;  // the leak: its state must be known
      EXPECT_TRUE(g.state_inferred) << g.key;
      EXPECT_TRUE(shape(text, true).count(g.state + "|" + g.telling_frame()->function)) << g.key;
    }
  }
}

TEST(Snapshot, InfersGoWaitReasonsFromRuntimeFrames) {
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1"}), "chan receive");
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.chansend", "runtime.chansend1"}), "chan send");
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.selectgo"}), "select");
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.block"}), "select (no cases)");
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1", "sync.runtime_SemacquireMutex"}),
            "semacquire");
  EXPECT_EQ(infer_state({"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait"}), "IO wait");
  EXPECT_EQ(infer_state({"runtime.gopark", "time.Sleep"}), "sleep");
  EXPECT_EQ(infer_state({"main.spin"}), "");
}

// Go 1.26's goroutineleak profile holds only goroutines the GC proved
// blocked forever: every group of it is leaked.
TEST(Snapshot, GoroutineLeakProfileMarksEveryGroupLeaked) {
  Snapshot s = load_text(
      "goroutineleak profile: total 3\n"
      "2 @ 0x437556 0x40619b 0x4b4bbb 0x461161\n"
      "#\t0x4b4bba\tmain.recvForever+0x1a\t/tmp/gref/main.go:12\n"
      "\n"
      "1 @ 0x437556 0x44600c 0x4b4bf7 0x461161\n"
      "#\t0x4b4bf6\tmain.main.func2+0x16\t/tmp/gref/main.go:24\n");
  EXPECT_EQ(s.format, Format::kGoDebug1);
  EXPECT_TRUE(s.leak_profile);
  ASSERT_EQ(s.groups.size(), 2u);
  for (const Group& g : s.groups) EXPECT_EQ(g.leaked, g.count);
  EXPECT_FALSE(load_fixture("go119_debug1.txt").leak_profile);
}

TEST(DetectFormat, TellsTheFormatsApart) {
  EXPECT_EQ(detect_format("\x1f\x8b\x08\x00"), Format::kProfileProto);
  EXPECT_EQ(detect_format(std::string("\x0a\x02\x08\x01\x12\x00", 6)), Format::kProfileProto);
  EXPECT_EQ(detect_format("goroutine profile: total 3\n3 @ 0x1\n"), Format::kGoDebug1);
  EXPECT_EQ(detect_format("goroutineleak profile: total 3\n3 @ 0x1\n"), Format::kGoDebug1);
  EXPECT_EQ(detect_format("goroutine 1 [running]:\nmain.main()\n"), Format::kGoText);
  EXPECT_EQ(detect_format("panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n"), Format::kGoText);
  EXPECT_EQ(detect_format("SIGQUIT: quit\nPC=0x0 m=0 sigcode=0\n\ngoroutine 0 [idle]:\n"), Format::kGoText);
}

TEST(DetectFormat, SaysWhatTheInputIsWhenItIsNoDump) {
  auto message = [](std::string_view head) {
    try {
      detect_format(head);
    } catch (const ParseError& e) {
      EXPECT_EQ(e.line(), 1u);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("").find("empty input"), std::string::npos);
  EXPECT_NE(message("<!DOCTYPE html><html><body>/debug/pprof/</body></html>").find("HTML page"), std::string::npos);
  EXPECT_NE(message("heap profile: 1: 2 [3: 4] @ heap/1048576\n").find("a heap profile"), std::string::npos);
  EXPECT_NE(message("hello world\n").find("starts \"hello world\""), std::string::npos);
  EXPECT_NE(message(std::string("\x7f\x45\x4c\x46\x02\x01\x01\x00", 8)).find("binary data"), std::string::npos);
}

TEST(Input, StreamsThroughTheDetectionBuffer) {
  // Larger than the 64 KiB head, so the prefix and the rest are joined.
  std::string dump;
  for (int i = 1; i <= 5000; ++i) {
    dump += "goroutine " + std::to_string(i) + " [sleep]:\ntime.Sleep(0x3b9aca00)\n\t/usr/lib/go/src/runtime/time.go:195 +0x135\n"
            "main.tick()\n\t/src/t.go:9 +0x25\n\n";
  }
  ASSERT_GT(dump.size(), 64u * 1024 * 2);
  Snapshot s = load_text(dump);
  EXPECT_EQ(s.total, 5000);
  ASSERT_EQ(s.groups.size(), 1u);
  EXPECT_EQ(s.groups[0].first_user_frame()->function, "main.tick");
}

TEST(Input, MissingFileIsAnInputErrorNamingIt) {
  try {
    load_snapshot("/no/such/dump.txt", Similarity::kIgnoreArgs);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dump.txt"), std::string::npos) << e.what();
  }
}

TEST(Diff, FindsTheGrowingGroupNewAndVanished) {
  std::vector<Snapshot> snaps;
  for (int i = 1; i <= 3; ++i) snaps.push_back(load_fixture("causes/growth/snap" + std::to_string(i) + ".txt"));
  Diff d = diff_snapshots(snaps);
  ASSERT_EQ(d.totals.size(), 3u);
  EXPECT_EQ(d.totals[2] - d.totals[0], 20 - 8 + 3);
  ASSERT_FALSE(d.series.empty());
  const GroupSeries& top = d.series.front();
  EXPECT_EQ(top.counts, (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_TRUE(top.monotonic_growth);
  EXPECT_EQ(top.growth, 20);
  EXPECT_EQ(snaps[top.snapshot].groups[top.group].first_user_frame()->function, "main.handleQuote.func1");
  auto find = [&](const std::string& fn) -> const GroupSeries* {
    for (const GroupSeries& s : d.series) {
      const Frame* f = snaps[s.snapshot].groups[s.group].first_user_frame();
      if (f != nullptr && f->function == fn) return &s;
    }
    return nullptr;
  };
  const GroupSeries* shrinking = find("main.exportShard");
  ASSERT_NE(shrinking, nullptr);
  EXPECT_EQ(shrinking->counts, (std::vector<std::int64_t>{8, 4, 0}));
  EXPECT_TRUE(shrinking->vanished);
  EXPECT_FALSE(shrinking->monotonic_growth);
  const GroupSeries* fresh = find("main.cacheWarmer");
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->is_new);
  EXPECT_EQ(fresh->counts, (std::vector<std::int64_t>{0, 0, 3}));
  const GroupSeries* steady = find("main.queueWorker");
  ASSERT_NE(steady, nullptr);
  EXPECT_EQ(steady->growth, 0);
  EXPECT_FALSE(steady->monotonic_growth || steady->is_new || steady->vanished);
}

}  // namespace
}  // namespace goro_leaks
