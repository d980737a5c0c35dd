// goro-leaks' reader of profile.proto goroutine profiles (debug=0): goro's
// own, real Go's (when `go` is installed), and broken input.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "profile_reader.h"
#include "support/go_tools.h"
#include "support/goroutine_expect.h"

namespace leaks_test {
[[gnu::noinline]] void park_on(goro::Chan<int> ch) { ch.recv(); }
}  // namespace leaks_test

namespace {

using goro_leaks::ParseError;
using goro_leaks::StackGroup;

std::vector<StackGroup> read(const std::string& bytes, goro_leaks::ProfileInfo* info = nullptr) {
  std::istringstream in(bytes);
  return goro_leaks::read_profile_proto(in, info);
}

bool has_frame(const StackGroup& g, const std::string& fn) {
  for (const auto& f : g.frames) {
    if (f.function == fn) return true;
  }
  return false;
}

TEST(ProfileReader, ReadsGorosDebug0) {
  std::string bytes;
  goro::run([&] {
    goro::Chan<int> ch = goro::make_chan<int>();
    std::vector<std::uint64_t> ids;
    goro::with_labels({{"job", "ingest"}}, [&] {
      for (int i = 0; i < 3; ++i) ids.push_back(goro_test::go_with_id([ch] { leaks_test::park_on(ch); }));
    });
    for (std::uint64_t id : ids) ASSERT_TRUE(goro_test::parks_with(id, "chan receive"));
    std::ostringstream out;
    goro::debug::write_goroutine_profile(out, 0);
    bytes = out.str();
    ch.close();
  });
  ASSERT_TRUE(goro_leaks::looks_gzipped(bytes));
  goro_leaks::ProfileInfo info;
  std::vector<StackGroup> gs = read(bytes, &info);
  EXPECT_EQ(info.sample_type, "goroutine");
  EXPECT_GT(info.time_nanos, 0);
  std::int64_t sum = 0;
  const StackGroup* parked = nullptr;
  for (const StackGroup& g : gs) {
    sum += g.count;
    if (has_frame(g, "leaks_test::park_on")) parked = &g;
  }
  EXPECT_EQ(sum, info.total);
  ASSERT_NE(parked, nullptr);
  EXPECT_EQ(parked->count, 3);
  EXPECT_EQ(parked->labels, (std::vector<std::pair<std::string, std::string>>{{"job", "ingest"}}));
  EXPECT_FALSE(parked->pcs.empty());
  EXPECT_NE(parked->frames[0].where.file.find("profile_reader_test.cc"), std::string::npos);
}

TEST(ProfileReader, ReadsRealGosDebug0) {
  if (!goro_test::have_go()) GTEST_SKIP() << "go is not installed";
  goro_test::GoScratch scratch("leaks_proto");
  std::string file = scratch.dir + "/g.pb.gz";
  std::string out = goro_test::go_run(scratch, R"(package main

import (
	"context"
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func parkOn(ch chan int) { <-ch }

func main() {
	ch := make(chan int)
	pprof.Do(context.Background(), pprof.Labels("job", "ingest"), func(context.Context) {
		for i := 0; i < 4; i++ {
			go parkOn(ch)
		}
	})
	pprof.Do(context.Background(), pprof.Labels("bytes", string([]byte{0xff, 0xfe})), func(context.Context) {
		go parkOn(ch)
	})
	time.Sleep(100 * time.Millisecond)
	f, _ := os.Create(")" + file + R"(")
	pprof.Lookup("goroutine").WriteTo(f, 0)
	f.Close()
}
)");
  std::ifstream in(file, std::ios::binary);
  ASSERT_TRUE(in.good()) << out;
  goro_leaks::ProfileInfo info;
  std::vector<StackGroup> gs = goro_leaks::read_profile_proto(in, &info);
  EXPECT_EQ(info.sample_type, "goroutine");
  using Labels = std::vector<std::pair<std::string, std::string>>;
  const StackGroup* parked = nullptr;
  const StackGroup* non_utf8 = nullptr;  // labelled with bytes that are not UTF-8
  for (const StackGroup& g : gs) {
    if (has_frame(g, "main.parkOn") && g.labels == Labels{{"job", "ingest"}}) parked = &g;
    if (has_frame(g, "main.parkOn") && g.labels == Labels{{"bytes", "\xff\xfe"}}) non_utf8 = &g;
  }
  ASSERT_NE(parked, nullptr);
  EXPECT_EQ(parked->count, 4);
  ASSERT_NE(non_utf8, nullptr);
  EXPECT_EQ(non_utf8->count, 1);
}

// A hand-made profile.proto: just enough of protobuf's wire format to write
// the profiles these tests need (field numbers from src/debug/profile.proto).
struct Pb {
  std::string bytes;
  void varint(std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) bytes += static_cast<char>(v | 0x80);
    bytes += static_cast<char>(v);
  }
  Pb& num(int field, std::int64_t v) {
    varint(static_cast<std::uint64_t>(field) << 3);
    varint(static_cast<std::uint64_t>(v));
    return *this;
  }
  Pb& str(int field, const std::string& s) {
    varint(static_cast<std::uint64_t>(field) << 3 | 2);
    varint(s.size());
    bytes += s;
    return *this;
  }
  Pb& msg(int field, const Pb& m) { return str(field, m.bytes); }
};

// A goroutine profile of `sample_type`/count: samples of the given counts,
// each at one location in main.f (/a.go:7), the first labelled k=<label>.
std::string hand_made_profile(const std::string& sample_type, const std::vector<std::int64_t>& counts,
                              const std::string& label = "v") {
  Pb p;
  p.msg(1, Pb().num(1, 1).num(2, 2));  // sample_type {type: sample_type, unit: "count"}
  for (std::size_t i = 0; i < counts.size(); ++i) {
    Pb sample;
    sample.num(1, 1).num(2, counts[i]);
    if (i == 0) sample.msg(3, Pb().num(1, 3).num(2, 4));  // label {key: "k", str: label}
    p.msg(2, sample);
  }
  p.msg(4, Pb().num(1, 1).num(3, 0x4b4b7a).msg(4, Pb().num(1, 1).num(2, 7)));  // location 1: main.f line 7
  p.msg(5, Pb().num(1, 1).num(2, 5).num(4, 6));  // function 1: main.f in /a.go
  for (const std::string& s : {std::string(), sample_type, std::string("count"), std::string("k"), label,
                               std::string("main.f"), std::string("/a.go")}) {
    p.str(6, s);
  }
  p.num(9, 1700000000000000000);  // time_nanos
  return p.bytes;
}

// Go 1.26's goroutineleak profile (GOEXPERIMENT=goroutineleakprofile,
// /debug/pprof/goroutineleak) is a goroutine profile whose sample type is
// "goroutineleak": read the same way, the type told.
TEST(ProfileReader, ReadsGo126GoroutineLeakProfiles) {
  goro_leaks::ProfileInfo info;
  std::vector<StackGroup> gs = read(hand_made_profile("goroutineleak", {6, 1}), &info);
  EXPECT_EQ(info.sample_type, "goroutineleak");
  EXPECT_EQ(info.total, 7);
  EXPECT_EQ(info.time_nanos, 1700000000000000000);
  ASSERT_EQ(gs.size(), 2u);
  EXPECT_EQ(gs[0].count, 6);
  EXPECT_EQ(gs[0].pcs, std::vector<std::uint64_t>{0x4b4b7a});
  ASSERT_EQ(gs[0].frames.size(), 1u);
  EXPECT_EQ(gs[0].frames[0].function, "main.f");
  EXPECT_EQ(gs[0].frames[0].where.file, "/a.go");
  EXPECT_EQ(gs[0].frames[0].where.line, 7);
  EXPECT_EQ(gs[0].labels, (std::vector<std::pair<std::string, std::string>>{{"k", "v"}}));
  EXPECT_EQ(read(hand_made_profile("goroutine", {1}), &info).size(), 1u);
  EXPECT_EQ(info.sample_type, "goroutine");
}

// Go writes a string's bytes as they are (a label value need not be UTF-8)
// and reads them back; protobuf's C++ proto3 parser alone would refuse the
// profile ("not a protobuf-encoded profile", found by fuzz_profile_proto).
TEST(ProfileReader, StringsNeedNotBeUtf8) {
  std::vector<StackGroup> gs = read(hand_made_profile("goroutine", {2}, "\xff\xfe"));
  ASSERT_EQ(gs.size(), 1u);
  EXPECT_EQ(gs[0].labels, (std::vector<std::pair<std::string, std::string>>{{"k", "\xff\xfe"}}));
}

TEST(ProfileReader, CountsThatOverflowAreAParseError) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  try {
    read(hand_made_profile("goroutine", {kMax, kMax}));
    ADD_FAILURE() << "no error";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 2^63-1"), std::string::npos) << e.what();
  }
}

TEST(ProfileReader, BrokenInputIsAClearError) {
  auto error_of = [](const std::string& bytes) -> std::string {
    try {
      read(bytes);
    } catch (const ParseError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("").find("not a protobuf-encoded profile"), std::string::npos);
  EXPECT_NE(error_of("garbage, not a profile\xff\xff").find("profile.proto: "), std::string::npos);
  EXPECT_NE(error_of(std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8)).find("cut short"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x1f\x8b\x08\x00garbage", 11)).find("gzip"), std::string::npos);
  // A truncated real profile.
  std::string bytes;
  goro::run([&] {
    std::ostringstream out;
    goro::debug::write_goroutine_profile(out, 0);
    bytes = out.str();
  });
  EXPECT_NE(error_of(bytes.substr(0, bytes.size() / 2)), "");
}

}  // namespace
