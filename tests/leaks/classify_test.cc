// The leak taxonomy on dumps of real Go programs (tests/leaks/go): each
// program leaks goroutines for one cause, in three rounds. When Go is
// installed the dumps are made afresh by tests/leaks/go/gen_fixtures.sh;
// the checked-in copies (tests/leaks/fixtures/causes) are classified too.
#include "classify.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis.h"
#include "input.h"
#include "support/go_tools.h"

namespace goro_leaks {
namespace {

struct Expected {
  std::string dir, cause, function;
};

std::vector<Expected> expected_rows() {
  std::ifstream in(std::string(GORO_LEAKS_FIXTURES) + "/causes/expected.tsv");
  std::vector<Expected> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Expected e;
    if (std::getline(fields, e.dir, '\t') && std::getline(fields, e.cause, '\t') && std::getline(fields, e.function)) {
      rows.push_back(e);
    }
  }
  return rows;
}

// Where each set of dumps lives: the checked-in copies, and fresh ones.
std::vector<std::string> dump_roots() {
  static std::vector<std::string> roots = [] {
    std::vector<std::string> r{std::string(GORO_LEAKS_FIXTURES) + "/causes"};
    if (!goro_test::have_go()) return r;
    std::string out = ::testing::TempDir() + "goro_leak_causes_" + std::to_string(getpid());
    std::string cmd = "bash '" GORO_LEAKS_GO_PROGRAMS "/gen_fixtures.sh' '" + out + "' >'" + out + ".log' 2>&1";
    if (std::system(cmd.c_str()) == 0) {
      r.push_back(out);
    } else {
      std::ifstream log(out + ".log");
      std::stringstream text;
      text << log.rdbuf();
      ADD_FAILURE() << "gen_fixtures.sh failed:\n" << text.str();
    }
    return r;
  }();
  return roots;
}

ClassifyOptions with_source() {
  ClassifyOptions o;
  o.source_roots = {GORO_LEAKS_GO_PROGRAMS};
  return o;
}

Analysis analyze_files(const std::vector<std::string>& files, const ClassifyOptions& o = with_source()) {
  std::vector<Snapshot> snaps;
  for (const std::string& f : files) snaps.push_back(load_snapshot(f, Similarity::kIgnoreArgs));
  return analyze(std::move(snaps), Similarity::kIgnoreArgs, o);
}

std::string where(const Group& g) {
  const Frame* f = g.telling_frame();
  return f != nullptr ? f->function : "";
}

std::string describe(const Analysis& a) {
  std::ostringstream out;
  for (const Finding& f : a.findings) {
    const Group& g = a.snapshots.back().groups[f.group];
    out << "  " << verdict_name(f.verdict) << " " << cause_id(f.cause) << " x" << g.count << " [" << g.state << "] "
        << where(g) << "\n";
  }
  return out.str();
}

// The finding for the group whose first user frame is `function`.
const Finding* finding_at(const Analysis& a, const std::string& function) {
  for (const Finding& f : a.findings) {
    if (where(a.snapshots.back().groups[f.group]) == function) return &f;
  }
  return nullptr;
}

class Causes : public ::testing::Test {
 protected:
  // Runs check(root, row) for every dump set and cause.
  template <class Check>
  void for_each_cause(Check check) {
    std::vector<Expected> rows = expected_rows();
    ASSERT_GE(rows.size(), 13u) << "expected.tsv";
    for (const std::string& root : dump_roots()) {
      for (const Expected& row : rows) {
        SCOPED_TRACE(root + "/" + row.dir);
        check(root + "/" + row.dir + "/", row);
      }
    }
  }
};

TEST_F(Causes, ThreeSnapshotsNameTheCauseAndProveTheLeak) {
  for_each_cause([](const std::string& dir, const Expected& row) {
    Analysis a = analyze_files({dir + "snap1.txt", dir + "snap2.txt", dir + "snap3.txt"});
    if (row.cause == "none") {
      for (const Finding& f : a.findings) {
        EXPECT_EQ(f.verdict, Verdict::kOk) << describe(a);
      }
      return;
    }
    const Finding* f = finding_at(a, row.function);
    ASSERT_NE(f, nullptr) << describe(a);
    EXPECT_EQ(cause_id(f->cause), row.cause) << describe(a);
    EXPECT_EQ(f->verdict, Verdict::kLeak) << describe(a);
    EXPECT_FALSE(f->explanation.empty());
    EXPECT_FALSE(f->fix.empty());
    EXPECT_FALSE(f->evidence.empty());
    EXPECT_FALSE(f->source_line.empty() && row.function.rfind("main.", 0) == 0) << "source not found";
    // Nothing else leaks but the parts of the same cause (net/http's loops).
    for (const Finding& other : a.findings) {
      if (other.verdict == Verdict::kLeak) {
        EXPECT_EQ(cause_id(other.cause), row.cause) << describe(a);
      }
    }
  });
}

TEST_F(Causes, OneSnapshotNamesTheCauseOfASuspect) {
  for_each_cause([](const std::string& dir, const Expected& row) {
    Analysis a = analyze_files({dir + "snap3.txt"});
    if (row.cause == "none" || row.cause == "endless-loop") {
      // A running goroutine in one picture is not a loop; idle workers are no leak.
      for (const Finding& f : a.findings) {
        EXPECT_EQ(f.verdict, Verdict::kOk) << describe(a);
      }
      return;
    }
    const Finding* f = finding_at(a, row.function);
    ASSERT_NE(f, nullptr) << describe(a);
    EXPECT_EQ(cause_id(f->cause), row.cause) << describe(a);
    bool certain = row.cause == "nil-channel-send" || row.cause == "nil-channel-receive";
    EXPECT_EQ(f->verdict, certain ? Verdict::kLeak : Verdict::kSuspect) << describe(a);
  });
}

// profile.proto carries no wait reasons; the runtime frames stand in for
// them. It cannot tell a nil channel from a live one (both park in
// chanrecv/chansend), so those two read as the plain channel causes.
TEST_F(Causes, ProfileProtoNamesTheSameCauses) {
  for_each_cause([](const std::string& dir, const Expected& row) {
    Analysis a = analyze_files({dir + "snap3.pb.gz"});
    if (row.cause == "none" || row.cause == "endless-loop") return;
    const Finding* f = finding_at(a, row.function);
    ASSERT_NE(f, nullptr) << describe(a);
    if (row.cause == "nil-channel-send" || row.cause == "nil-channel-receive") {
      // Read as a live channel: which channel cause depends on the line.
      std::string got(cause_id(f->cause));
      bool send = row.cause == "nil-channel-send";
      EXPECT_TRUE(got == (send ? "send-no-receiver" : "receive-no-sender") || got == "producer-consumer") << describe(a);
    } else {
      EXPECT_EQ(cause_id(f->cause), row.cause) << describe(a);
    }
    EXPECT_EQ(f->verdict, Verdict::kSuspect) << describe(a);
  });
}

// Without the source, the stack alone still names every cause whose wait
// says it; the ones that need the line (a range loop, ctx.Done()) fall
// back to the nearest plain cause.
TEST_F(Causes, WithoutSourceTheStackAloneDecides) {
  for_each_cause([](const std::string& dir, const Expected& row) {
    Analysis a = analyze_files({dir + "snap1.txt", dir + "snap2.txt", dir + "snap3.txt"}, ClassifyOptions{});
    if (row.cause == "none") return;
    const Finding* f = finding_at(a, row.function);
    ASSERT_NE(f, nullptr) << describe(a);
    EXPECT_EQ(f->verdict, Verdict::kLeak) << describe(a);
    EXPECT_TRUE(f->source_line.empty());
    if (row.dir == "context-never-cancelled") {
      EXPECT_EQ(cause_id(f->cause), "blocked-without-timeout");
    } else if (row.dir == "producer-consumer-producer-quit") {
      EXPECT_EQ(cause_id(f->cause), "receive-no-sender");
    } else if (row.dir == "producer-consumer-consumer-quit") {
      EXPECT_EQ(cause_id(f->cause), "send-no-receiver");  // a closure of its creator
    } else {
      EXPECT_EQ(cause_id(f->cause), row.cause) << describe(a);
    }
  });
}

// One text dump, analysed alone.
Analysis analyze_text(const std::string& text) {
  std::istringstream in(text);
  std::vector<Snapshot> snaps{load_snapshot(in, "text", Similarity::kIgnoreArgs)};
  return analyze(std::move(snaps), Similarity::kIgnoreArgs, {});
}

// Go marks goroutines its GC proved unreachable "(leaked)" (Go 1.26's
// goroutineleak profile): proof enough on its own.
TEST(Classify, GoLeakedMarkIsALeak) {
  Analysis a = analyze_text(
      "goroutine 7 [chan send (leaked)]:\n"
      "main.worker(0xc000010000)\n\t/src/w.go:10 +0x1d\n"
      "created by main.main in goroutine 1\n\t/src/w.go:30 +0x2f\n");
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].verdict, Verdict::kLeak);
  EXPECT_NE(a.findings[0].evidence.front().find("(leaked)"), std::string::npos);
}

