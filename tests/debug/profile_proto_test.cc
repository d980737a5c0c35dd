// The debug=0 goroutine profile writer (src/debug/profile_proto.h): a
// gzipped pprof profile.proto shaped like Go's
// pprof.Lookup("goroutine").WriteTo(w, 0).
//
// The stacks here are real: return addresses captured inside this file's
// noinline functions, so the writer symbolizes them against this binary's
// DWARF as it would a goroutine's. Each test decodes what was written (zlib,
// then the generated perftools::profiles::Profile) and checks the profile's
// meaning -- names, files, lines, counts, labels -- not its bytes. When `go`
// is on PATH, `go tool pprof` must read the file and report the same.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "debug/profile.pb.h"
#include "debug/profile_proto.h"

namespace profile_proto_test {

using Stack = std::vector<std::uintptr_t>;
using Labels = std::vector<std::pair<std::string, std::string>>;

// Keeps the compiler from turning a call into a tail call (which would
// take the caller's frame, and its return address, off the stack).
inline void keep(const Stack& s) { asm volatile("" : : "r"(s.data()) : "memory"); }

// A return address inside the caller: the stack entry of the call site.
[[gnu::noinline]] std::uintptr_t return_address() {
  auto pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  asm volatile("" ::: "memory");
  return pc;
}

// The source lines of the calls whose return addresses the stacks hold.
int g_recv_line, g_consumer_line, g_send_line, g_producer_line, g_inner_line, g_outer_line;

// Stack of a goroutine "blocked in recv_value, called from consumer":
// {return address in recv_value, return address in consumer}.
[[gnu::noinline]] Stack recv_value() {
  Stack s;
  s.push_back(return_address()); g_recv_line = __LINE__;
  s.push_back(reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
  keep(s);
  return s;
}
[[gnu::noinline]] Stack consumer() {
  Stack s = recv_value(); g_consumer_line = __LINE__;
  keep(s);
  return s;
}

[[gnu::noinline]] Stack send_value() {
  Stack s;
  s.push_back(return_address()); g_send_line = __LINE__;
  s.push_back(reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
  keep(s);
  return s;
}
[[gnu::noinline]] Stack producer() {
  Stack s = send_value(); g_producer_line = __LINE__;
  keep(s);
  return s;
}

// An inlined call: one address, two frames (inlined_step inside
// physical_step).
[[gnu::always_inline]] inline std::uintptr_t inlined_step() {
  std::uintptr_t pc = return_address(); g_inner_line = __LINE__;
  return pc;
}
[[gnu::noinline]] Stack physical_step() {
  Stack s;
  s.push_back(inlined_step()); g_outer_line = __LINE__;
  keep(s);
  return s;
}

// What a running goroutine's sample starts with: an exact pc, here the
// entry of this function.
[[gnu::noinline]] void running_now() { asm volatile("" ::: "memory"); }

}  // namespace profile_proto_test

// A function with a name goro hides (is_runtime_frame: goro::detail::*), as
// the entry trampoline at the bottom of every goroutine's stack.
namespace goro::detail {
[[gnu::noinline]] profile_proto_test::Stack profile_test_trampoline() {
  profile_proto_test::Stack s;
  s.push_back(profile_proto_test::return_address());
  profile_proto_test::keep(s);
  return s;
}
}  // namespace goro::detail

namespace {

using namespace profile_proto_test;
namespace pb = perftools::profiles;
using goro::detail::ProfileSample;

constexpr std::int64_t kTime = 1'700'000'000'123'456'789;

std::string write(const std::vector<ProfileSample>& samples) {
  std::stringstream out;
  goro::detail::write_goroutine_proto(out, samples, kTime);
  EXPECT_TRUE(out.good());
  return out.str();
}

std::string gunzip(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);  // gzip only
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string raw;
  std::array<char, 4096> buf;
  int ret = Z_OK;
  while (ret == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = buf.size();
    ret = inflate(&zs, Z_NO_FLUSH);
    raw.append(buf.data(), buf.size() - zs.avail_out);
  }
  EXPECT_EQ(ret, Z_STREAM_END) << "truncated or corrupt gzip stream";
  EXPECT_EQ(zs.avail_in, 0u) << "bytes after the gzip trailer";
  inflateEnd(&zs);
  return raw;
}

// A decoded profile with lookups by id, checking ids as it goes.
struct Decoded {
  pb::Profile p;

  explicit Decoded(const std::string& gz) {
    EXPECT_GE(gz.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f) << "gzip magic";
    EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b) << "gzip magic";
    EXPECT_TRUE(p.ParseFromString(gunzip(gz)));
  }

  const std::string& str(std::int64_t i) const {
    EXPECT_GE(i, 0);
    EXPECT_LT(i, p.string_table_size());
    return p.string_table(static_cast<int>(i));
  }
  // ids are index + 1, as pprof's own writer numbers them.
  const pb::Location& location(std::uint64_t id) const {
    EXPECT_GE(id, 1u);
    EXPECT_LE(id, static_cast<std::uint64_t>(p.location_size()));
    const pb::Location& l = p.location(static_cast<int>(id - 1));
    EXPECT_EQ(l.id(), id);
    return l;
  }
  const pb::Function& function(std::uint64_t id) const {
    const pb::Function& f = p.function(static_cast<int>(id - 1));
    EXPECT_EQ(f.id(), id);
    return f;
  }
  const pb::Mapping& mapping(std::uint64_t id) const {
    const pb::Mapping& m = p.mapping(static_cast<int>(id - 1));
    EXPECT_EQ(m.id(), id);
    return m;
  }
  // The function names of a sample's stack, innermost first (inlined
  // frames expanded), as `go tool pprof -traces` lists them.
  std::vector<std::string> names(const pb::Sample& s) const {
    std::vector<std::string> out;
    for (std::uint64_t id : s.location_id()) {
      for (const pb::Line& line : location(id).line()) out.push_back(str(function(line.function_id()).name()));
    }
    return out;
  }
  std::vector<std::pair<std::string, std::string>> labels(const pb::Sample& s) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const pb::Label& l : s.label()) {
      EXPECT_EQ(l.num(), 0);
      out.emplace_back(str(l.key()), str(l.str()));
    }
    return out;
  }
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void expect_goroutine_count_types(const Decoded& d) {
  ASSERT_EQ(d.p.sample_type_size(), 1);
  EXPECT_EQ(d.str(d.p.sample_type(0).type()), "goroutine");
  EXPECT_EQ(d.str(d.p.sample_type(0).unit()), "count");
  EXPECT_EQ(d.str(d.p.period_type().type()), "goroutine");
  EXPECT_EQ(d.str(d.p.period_type().unit()), "count");
  EXPECT_EQ(d.p.period(), 1);
  EXPECT_EQ(d.p.time_nanos(), kTime);
  ASSERT_GE(d.p.string_table_size(), 1);
  EXPECT_EQ(d.p.string_table(0), "");
}

