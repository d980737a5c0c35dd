// The small formatters behind goro's dumps, checked byte for byte against
// Go's own (text/tabwriter as runtime/pprof sets it up, strconv.Quote as
// labelMap.String uses it) when `go` is installed, and against fixed
// expectations always; and the cleaning of demangled C++ names.
//
// White-box: calls goro::detail functions from src/debug.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "debug/labels.h"
#include "debug/symbolizer.h"
#include "debug/tabwriter.h"
#include "support/go_tools.h"

namespace {

using goro::detail::append_go_quoted;
using goro::detail::append_tab_aligned;
using goro::detail::display_name;

std::string aligned(const std::string& text) {
  std::string out;
  append_tab_aligned(out, text);
  return out;
}

std::string quoted(const std::string& s) {
  std::string out;
  append_go_quoted(out, s);
  return out;
}

TEST(TabWriter, PadsEachColumnToTheWidestCellPlusOneRoundedToEight) {
  // "#" -> 8; "0x4b4bba" (8) + 1 -> 16: one tab each; the third column's
  // widest cell is 38 chars + 1 -> 40, so a 20-char cell needs 3 tabs.
  std::string in =
      "#\t0x4b4bba\tmain.recvForever+0x1a\t/tmp/a.go:11\n"
      "#\t0x4ab0b4\truntime/pprof.writeRuntimeProfile+0xb4\t/tmp/b.go:723\n";
  std::string want =
      "#\t0x4b4bba\tmain.recvForever+0x1a\t\t\t/tmp/a.go:11\n"
      "#\t0x4ab0b4\truntime/pprof.writeRuntimeProfile+0xb4\t/tmp/b.go:723\n";
  EXPECT_EQ(aligned(in), want);
}

TEST(TabWriter, LinesWithoutTabsEndBlocks) {
  std::string in =
      "#\t0x1\tshort+0x1\ta:1\n"
      "\n"
      "#\t0x2\ta_much_longer_function_name+0x2\tb:2\n";
  // Each block is aligned on its own: the first keeps one tab.
  EXPECT_EQ(aligned(in), in.substr(0, in.find('\n') + 1) + "\n" + "#\t0x2\ta_much_longer_function_name+0x2\tb:2\n");
}

TEST(TabWriter, ShorterLinesStopTheColumnsTheyLack) {
  // The second line has only the "#" cell terminated: it ends the block of
  // the second and third columns.
  std::string in =
      "#\t0x1\tf+0x1\ta:1\n"
      "#\t0x2\n"
      "#\t0x3\tfunction_with_a_long_name+0x3\tb:2\n";
  std::string got = aligned(in);
  EXPECT_EQ(got, in);
}

TEST(TabWriter, WidthsCountRunesNotBytes) {
  std::string in = "#\t\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\tx\n#\tabcdefghi\ty\n";
  // Column two is "abcdefghi" (9) + 1 -> 16 wide: one tab after each cell.
  // Counting the 16 bytes of the accented cell instead would make it 24,
  // and "abcdefghi" would need two tabs.
  EXPECT_EQ(aligned(in), in);
}

TEST(GoQuote, EscapesLikeStrconvQuote) {
  EXPECT_EQ(quoted("plain"), "\"plain\"");
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted("tab\tnl\ncr\r"), "\"tab\\tnl\\ncr\\r\"");
  EXPECT_EQ(quoted(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(quoted("bad\xff"), "\"bad\\xff\"");
}

TEST(GoQuote, LabelSetsPrintLikeLabelMapString) {
  EXPECT_EQ(goro::detail::labels_to_go_string({{"b", "2"}, {"a", "x\"y"}}), "{\"a\":\"x\\\"y\", \"b\":\"2\"}");
  EXPECT_EQ(goro::detail::labels_to_go_string({}), "{}");
}

TEST(DisplayName, DropsParametersQualifiersReturnTypesAndTags) {
  EXPECT_EQ(display_name("app::run(int, char**)"), "app::run");
  EXPECT_EQ(display_name("void app::Server::serve<int>(int) const"), "app::Server::serve<int>");
  EXPECT_EQ(display_name("app::Handler::operator()() const"), "app::Handler::operator()");
  EXPECT_EQ(display_name("goro::debug::stack[abi:cxx11](bool)"), "goro::debug::stack");
  EXPECT_EQ(display_name("app::work(int) [clone .cold]"), "app::work");
  EXPECT_EQ(display_name("app::T::operator new(unsigned long)"), "app::T::operator new");
  EXPECT_EQ(display_name("(anonymous namespace)::f()"), "(anonymous namespace)::f");
  // Long template argument lists shrink to <...>, as Go writes [...].
  EXPECT_EQ(display_name("void goro::select<goro::detail::RecvCase<long, app::{lambda(long, bool)#1}>, "
                         "goro::detail::SendCase<long, app::{lambda()#2}> >(goro::detail::RecvCase<long, "
                         "app::{lambda(long, bool)#1}>&&, goro::detail::SendCase<long, app::{lambda()#2}>&&)"),
            "goro::select<...>");
  EXPECT_EQ(display_name("goro::Chan<std::pair<int, int> >::recv() const"), "goro::Chan<std::pair<int, int> >::recv");
  EXPECT_EQ(display_name("app::V::operator<(app::V const&) const"), "app::V::operator<");
  EXPECT_EQ(display_name("app::V::operator<<(int)"), "app::V::operator<<");
  // clang's lambda in a const member function.
  EXPECT_EQ(display_name("ns::S::run() const::{lambda()#1}::operator()() const"),
            "ns::S::run() const::{lambda()#1}::operator()");
}

// --- byte for byte against Go -------------------------------------------------

// Runs a Go program on input in a scratch module; its output.
std::string run_go(const std::string& program, const std::string& input) {
  goro_test::GoScratch scratch("fmt");
  return goro_test::go_run(scratch, program, input);
}

TEST(AgainstGo, TabWriterMatchesRuntimePprofsTabwriter) {
  if (!goro_test::have_go()) GTEST_SKIP() << "go is not installed";
  // A profile-like text: a header, groups with frames of varied widths,
  // unknown frames with fewer cells, blank lines, and UTF-8.
  std::string text =
      "goroutine profile: total 7\n"
      "3 @ 0x437556 0x40619b\n"
      "#\t0x4b4bba\tmain.recvForever+0x1a\t/tmp/gref/main.go:11\n"
      "\n"
      "1 @ 0x42d196 0x45c7e5\n"
      "#\t0x45c7e4\truntime/pprof.runtime_goroutineProfileWithLabels+0x24\t/usr/lib/go/src/runtime/mprof.go:846\n"
      "#\t0x4ab0b4\truntime/pprof.writeRuntimeProfile+0xb4\t/usr/lib/go/src/runtime/pprof/pprof.go:723\n"
      "#\t0x7f0000001234\n"
      "#\t0x4b4f24\tmain.main+0x324\t/tmp/gref/main.go:26\n"
      "#\t0x4b4f25\tcaf\xc3\xa9::caf\xc3\xa9+0x1\t/tmp/x.cc:1\n"
      "\n"
      "1 @ 0x1\n"
      "# labels: {\"k\":\"v\"}\n"
      "#\t0x55e472f29cdf\tmain::{lambda}::operator()::{lambda}::operator()+0x27\t/tmp/t1/main.cc:17\n"
      "#\t0x55e472f29cdf\tstd::invoke<main()::<lambda()>::<lambda()>&>+0x27\t/usr/include/c++/12/functional:110\n"
      "\n";
  std::string program = R"(package main

import (
	"io"
	"os"
	"text/tabwriter"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	tw := tabwriter.NewWriter(os.Stdout, 1, 8, 1, '\t', 0)
	tw.Write(in)
	tw.Flush()
}
)";
  EXPECT_EQ(aligned(text), run_go(program, text));
}

TEST(AgainstGo, QuotingMatchesStrconvQuote) {
  if (!goro_test::have_go()) GTEST_SKIP() << "go is not installed";
  std::vector<std::string> samples = {"plain", "a\"b\\c", "tab\tnl\ncr\r\a\b\f\v", std::string("\x01\x1f\x7f", 3),
                                      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad\xff\xfe", "/api/users?id=1"};
  std::string input, mine;
  for (const std::string& s : samples) {
    input += s + '\0';
    mine += quoted(s) + "\n";
  }
  std::string program = R"(package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	for _, s := range bytes.Split(in, []byte{0}) {
		if len(s) == 0 {
			continue
		}
		fmt.Printf("%q\n", string(s))
	}
}
)";
  EXPECT_EQ(mine, run_go(program, input));
}

}  // namespace
