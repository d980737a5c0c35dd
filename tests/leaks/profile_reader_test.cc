// goro-leaks' reader of profile.proto goroutine profiles (debug=0): goro's
// own, real Go's (when `go` is installed), and broken input.
#include <gtest/gtest.h>
#include <goro/goro.h>

#include <fstream>
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
  const StackGroup* parked = nullptr;
  for (const StackGroup& g : gs) {
    if (has_frame(g, "main.parkOn")) parked = &g;
  }
  ASSERT_NE(parked, nullptr);
  EXPECT_EQ(parked->count, 4);
  EXPECT_EQ(parked->labels, (std::vector<std::pair<std::string, std::string>>{{"job", "ingest"}}));
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