// The scenario most tests share: 3 goroutines in consumer (labelled), 7 in
// producer, 2 whose stack is goro's own frames only.
struct Scenario {
  Stack consumer_stack = consumer();
  Stack producer_stack = producer();
  Stack runtime_stack = goro::detail::profile_test_trampoline();
  Labels consumer_labels{{"job", "ingest"}, {"shard", "7"}};
  std::vector<ProfileSample> samples;

  Scenario() {
    samples.push_back({3, consumer_stack.data(), consumer_stack.size(), false, &consumer_labels});
    samples.push_back({7, producer_stack.data(), producer_stack.size(), false, nullptr});
    samples.push_back({2, runtime_stack.data(), runtime_stack.size(), false, nullptr});
  }
};

TEST(ProfileProto, IsGzippedProfileWithGoroutineCountSampleType) {
  Scenario sc;
  Decoded d(write(sc.samples));
  expect_goroutine_count_types(d);
  EXPECT_EQ(d.p.sample_size(), 3);
  for (const pb::Sample& s : d.p.sample()) EXPECT_EQ(s.value_size(), 1);
}

TEST(ProfileProto, SamplesAreOrderedByCountLargestFirst) {
  Scenario sc;
  Decoded d(write(sc.samples));
  ASSERT_EQ(d.p.sample_size(), 3);
  EXPECT_EQ(d.p.sample(0).value(0), 7);
  EXPECT_EQ(d.p.sample(1).value(0), 3);
  EXPECT_EQ(d.p.sample(2).value(0), 2);
}