// Age alone makes a suspect: Go prints ", N minutes" for long waits.
TEST(Classify, OldWaitsAreSuspects) {
  Analysis a = analyze_text(
      "goroutine 7 [chan receive, 42 minutes]:\n"
      "main.worker(0xc000010000)\n\t/src/w.go:10 +0x1d\n"
      "created by main.main\n\t/src/w.go:30 +0x2f\n");
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].verdict, Verdict::kSuspect);
  EXPECT_EQ(a.findings[0].cause, Cause::kReceiveNoSender);
  EXPECT_NE(a.findings[0].evidence.front().find("42 minutes"), std::string::npos);
}

// goro's own dumps: goro::Mutex, goro::WaitGroup and C++ functions.
TEST(Classify, GoroDumpsUseTheSameTaxonomy) {
  Analysis a = analyze_text(
      "goroutine 12 [sync.Mutex.Lock, 9 minutes]:\n"
      "goro::Mutex::lock()\n\t/src/goro/src/sync/mutex.cc:40 +0x55\n"
      "app::Cache::get()\n\t/src/app/cache.cc:17 +0x2a\n"
      "created by app::serve in goroutine 1\n\t/src/app/server.cc:88 +0x91\n");
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].cause, Cause::kMutexNeverUnlocked);
  EXPECT_EQ(where(a.snapshots[0].groups[0]), "app::Cache::get");
}

}  // namespace
}  // namespace goro_leaks
