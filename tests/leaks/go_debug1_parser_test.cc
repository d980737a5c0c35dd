// goro-leaks' parser of Go's debug=1 goroutine profile text: a real Go 1.19
// profile (checked in under fixtures/), goro's own, Go's label quoting, and
// malformed or cut input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "go_debug1_parser.h"
#include "leaks_test_support.h"

namespace {

using goro_leaks::ParseError;
using goro_leaks::StackGroup;

std::vector<StackGroup> parse(const std::string& text, std::int64_t* total = nullptr) {
  std::istringstream in(text);
  std::vector<StackGroup> out;
  std::int64_t t = goro_leaks::parse_go_debug1(in, [&](StackGroup&& g) { out.push_back(std::move(g)); });
  if (total != nullptr) *total = t;
  return out;
}

using leaks_test::fixture;

TEST(GoDebug1Parser, Go119Profile) {
  std::int64_t total = 0;
  std::vector<StackGroup> gs = parse(fixture("go119_debug1.txt"), &total);
  EXPECT_EQ(total, 6);
  ASSERT_EQ(gs.size(), 4u);
  EXPECT_EQ(gs[0].count, 3);
  EXPECT_EQ(gs[0].pcs.size(), 5u);
  EXPECT_EQ(gs[0].pcs[0], 0x437556u);
  ASSERT_EQ(gs[0].frames.size(), 1u);
  EXPECT_EQ(gs[0].frames[0].function, "main.recvForever");
  EXPECT_EQ(gs[0].frames[0].where.offset, 0x1a);
  EXPECT_EQ(gs[0].frames[0].where.line, 12);
  EXPECT_EQ(gs[0].line, 2u);
  EXPECT_EQ(gs[1].frames.size(), 6u);
  EXPECT_EQ(gs[1].frames[3].function, "runtime/pprof.(*Profile).WriteTo");
  const StackGroup& labelled = gs[3];
  ASSERT_EQ(labelled.labels.size(), 2u);
  EXPECT_EQ(labelled.labels[0].first, "handler");
  EXPECT_EQ(labelled.labels[0].second, "a\"b\tc");
  EXPECT_EQ(labelled.labels[1], (std::pair<std::string, std::string>{"k", "v"}));
  EXPECT_EQ(labelled.frames[1].function, "sync.(*Mutex).lockSlow");
}

TEST(GoDebug1Parser, GorosProfile) {
  std::int64_t total = 0;
  std::vector<StackGroup> gs = parse(fixture("goro_debug1.txt"), &total);
  EXPECT_EQ(total, 5);
  ASSERT_EQ(gs.size(), 3u);
  EXPECT_EQ(gs[0].count, 3);
  EXPECT_EQ(gs[0].frames[0].function, "app::consume");
  EXPECT_EQ(gs[1].labels.size(), 1u);
  EXPECT_EQ(gs[1].frames[0].function, "goro::Mutex::lock_slow");
  EXPECT_EQ(gs[1].frames[3].function, "main::{lambda}::operator()::{lambda}::operator()::{lambda}::operator()");
}

TEST(GoDebug1Parser, UnnamedFramesAndNoGroups) {
  std::vector<StackGroup> gs = parse("goroutine profile: total 1\n1 @ 0x10 0x20\n#\t0xf\n#\t0x1f\tf+0x1\t/a.go:3\n\n");
  ASSERT_EQ(gs.size(), 1u);
  ASSERT_EQ(gs[0].frames.size(), 2u);
  EXPECT_TRUE(gs[0].frames[0].function.empty());
  EXPECT_EQ(gs[0].frames[1].function, "f");
  std::int64_t total = -1;
  EXPECT_TRUE(parse("goroutine profile: total 0\n", &total).empty());
  EXPECT_EQ(total, 0);
}

// Go 1.26's goroutineleak profile (GOEXPERIMENT=goroutineleakprofile,
// /debug/pprof/goroutineleak?debug=1): the same text under its own header.
TEST(GoDebug1Parser, Go126GoroutineLeakProfile) {
  std::int64_t total = 0;
  std::vector<StackGroup> gs = parse(
      "goroutineleak profile: total 6\n"
      "6 @ 0x104235dae 0x1041c1ce6 0x1041c18f6 0x10428dd6a 0x104242ef4\n"
      "#\t0x10428dd69\tapp.(*Server).AggregateResults.func1+0x35\tapp/server.go:37\n"
      "\n",
      &total);
  EXPECT_EQ(total, 6);
  ASSERT_EQ(gs.size(), 1u);
  EXPECT_EQ(gs[0].count, 6);
  EXPECT_EQ(gs[0].pcs.size(), 5u);
  ASSERT_EQ(gs[0].frames.size(), 1u);
  EXPECT_EQ(gs[0].frames[0].function, "app.(*Server).AggregateResults.func1");
  EXPECT_EQ(gs[0].frames[0].where.line, 37);
  // No leaks: just the header.
  EXPECT_TRUE(parse("goroutineleak profile: total 0\n", &total).empty());
  EXPECT_EQ(total, 0);
}

TEST(GoUnquote, HandlesGosEscapes) {
  std::string out;
  ASSERT_TRUE(goro_leaks::go_unquote(R"("a\"b\\c\n\t\x41\u00e9\U0001F600\101")", &out));
  EXPECT_EQ(out, "a\"b\\c\n\tA\xc3\xa9\xf0\x9f\x98\x80" "A");
  EXPECT_FALSE(goro_leaks::go_unquote(R"("bad\q")", &out));
  EXPECT_FALSE(goro_leaks::go_unquote(R"("cut\x4")", &out));
  EXPECT_FALSE(goro_leaks::go_unquote("no quotes", &out));
}

using Bad = leaks_test::BadInput;

class MalformedDebug1 : public ::testing::TestWithParam<Bad> {};

TEST_P(MalformedDebug1, IsAParseErrorWithTheLine) { leaks_test::expect_parse_error(GetParam(), [](const std::string& t) { parse(t); }); }

INSTANTIATE_TEST_SUITE_P(
    GoDebug1Parser, MalformedDebug1,
    ::testing::Values(Bad{"", 0, "no \"goroutine profile"},
                      Bad{"goroutine 1 [running]:\n", 1, "expected \"goroutine profile: total N\""},
                      Bad{"goroutineleak profile: total x\n", 1, "or \"goroutineleak profile: total N\""},
                      Bad{"heap profile: total 1\n", 1, "expected \"goroutine profile: total N\""},
                      Bad{"goroutine profile: total 5\n3 @ 0x1\n#\t0x0\tf+0x1\ta.go:1\n", 3, "total 5 but the groups count 3"},
                      Bad{"goroutine profile: total 1\nx @ 0x1\n", 2, "expected \"<count> @ <pcs>\""},
                      Bad{"goroutine profile: total 1\n1 @ 0xzz\n", 2, "bad pc"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n# labels: {\"k\":\"v\n", 3, "labels must be {...}"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n# labels: {\"k\" \"v\"}\n", 3, "expected ':'"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n# labels: {\"k\":\"\\q\"}\n", 3, "bad escape"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tf\ta.go:1\n", 3, "<function>+0x<offset>"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tf+0x1\ta.go\n", 3, "<file>:<line>"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tf+0x1\n", 3, "without a file:line"},
                      Bad{"goroutine profile: total 1\n#\t0x1\tf+0x1\ta.go:1\n", 2, "outside a group"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\t\n", 3, "without a function"},
                      Bad{"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tf+0x1\t\t\n", 3, "without a file:line"},
                      // Was signed overflow (UBSan) when the counts were summed.
                      Bad{"goroutine profile: total 1\n9223372036854775807 @ 0x1\n\n9223372036854775807 @ 0x2\n", 4,
                          "more than 2^63-1"}));

}  // namespace

namespace {

// Until the libFuzzer targets exist: seeded mutations of real dumps (bytes
// flipped, lines cut, pieces repeated) fed to both text parsers must end in
// a result or a ParseError, never another exception or a crash.
TEST(TextParsersUnderMutation, OnlyEverThrowParseError) {
  std::vector<std::string> seeds = {fixture("go119_debug1.txt"), fixture("goro_debug1.txt"),
                                    fixture("go119_stack_all.txt"), fixture("goro_debug2.txt")};
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char kChars[] = "\t\n :()[]@#{}\"\\+0x1.,";
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = seeds[next() % seeds.size()];
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      std::size_t at = next() % text.size();
      switch (next() % 4) {
        case 0: text[at] = kChars[next() % (sizeof(kChars) - 1)]; break;
        case 1: text.resize(at); break;
        case 2: text.insert(at, text.substr(next() % text.size(), 20)); break;
        default: text.erase(at, 1 + next() % 8); break;
      }
    }
    for (int parser = 0; parser < 2; ++parser) {
      std::istringstream in(text);
      try {
        if (parser == 0) {
          goro_leaks::parse_go_debug1(in, [](StackGroup&&) {});
        } else {
          goro_leaks::parse_go_text(in, [](const goro_leaks::Goroutine&) {});
        }
      } catch (const ParseError&) {
        ++errors;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "parser " << parser << " threw " << e.what() << " on:\n" << text;
        return;
      }
    }
  }
  EXPECT_GT(errors, 0);  // the mutations do break things
}

}  // namespace