TEST(ProfileProto, StacksNameTheDemangledFunctionsInnermostFirst) {
  Scenario sc;
  Decoded d(write(sc.samples));
  ASSERT_EQ(d.p.sample_size(), 3);
  EXPECT_EQ(d.names(d.p.sample(0)),
            (std::vector<std::string>{"profile_proto_test::send_value", "profile_proto_test::producer"}));
  EXPECT_EQ(d.names(d.p.sample(1)),
            (std::vector<std::string>{"profile_proto_test::recv_value", "profile_proto_test::consumer"}));
}

TEST(ProfileProto, LinesAreTheCallSitesInThisFile) {
  Scenario sc;
  Decoded d(write(sc.samples));
  const pb::Sample& s = d.p.sample(1);  // consumer
  ASSERT_EQ(s.location_id_size(), 2);
  const pb::Location& recv = d.location(s.location_id(0));
  const pb::Location& cons = d.location(s.location_id(1));
  ASSERT_EQ(recv.line_size(), 1);
  ASSERT_EQ(cons.line_size(), 1);
  EXPECT_EQ(recv.line(0).line(), g_recv_line);
  EXPECT_EQ(cons.line(0).line(), g_consumer_line);
  for (const pb::Function& f : d.p.function()) {
    EXPECT_TRUE(ends_with(d.str(f.filename()), "/profile_proto_test.cc")) << d.str(f.filename());
    EXPECT_EQ(d.str(f.system_name()), d.str(f.name()));  // as Go writes them
  }
}

// Go records a return address as the pc of the call (return address - 1,
// runtime.CallersFrames' Frame.PC), and an exact pc as itself.
TEST(ProfileProto, AddressesAreCallSitesForReturnAddressesAndExactForARunningPc) {
  Stack stack = consumer();
  Stack running = {reinterpret_cast<std::uintptr_t>(&running_now), stack[1]};
  std::vector<ProfileSample> samples{{1, stack.data(), stack.size(), false, nullptr},
                                     {1, running.data(), running.size(), true, nullptr}};
  Decoded d(write(samples));
  ASSERT_EQ(d.p.sample_size(), 2);
  const pb::Sample& blocked = d.p.sample(0);
  const pb::Sample& run = d.p.sample(1);
  ASSERT_EQ(blocked.location_id_size(), 2);
  ASSERT_EQ(run.location_id_size(), 2);
  EXPECT_EQ(d.location(blocked.location_id(0)).address(), stack[0] - 1);
  EXPECT_EQ(d.location(blocked.location_id(1)).address(), stack[1] - 1);
  EXPECT_EQ(d.location(run.location_id(0)).address(), running[0]);
  EXPECT_EQ(d.names(run), (std::vector<std::string>{"profile_proto_test::running_now", "profile_proto_test::consumer"}));
  // The shared caller is one Location.
  EXPECT_EQ(run.location_id(1), blocked.location_id(1));
  EXPECT_EQ(d.p.location_size(), 3);
}

TEST(ProfileProto, InlinedCallsAreLinesOfOneLocationInnermostFirst) {
  Stack stack = physical_step();
  std::vector<ProfileSample> samples{{4, stack.data(), stack.size(), false, nullptr}};
  Decoded d(write(samples));
  ASSERT_EQ(d.p.sample_size(), 1);
  ASSERT_EQ(d.p.sample(0).location_id_size(), 1);
  const pb::Location& loc = d.location(d.p.sample(0).location_id(0));
  ASSERT_EQ(loc.line_size(), 2);
  EXPECT_EQ(d.str(d.function(loc.line(0).function_id()).name()), "profile_proto_test::inlined_step");
  EXPECT_EQ(loc.line(0).line(), g_inner_line);
  EXPECT_EQ(d.str(d.function(loc.line(1).function_id()).name()), "profile_proto_test::physical_step");
  EXPECT_EQ(loc.line(1).line(), g_outer_line);
}

TEST(ProfileProto, LabelsAreOneStringLabelEach) {
  Scenario sc;
  Decoded d(write(sc.samples));
  EXPECT_TRUE(d.labels(d.p.sample(0)).empty());
  EXPECT_EQ(d.labels(d.p.sample(1)), sc.consumer_labels);
}

// goro's own frames are left out, as Go's profile leaves runtime.goexit out:
// no Function names them and no Location stands for them; a goroutine whose
// stack is only goro's frames still counts.
TEST(ProfileProto, GoroFramesAreHidden) {
  Scenario sc;
  Stack mixed = sc.consumer_stack;
  mixed.push_back(sc.runtime_stack[0]);  // called from the trampoline
  std::vector<ProfileSample> samples = sc.samples;
  samples.push_back({1, mixed.data(), mixed.size(), false, nullptr});
  Decoded d(write(samples));
  for (const pb::Function& f : d.p.function()) {
    EXPECT_EQ(d.str(f.name()).rfind("goro::detail::", 0), std::string::npos) << d.str(f.name());
  }
  ASSERT_EQ(d.p.sample_size(), 4);
  EXPECT_EQ(d.p.sample(2).value(0), 2);
  EXPECT_EQ(d.p.sample(2).location_id_size(), 0);
  EXPECT_EQ(d.names(d.p.sample(3)),
            (std::vector<std::string>{"profile_proto_test::recv_value", "profile_proto_test::consumer"}));
  EXPECT_EQ(d.p.location_size(), 4);  // recv, consumer, send, producer
}

TEST(ProfileProto, LocationsAreInThisBinarysMapping) {
  Scenario sc;
  Decoded d(write(sc.samples));
  const std::string exe = std::filesystem::canonical("/proc/self/exe").string();
  ASSERT_GE(d.p.mapping_size(), 1);
  for (const pb::Location& loc : d.p.location()) {
    ASSERT_NE(loc.mapping_id(), 0u);
    const pb::Mapping& m = d.mapping(loc.mapping_id());
    EXPECT_LE(m.memory_start(), loc.address());
    EXPECT_LT(loc.address(), m.memory_limit());
    EXPECT_EQ(d.str(m.filename()), exe);
    EXPECT_TRUE(m.has_functions());  // pprof must not symbolize these again
    const std::string& id = d.str(m.build_id());
    EXPECT_FALSE(id.empty()) << "the test binary is linked with a GNU build id";
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
  // Every mapping is an executable one, and ids are 1..n.
  for (const pb::Mapping& m : d.p.mapping()) EXPECT_LT(m.memory_start(), m.memory_limit());
}

TEST(ProfileProto, EmptySampleListGivesAValidProfileWithoutSamples) {
  Decoded d(write({}));
  expect_goroutine_count_types(d);
  EXPECT_EQ(d.p.sample_size(), 0);
  EXPECT_EQ(d.p.location_size(), 0);
  EXPECT_EQ(d.p.function_size(), 0);
}

// --- go tool pprof reads what we write --------------------------------------

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/goro_profile_proto_XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

bool have_go() { return std::system("command -v go >/dev/null 2>&1") == 0; }

// `go tool pprof <args> <file>`, stdout and stderr.
std::string pprof(const TempDir& dir, const std::string& args, const std::string& file) {
  std::string cmd = "cd '" + dir.path + "' && HOME='" + dir.path + "' GOCACHE='" + dir.path +
                    "/gocache' GOFLAGS= PPROF_TMPDIR='" + dir.path + "' go tool pprof " + args + " '" + file +
                    "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0) << cmd << "\n" << out;
  return out;
}

std::string write_file(const TempDir& dir, const std::vector<ProfileSample>& samples) {
  std::string file = dir.path + "/goroutine.pb.gz";
  std::ofstream(file, std::ios::binary) << write(samples);
  return file;
}

// The line of out that mentions name ("" when none).
std::string line_with(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.find(name) != std::string::npos) return line;
  }
  return "";
}

TEST(ProfileProtoGoTool, TopCountsGoroutinesPerFunction) {
  if (!have_go()) GTEST_SKIP() << "go is not on PATH";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  Scenario sc;
  std::string out = pprof(dir, "-top", write_file(dir, sc.samples));
  SCOPED_TRACE(out);
  EXPECT_NE(out.find("Type: goroutine"), std::string::npos);
  EXPECT_NE(out.find("of 12 total"), std::string::npos);  // 3 + 7 + 2
  // flat flat% sum% cum cum% name: the leaves hold their goroutines flat,
  // their callers cumulatively.
  std::istringstream send(line_with(out, "profile_proto_test::send_value"));
  std::istringstream recv(line_with(out, "profile_proto_test::recv_value"));
  std::istringstream cons(line_with(out, "profile_proto_test::consumer"));
  std::string flat, flat_pct, sum_pct, cum;
  send >> flat >> flat_pct >> sum_pct >> cum;
  EXPECT_EQ(flat, "7");
  EXPECT_EQ(cum, "7");
  recv >> flat >> flat_pct >> sum_pct >> cum;
  EXPECT_EQ(flat, "3");
  EXPECT_EQ(cum, "3");
  cons >> flat >> flat_pct >> sum_pct >> cum;
  EXPECT_EQ(flat, "0");
  EXPECT_EQ(cum, "3");
  EXPECT_EQ(out.find("goro::detail::"), std::string::npos);
}

TEST(ProfileProtoGoTool, TracesListEachStackWithItsCountAndLabels) {
  if (!have_go()) GTEST_SKIP() << "go is not on PATH";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  Scenario sc;
  std::string out = pprof(dir, "-traces", write_file(dir, sc.samples));
  SCOPED_TRACE(out);
  // Each trace: "-----+-----" then "<count>   <leaf>", its callers below.
  std::size_t send = out.find("7   profile_proto_test::send_value\n");
  ASSERT_NE(send, std::string::npos);
  std::size_t producer = out.find("profile_proto_test::producer\n", send);
  EXPECT_NE(producer, std::string::npos);
  std::size_t recv = out.find("3   profile_proto_test::recv_value\n");
  ASSERT_NE(recv, std::string::npos);
  EXPECT_NE(out.find("profile_proto_test::consumer\n", recv), std::string::npos);
  // The labels head their trace ("       job:  ingest"), the unlabelled
  // producer trace has none.
  std::size_t block = out.rfind("-----------+", recv);
  ASSERT_NE(block, std::string::npos);
  std::string head = out.substr(block, recv - block);
  EXPECT_NE(line_with(head, "job:").find("ingest"), std::string::npos);
  EXPECT_NE(line_with(head, "shard:").find("7"), std::string::npos);
  EXPECT_EQ(out.find("job:"), out.find("job:", block));
  EXPECT_EQ(out.find("goro::detail::"), std::string::npos);
}

TEST(ProfileProtoGoTool, ReadsAnEmptyProfile) {
  if (!have_go()) GTEST_SKIP() << "go is not on PATH";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::string out = pprof(dir, "-top", write_file(dir, {}));
  EXPECT_NE(out.find("Type: goroutine"), std::string::npos) << out;
}

}  // namespace
