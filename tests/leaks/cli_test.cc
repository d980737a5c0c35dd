// goro-leaks as a command: the built binary (GORO_LEAKS_BIN) run as a child
// process on the checked-in fixtures, stdin, and URLs served by an HTTP
// server inside the test; its stdout, stderr and exit code checked.
//
// Every run has a deadline: a hang kills the child and fails the test
// instead of blocking it. Exit codes are checked exactly (0 done, 1
// --fail-on held, 2 bad usage or input): a crash is a signal, never 2.
//
// What the fixtures hold is counted here independently of the tool (the
// "goroutine N [" headers of debug=2 text, the "N @" records of debug=1),
// so a parser that drops or merges goroutines cannot pass by agreeing with
// itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Running the binary.

// Long enough for an ASan build on a busy machine; a hang still ends.
constexpr std::chrono::milliseconds kRunTimeout = 20s;

struct RunResult {
  bool exited = false;
  int code = -1;        // when exited
  int signal = 0;       // when killed by a signal
  bool timed_out = false;
  std::string out, err;
  std::chrono::milliseconds elapsed{0};
  std::string command;

  // For failure messages.
  std::string describe() const {
    std::ostringstream s;
    s << "$ " << command << "\n";
    if (timed_out) s << "TIMED OUT (killed)\n";
    if (exited) s << "exit code " << code << "\n";
    else s << "killed by signal " << signal << " (" << strsignal(signal) << ")\n";
    s << "--- stdout (" << out.size() << " bytes) ---\n" << out.substr(0, 4000)
      << (out.size() > 4000 ? "\n[...]\n" : "") << "--- stderr ---\n" << err.substr(0, 4000) << "\n";
    return s.str();
  }
};

std::string binary() { return GORO_LEAKS_BIN; }

// Runs goro-leaks with `args`, writing `input` to its stdin (then closing
// it: a stray read of stdin sees EOF, never blocks), under `timeout`.
RunResult run(const std::vector<std::string>& args, const std::string& input = "",
              std::chrono::milliseconds timeout = kRunTimeout) {
  RunResult r;
  r.command = binary();
  for (const std::string& a : args) r.command += " '" + a + "'";
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // The test ignores SIGPIPE (a child that exits without reading its
  // stdin); the child must get the default back.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv_storage{binary()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const auto start = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    return r;
  }
  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (input.empty()) close(in_fd), in_fd = -1;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  const auto deadline = start + timeout;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms && !r.timed_out) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      if (in_fd >= 0) close(in_fd), in_fd = -1;
    }
    pollfd fds[3];
    int n = 0;
    for (int fd : {out_fd, err_fd}) {
      if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    }
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    int ready = poll(fds, n, r.timed_out ? 1000 : static_cast<int>(std::max<std::int64_t>(1, left.count())));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // EPIPE: the child stopped reading
        if (written == input.size()) close(in_fd), in_fd = -1;
        continue;
      }
      char buf[65536];
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        (fds[i].fd == out_fd ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        int& fd = fds[i].fd == out_fd ? out_fd : err_fd;
        close(fd);
        fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (WIFEXITED(status)) {
    r.exited = true;
    r.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

// The run ended by itself with exactly `code`, and no sanitizer spoke (an
// ASan report exits with 1, which is also "--fail-on held").
::testing::AssertionResult exited_with(const RunResult& r, int code) {
  for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ", "WARNING: ThreadSanitizer"}) {
    if (r.err.find(report) != std::string::npos) {
      return ::testing::AssertionFailure() << "sanitizer report in stderr\n" << r.describe();
    }
  }
  if (!r.timed_out && r.exited && r.code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected exit code " << code << "\n" << r.describe();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------------------
// Fixtures and what they hold, counted without the tool.

std::string fixture_path(const std::string& name) { return std::string(GORO_LEAKS_FIXTURES) + "/" + name; }
std::string causes(const std::string& name) { return fixture_path("causes/" + name); }
std::string go_programs() { return GORO_LEAKS_GO_PROGRAMS; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << "missing or empty fixture " << path;
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// debug=2 text grouped as --similarity ignore-args groups it: state (runnable
// counted as running), each frame's function and file:line, the creator's
// function and file:line. Key -> count.
struct TextCount {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> groups;
};

TextCount count_go_text(const std::string& text) {
  static const std::regex header(R"(^goroutine (\d+)( gp=\S+ m=\S+( mp=\S+)?)? \[([^\]]*)\]:$)");
  TextCount c;
  std::string key;
  bool in_block = false;
  auto finish = [&] {
    if (in_block) c.groups[key] += 1;
    in_block = false;
  };
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      finish();
      std::string state = m[4].str();
      state = state.substr(0, state.find(','));                     // ", 5 minutes", ", locked to thread"
      for (const char* mark : {" (durable)", " (leaked)"}) {
        if (std::size_t p = state.find(mark); p != std::string::npos) state.erase(p);
      }
      if (state == "runnable") state = "running";
      key = state + "\n";
      in_block = true;
      c.total += 1;
      continue;
    }
    if (!in_block) continue;
    if (line.empty()) {
      finish();
    } else if (line[0] == '\t') {
      key += line.substr(1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1) + "\n";
    } else if (line.rfind("created by ", 0) == 0) {
      key += line.substr(0, line.find(" in goroutine ")) + "\n";
    } else if (line.rfind("...", 0) == 0) {
      key += line + "\n";
    } else {
      key += line.substr(0, line.rfind('(')) + "\n";
    }
  }
  finish();
  return c;
}

// debug=1 text: the header's total, and the "<count> @ ..." records.
struct Debug1Count {
  std::int64_t header_total = -1;
  std::int64_t record_sum = 0;
  std::size_t records = 0;
};

Debug1Count count_debug1(const std::string& text) {
  static const std::regex record(R"(^(\d+) @( 0x[0-9a-f]+)+$)");
  Debug1Count c;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (line.rfind("goroutine profile: total ", 0) == 0) {
      c.header_total = std::stoll(line.substr(25));
    } else if (std::regex_match(line, m, record)) {
      c.record_sum += std::stoll(m[1].str());
      c.records += 1;
    }
  }
  return c;
}

json parse_json(const RunResult& r) {
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << r.describe();
    return json();
  }
}

// The same document whatever a source was called ("-", a path, a URL).
json without_source_names(json j) {
  if (j.contains("sources")) {
    for (json& s : j["sources"]) s.erase("source");
  }
  return j;
}

std::vector<std::int64_t> group_counts(const json& summary) {
  std::vector<std::int64_t> out;
  for (const json& g : summary["groups"]) out.push_back(g["count"].get<std::int64_t>());
  return out;
}

std::int64_t sum(const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (std::int64_t x : v) s += x;
  return s;
}

// "<where>" of a JSON group, or its first frame's function when it has no
// user frame (as expected.tsv names them).
std::string where_of(const json& group) {
  if (group.contains("where")) return group["where"].get<std::string>();
  if (!group["frames"].empty()) return group["frames"][0]["function"].get<std::string>();
  return "";
}

// The line of summary text that names `function`.
std::string line_naming(const std::string& text, const std::string& function) {
  for (const std::string& line : lines_of(text)) {
    if (contains(line, function)) return line;
  }
  return "";
}

// ---------------------------------------------------------------------------
// An HTTP server in the test: 127.0.0.1, a free port, its own thread.

class TestServer {
 public:
  explicit TestServer(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) {
      ADD_FAILURE() << "cannot bind a port on 127.0.0.1";
      return;
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(server_.is_running());
  }
  ~TestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

// A TCP port on 127.0.0.1 where nothing listens (bound, then closed).
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A listener that completes connections (the kernel's backlog) and never
// answers: a hung server.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
    EXPECT_EQ(listen(fd_, 16), 0) << std::strerror(errno);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------
// The test fixture: a scratch directory per test.

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("goro-leaks-cli-" + std::to_string(getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ / "readonly", fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  fs::path dir_;
};

std::vector<std::string> growth_snaps() {
  return {causes("growth/snap1.txt"), causes("growth/snap2.txt"), causes("growth/snap3.txt")};
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The 15 rows of causes/expected.tsv: directory, cause id, where.
struct Expected {
  std::string dir, cause, where;
};

std::vector<Expected> expected_causes() {
  std::vector<Expected> out;
  for (const std::string& line : lines_of(read_file(causes("expected.tsv")))) {
    std::istringstream in(line);
    Expected e;
    if (std::getline(in, e.dir, '\t') && std::getline(in, e.cause, '\t') && std::getline(in, e.where)) {
      out.push_back(e);
    }
  }
  EXPECT_EQ(out.size(), 15u);
  return out;
}

// ---------------------------------------------------------------------------
// Usage.

TEST_F(Cli, HelpExitsZero) {
  RunResult r = run({"--help"});
  ASSERT_TRUE(exited_with(r, 0));
  for (const char* cmd : {"summary", "diff", "classify", "report", "watch"}) EXPECT_TRUE(contains(r.out, cmd)) << cmd;
  for (const char* cmd : {"summary", "diff", "classify", "report", "watch"}) {
    RunResult sub = run({cmd, "--help"});
    EXPECT_TRUE(exited_with(sub, 0));
    EXPECT_TRUE(contains(sub.out, "--json")) << sub.describe();
  }
}

TEST_F(Cli, BadUsageExitsTwo) {
  EXPECT_TRUE(exited_with(run({}), 2));
  EXPECT_TRUE(exited_with(run({"bogus"}), 2));
  EXPECT_TRUE(exited_with(run({"summary"}), 2));
  EXPECT_TRUE(exited_with(run({"summary", causes("growth/snap3.txt"), "--no-such-flag"}), 2));
  RunResult sim = run({"summary", "--similarity", "nope", causes("growth/snap3.txt")});
  EXPECT_TRUE(exited_with(sim, 2));
  EXPECT_TRUE(contains(sim.err, "--similarity")) << sim.describe();
  RunResult wait = run({"classify", "--min-wait", "5 minutes", causes("growth/snap3.txt")});
  EXPECT_TRUE(exited_with(wait, 2));
  EXPECT_TRUE(contains(wait.err, "--min-wait")) << wait.describe();
}

// ---------------------------------------------------------------------------
// summary, per format.

// debug=2 text in its forms: goro's dumps, Go's pprof and runtime.Stack
// output, and crash reports (panic, deadlock, SIGQUIT) with text around.
TEST_F(Cli, SummaryOnGoTextMatchesTheHeaders) {
  for (const std::string name :
       {"goro_debug2.txt", "goro_panic.txt", "goro_deadlock.txt", "goro_sigquit.txt", "go119_stack_all.txt",
        "go119_panic_all.txt", "causes/growth/snap3.txt", "causes/http-client-no-timeout/snap3.txt",
        "causes/mutex-never-unlocked/stack3.txt", "cli/similarity.txt"}) {
    SCOPED_TRACE(name);
    const std::string path = fixture_path(name);
    TextCount want = count_go_text(read_file(path));
    ASSERT_GT(want.total, 0);

    RunResult text = run({"summary", path});
    ASSERT_TRUE(exited_with(text, 0));
    std::string head = lines_of(text.out).empty() ? "" : lines_of(text.out)[0];
    EXPECT_EQ(head, path + ": " + std::to_string(want.total) + " goroutines in " + std::to_string(want.groups.size()) +
                        " groups (go-text, similarity ignore-args)");
    // One row per group: the counts in the COUNT column, largest first.
    std::vector<std::int64_t> want_counts;
    for (const auto& [key, n] : want.groups) want_counts.push_back(n);
    std::sort(want_counts.rbegin(), want_counts.rend());
    std::vector<std::int64_t> rows;
    static const std::regex row(R"(^\s+(\d+)  \S.*)");
    for (const std::string& line : lines_of(text.out)) {
      std::smatch m;
      if (std::regex_match(line, m, row)) rows.push_back(std::stoll(m[1].str()));
    }
    EXPECT_EQ(rows, want_counts) << text.out;

    RunResult js = run({"summary", "--json", path});
    ASSERT_TRUE(exited_with(js, 0));
    json j = parse_json(js);
    ASSERT_EQ(j["sources"].size(), 1u);
    EXPECT_EQ(j["sources"][0]["format"], "go-text");
    EXPECT_EQ(j["sources"][0]["total"], want.total);
    EXPECT_EQ(j["sources"][0]["groups"], want.groups.size());
    EXPECT_EQ(j["similarity"], "ignore-args");
    EXPECT_EQ(group_counts(j), want_counts);
    EXPECT_EQ(sum(group_counts(j)), want.total);
  }
}

TEST_F(Cli, SummaryOnDebug1MatchesTheRecords) {
  for (const std::string name : {"goro_debug1.txt", "go119_debug1.txt", "causes/growth/snap3.debug1.txt",
                                 "causes/http-body-not-closed/snap3.debug1.txt"}) {
    SCOPED_TRACE(name);
    const std::string path = fixture_path(name);
    Debug1Count want = count_debug1(read_file(path));
    ASSERT_GT(want.header_total, 0);
    ASSERT_EQ(want.record_sum, want.header_total) << "the fixture disagrees with itself";

    RunResult text = run({"summary", path});
    ASSERT_TRUE(exited_with(text, 0));
    EXPECT_TRUE(contains(text.out, ": " + std::to_string(want.header_total) + " goroutines in ")) << text.out;
    EXPECT_TRUE(contains(text.out, "(go-debug1, similarity ignore-args)")) << text.out;

    RunResult js = run({"summary", "--json", path});
    ASSERT_TRUE(exited_with(js, 0));
    json j = parse_json(js);
    EXPECT_EQ(j["sources"][0]["format"], "go-debug1");
    EXPECT_EQ(j["sources"][0]["total"], want.header_total);
    EXPECT_EQ(sum(group_counts(j)), want.header_total);
    // Records with the same stack once runtime frames are dropped may merge.
    EXPECT_LE(j["groups"].size(), want.records);
    EXPECT_GE(j["groups"].size(), 1u);
  }
}

// The three forms of the same moment (debug=2, debug=1, profile.proto,
// written one after the other by a program whose goroutines had settled)
// have the same total and the same groups.
TEST_F(Cli, SummaryOnProfileProtoMatchesTheTextForms) {
  for (const std::string cause : {"growth", "http-body-not-closed", "endless-loop"}) {
    SCOPED_TRACE(cause);
    TextCount text = count_go_text(read_file(causes(cause + "/snap3.txt")));
    Debug1Count debug1 = count_debug1(read_file(causes(cause + "/snap3.debug1.txt")));
    ASSERT_EQ(text.total, debug1.header_total);

    RunResult js = run({"summary", "--json", causes(cause + "/snap3.pb.gz")});
    ASSERT_TRUE(exited_with(js, 0));
    json proto = parse_json(js);
    EXPECT_EQ(proto["sources"][0]["format"], "profile-proto");
    EXPECT_EQ(proto["sources"][0]["total"], text.total);
    EXPECT_EQ(sum(group_counts(proto)), text.total);

    RunResult d1 = run({"summary", "--json", causes(cause + "/snap3.debug1.txt")});
    ASSERT_TRUE(exited_with(d1, 0));
    json from_debug1 = parse_json(d1);
    EXPECT_EQ(group_counts(proto), group_counts(from_debug1));
    std::multiset<std::string> proto_where, debug1_where;
    for (const json& g : proto["groups"]) proto_where.insert(where_of(g));
    for (const json& g : from_debug1["groups"]) debug1_where.insert(where_of(g));
    EXPECT_EQ(proto_where, debug1_where);

    RunResult txt = run({"summary", causes(cause + "/snap3.pb.gz")});
    ASSERT_TRUE(exited_with(txt, 0));
    EXPECT_TRUE(contains(txt.out, std::to_string(text.total) + " goroutines in ")) << txt.out;
    EXPECT_TRUE(contains(txt.out, "(profile-proto, similarity ignore-args)")) << txt.out;
  }
}

TEST_F(Cli, SimilarityCoarserNeverMakesMoreGroups) {
  auto groups = [](const std::string& path, const char* similarity) -> std::size_t {
    RunResult r = run({"summary", "--json", "--similarity", similarity, path});
    EXPECT_TRUE(exited_with(r, 0));
    json j = parse_json(r);
    EXPECT_EQ(j["similarity"], similarity);
    return j["groups"].size();
  };
  for (const std::string name :
       {"cli/similarity.txt", "causes/http-body-not-closed/snap3.txt", "causes/endless-loop/snap3.txt",
        "causes/growth/snap3.txt", "goro_debug2.txt", "go119_debug1.txt", "causes/growth/snap3.pb.gz"}) {
    SCOPED_TRACE(name);
    std::size_t exact = groups(fixture_path(name), "exact");
    std::size_t ignore_args = groups(fixture_path(name), "ignore-args");
    std::size_t function = groups(fixture_path(name), "function");
    EXPECT_GE(exact, ignore_args);
    EXPECT_GE(ignore_args, function);
    EXPECT_GE(function, 1u);
    if (name == "cli/similarity.txt") {
      // Two workers differing in their arguments, one at another line of
      // the same function, and main.
      EXPECT_EQ(exact, 4u);
      EXPECT_EQ(ignore_args, 3u);
      EXPECT_EQ(function, 2u);
    }
    if (name == "causes/http-body-not-closed/snap3.txt") {  // pointers differ
      EXPECT_GT(exact, ignore_args);
    }
  }
}

TEST_F(Cli, TopShowsOnlyTheLargestGroups) {
  const std::string path = causes("growth/snap3.txt");  // 5 groups: 30, 3, 2, 1, 1
  static const std::regex row(R"(^\s+(\d+)  \S.*)");
  auto rows = [](const std::string& out) {
    std::vector<std::int64_t> counts;
    for (const std::string& line : lines_of(out)) {
      std::smatch m;
      if (std::regex_match(line, m, row)) counts.push_back(std::stoll(m[1].str()));
    }
    return counts;
  };
  RunResult top2 = run({"summary", "--top", "2", path});
  ASSERT_TRUE(exited_with(top2, 0));
  EXPECT_EQ(rows(top2.out), (std::vector<std::int64_t>{30, 3}));
  EXPECT_TRUE(contains(top2.out, "3 more groups")) << top2.out;
  EXPECT_TRUE(contains(top2.out, "main.handleQuote.func1")) << top2.out;
  EXPECT_FALSE(contains(top2.out, "main.metricsLoop")) << top2.out;

  RunResult all = run({"summary", "--top", "0", path});
  ASSERT_TRUE(exited_with(all, 0));
  EXPECT_EQ(rows(all.out), (std::vector<std::int64_t>{30, 3, 2, 1, 1}));
  EXPECT_FALSE(contains(all.out, "more groups")) << all.out;

  RunResult big = run({"summary", "--top", "100", path});
  ASSERT_TRUE(exited_with(big, 0));
  EXPECT_EQ(rows(big.out).size(), 5u);

  // --json is complete whatever --top says.
  RunResult js = run({"summary", "--json", "--top", "1", path});
  ASSERT_TRUE(exited_with(js, 0));
  EXPECT_EQ(parse_json(js)["groups"].size(), 5u);

  EXPECT_TRUE(exited_with(run({"summary", "--top", "many", path}), 2));
}

TEST_F(Cli, StacksPrintsEachGroupsStack) {
  const std::string path = fixture_path("goro_debug2.txt");  // 3 groups
  RunResult plain = run({"summary", path});
  ASSERT_TRUE(exited_with(plain, 0));
  EXPECT_FALSE(contains(plain.out, "/src/app/app.cc:17\n")) << plain.out;

  RunResult r = run({"summary", "--stacks", path});
  ASSERT_TRUE(exited_with(r, 0));
  static const std::regex stack_header(R"(^\d+ goroutines? \[[^\]]*\].*:$)");
  std::size_t headers = 0;
  for (const std::string& line : lines_of(r.out)) headers += std::regex_match(line, stack_header);
  EXPECT_EQ(headers, 3u) << r.out;
  // Every frame and creation site of the fixture, in debug=2 form.
  EXPECT_TRUE(contains(r.out, "3 goroutines [chan receive]")) << r.out;
  EXPECT_TRUE(contains(r.out, "  app::consume(...)\n  \t/src/app/app.cc:7\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "goro::Mutex::lock_slow(...)")) << r.out;
  EXPECT_TRUE(contains(r.out, "/src/goro/include/goro/sync/mutex.h:43")) << r.out;
  EXPECT_TRUE(contains(r.out, "created by main::{lambda()#1}::operator() in goroutine 1")) << r.out;

  RunResult top = run({"summary", "--stacks", "--top", "1", path});
  ASSERT_TRUE(exited_with(top, 0));
  headers = 0;
  for (const std::string& line : lines_of(top.out)) headers += std::regex_match(line, stack_header);
  EXPECT_EQ(headers, 1u) << top.out;
}

// ---------------------------------------------------------------------------
// Where dumps come from.

TEST_F(Cli, StdinGivesTheSameJsonAsTheFile) {
  for (const std::string name : {"causes/growth/snap3.txt", "causes/growth/snap3.debug1.txt",
                                 "causes/growth/snap3.pb.gz", "goro_sigquit.txt"}) {
    SCOPED_TRACE(name);
    const std::string path = fixture_path(name);
    RunResult file = run({"summary", "--json", path});
    RunResult in = run({"summary", "--json", "-"}, read_file(path));
    ASSERT_TRUE(exited_with(file, 0));
    ASSERT_TRUE(exited_with(in, 0));
    json from_stdin = parse_json(in);
    EXPECT_EQ(from_stdin["sources"][0]["source"], "-");
    EXPECT_EQ(without_source_names(from_stdin), without_source_names(parse_json(file)));
  }
  // A dump larger than a pipe's buffer and the 64 KiB format probe.
  std::string big;
  const std::string one = read_file(causes("http-client-no-timeout/snap3.txt"));
  while (big.size() < 400 * 1024) big += one + "\n";
  TextCount want = count_go_text(big);
  RunResult in = run({"summary", "--json", "-"}, big);
  ASSERT_TRUE(exited_with(in, 0));
  EXPECT_EQ(parse_json(in)["sources"][0]["total"], want.total);

  // diff reads stdin once; a second "-" finds it empty.
  RunResult twice = run({"diff", "-", "-"}, one);
  EXPECT_TRUE(exited_with(twice, 2));
  EXPECT_TRUE(contains(twice.err, "empty")) << twice.describe();
}

// A UTF-8 byte order mark (a dump saved by an editor) is accepted by the
// format detection: then the whole dump must be read, first goroutine
// included.
TEST_F(Cli, ByteOrderMarkIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  for (const std::string name : {"goro_debug2.txt", "go119_debug1.txt", "causes/growth/snap3.txt"}) {
    SCOPED_TRACE(name);
    const std::string plain = read_file(fixture_path(name));
    RunResult want = run({"summary", "--json", fixture_path(name)});
    ASSERT_TRUE(exited_with(want, 0));
    RunResult got = run({"summary", "--json", write("bom.txt", bom + plain)});
    if (!exited_with(got, 0)) {
      ADD_FAILURE() << exited_with(got, 0).message();
      continue;
    }
    json g = parse_json(got), w = parse_json(want);
    EXPECT_EQ(g["sources"][0]["total"], w["sources"][0]["total"]);
    EXPECT_EQ(group_counts(g), group_counts(w));
    EXPECT_EQ(without_source_names(g), without_source_names(w));
  }
}

TEST_F(Cli, HttpUrlGivesTheSameJsonAsTheFile) {
  const std::string text = read_file(causes("growth/snap3.txt"));
  const std::string debug1 = read_file(causes("growth/snap3.debug1.txt"));
  const std::string proto = read_file(causes("growth/snap3.pb.gz"));
  std::atomic<int> requests{0};
  TestServer server([&](httplib::Server& s) {
    s.Get("/debug/pprof/goroutine", [&](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      std::string debug = req.has_param("debug") ? req.get_param_value("debug") : "0";
      if (debug == "2") res.set_content(text, "text/plain; charset=utf-8");
      else if (debug == "1") res.set_content(debug1, "text/plain; charset=utf-8");
      else res.set_content(proto, "application/octet-stream");
    });
    s.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/debug/pprof/goroutine?debug=2");
    });
  });
  for (const auto& [query, file] : std::vector<std::pair<std::string, std::string>>{
           {"?debug=2", "growth/snap3.txt"}, {"?debug=1", "growth/snap3.debug1.txt"}, {"?debug=0", "growth/snap3.pb.gz"}}) {
    SCOPED_TRACE(query);
    const std::string url = server.url("/debug/pprof/goroutine" + query);
    RunResult from_url = run({"summary", "--json", url});
    RunResult from_file = run({"summary", "--json", causes(file)});
    ASSERT_TRUE(exited_with(from_url, 0));
    ASSERT_TRUE(exited_with(from_file, 0));
    json j = parse_json(from_url);
    EXPECT_EQ(j["sources"][0]["source"], url);
    EXPECT_EQ(without_source_names(j), without_source_names(parse_json(from_file)));
  }
  EXPECT_EQ(requests.load(), 3);

  RunResult moved = run({"summary", "--json", server.url("/moved")});
  ASSERT_TRUE(exited_with(moved, 0));
  EXPECT_EQ(parse_json(moved)["sources"][0]["total"], 37);

  // The text output names the URL it read.
  RunResult text_out = run({"summary", server.url("/debug/pprof/goroutine?debug=2")});
  ASSERT_TRUE(exited_with(text_out, 0));
  EXPECT_TRUE(contains(text_out.out, server.url("/debug/pprof/goroutine?debug=2") + ": 37 goroutines")) << text_out.out;
}

TEST_F(Cli, HttpErrorsExitTwoWithAMessage) {
  TestServer server([](httplib::Server& s) {
    s.Get("/debug/pprof/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>profiles</body></html>\n",
                      "text/html; charset=utf-8");
    });
    s.Get("/boom", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("internal error", "text/plain");
    });
  });
  const std::string missing = server.url("/nothing/here");
  RunResult not_found = run({"summary", missing});
  EXPECT_TRUE(exited_with(not_found, 2));
  EXPECT_TRUE(contains(not_found.err, "404")) << not_found.describe();
  EXPECT_TRUE(contains(not_found.err, missing)) << not_found.describe();
  EXPECT_TRUE(not_found.out.empty()) << not_found.describe();

  RunResult failed = run({"summary", server.url("/boom")});
  EXPECT_TRUE(exited_with(failed, 2));
  EXPECT_TRUE(contains(failed.err, "500")) << failed.describe();

  const std::string index = server.url("/debug/pprof/");
  RunResult html = run({"summary", "--json", index});
  EXPECT_TRUE(exited_with(html, 2));
  EXPECT_TRUE(contains(html.err, "HTML")) << html.describe();
  EXPECT_TRUE(contains(html.err, "debug=2")) << html.describe();  // says what to ask for
  EXPECT_TRUE(contains(html.err, index)) << html.describe();
  EXPECT_TRUE(html.out.empty()) << html.describe();
}

TEST_F(Cli, RefusedConnectionExitsTwo) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/debug/pprof/goroutine?debug=2";
  RunResult r = run({"summary", url});
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_TRUE(contains(r.err, url)) << r.describe();
  EXPECT_TRUE(contains(r.err, "goro-leaks: ")) << r.describe();
  std::string lower = r.err;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_TRUE(contains(lower, "connect")) << r.describe();
  EXPECT_LT(r.elapsed, 10s);
}

TEST_F(Cli, TimeoutBoundsAHungServer) {
  SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/debug/pprof/goroutine?debug=2";
  RunResult r = run({"summary", "--timeout", "300ms", url});
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_TRUE(contains(r.err, url)) << r.describe();
  EXPECT_LT(r.elapsed, 10s) << r.describe();

  EXPECT_TRUE(exited_with(run({"summary", "--timeout", "soon", url}), 2));
}

TEST_F(Cli, MissingFileExitsTwoNamingIt) {
  const std::string path = (dir_ / "no-such-dump.txt").string();
  RunResult r = run({"summary", path});
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_TRUE(contains(r.err, path)) << r.describe();
  EXPECT_TRUE(contains(r.err, "No such file")) << r.describe();
  EXPECT_TRUE(r.out.empty()) << r.describe();

  // In a series, the message names the missing one.
  RunResult d = run({"diff", causes("growth/snap1.txt"), path});
  EXPECT_TRUE(exited_with(d, 2));
  EXPECT_TRUE(contains(d.err, path)) << d.describe();

  // A directory is not a dump either.
  RunResult dir = run({"summary", dir_.string()});
  EXPECT_TRUE(exited_with(dir, 2));
  EXPECT_TRUE(contains(dir.err, dir_.string())) << dir.describe();
}

// ---------------------------------------------------------------------------
// Malformed input: exit 2 and a message, never a crash.

// `data` in gzip form (zlib's deflate with a gzip wrapper).
std::string gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Malformed {
  std::string name;
  std::string content;
  std::string says;     // in the message
  std::size_t line = 0; // "line N" in the message, when the format has lines
};

std::vector<Malformed> malformed_inputs() {
  std::vector<Malformed> out;
  out.push_back({"empty.txt", "", "empty", 1});
  out.push_back({"garbage.txt", "hello, this is not a goroutine dump\nat all\n", "not a goroutine dump", 1});
  out.push_back({"page.html", "<!DOCTYPE html>\n<html><body>index</body></html>\n", "HTML", 1});
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919 + 13) % 256));
  junk[0] = '\x7f';
  out.push_back({"junk.bin", junk, "binary", 1});

  // debug=2 text cut in the middle of a frame: the line the cut falls in.
  const std::string snap = read_file(causes("growth/snap3.txt"));
  std::size_t frame = 0;
  for (int i = 0; i < 3; ++i) frame = snap.find("\nmain.handleQuote.func1()", frame + 1);
  std::size_t line = std::count(snap.begin(), snap.begin() + static_cast<std::ptrdiff_t>(frame) + 1, '\n') + 1;
  out.push_back({"cut-in-function.txt", snap.substr(0, frame + 1 + 10), "", line});
  out.push_back({"cut-after-function.txt", snap.substr(0, frame + 1 + std::string("main.handleQuote.func1()\n").size()),
                 "truncated", line});
  std::size_t location = snap.find("\n\tleakcauses/growth.go:35", frame) + 1;
  out.push_back({"cut-in-location.txt", snap.substr(0, location + 12), "",
                 static_cast<std::size_t>(std::count(snap.begin(), snap.begin() + static_cast<std::ptrdiff_t>(location), '\n') + 1)});

  // debug=1 cut inside a "#" frame line.
  const std::string d1 = read_file(causes("growth/snap3.debug1.txt"));
  std::size_t hash = d1.find("\n#\t", d1.find("\n#\t") + 1) + 1;
  std::size_t cut = d1.find("leakcauses/", hash);
  out.push_back({"cut.debug1.txt", d1.substr(0, cut),
                 "", static_cast<std::size_t>(std::count(d1.begin(), d1.begin() + static_cast<std::ptrdiff_t>(hash), '\n') + 1)});

  // gzip: a (valid) gzip of garbage, and a real profile cut short.
  out.push_back({"garbage.gz", gzip("garbage, not a profile.proto\n"), "profile", 0});
  const std::string pb = read_file(causes("growth/snap3.pb.gz"));
  out.push_back({"cut.pb.gz", pb.substr(0, pb.size() / 2), "profile", 0});
  out.push_back({"gzip-header-only.gz", pb.substr(0, 10), "profile", 0});
  return out;
}

TEST_F(Cli, MalformedInputExitsTwoWithTheLine) {
  for (const Malformed& m : malformed_inputs()) {
    SCOPED_TRACE(m.name);
    const std::string path = write(m.name, m.content);
    for (const char* command : {"summary", "classify"}) {
      RunResult r = run({command, path});
      ASSERT_TRUE(exited_with(r, 2)) << m.name;
      EXPECT_TRUE(contains(r.err, "goro-leaks: " + path + ": ")) << r.describe();
      if (!m.says.empty()) {
        EXPECT_TRUE(contains(r.err, m.says)) << r.describe();
      }
      if (m.line > 0) {
        EXPECT_TRUE(contains(r.err, "line " + std::to_string(m.line) + ": ")) << r.describe();
      }
      EXPECT_TRUE(r.out.empty()) << r.describe();
    }
    // The same through stdin, and as the second of a series.
    RunResult in = run({"summary", "--json", "-"}, m.content);
    EXPECT_TRUE(exited_with(in, 2));
    if (m.line > 0) {
      EXPECT_TRUE(contains(in.err, "-: line " + std::to_string(m.line) + ": ")) << in.describe();
    }
    RunResult series = run({"diff", causes("growth/snap1.txt"), path});
    EXPECT_TRUE(exited_with(series, 2));
    EXPECT_TRUE(contains(series.err, path)) << series.describe();
  }
}

// Binary formats have no lines: their messages must not claim one.
TEST_F(Cli, ProfileProtoErrorsDoNotSayLineZero) {
  for (const Malformed& m : malformed_inputs()) {
    if (m.line != 0) continue;
    SCOPED_TRACE(m.name);
    RunResult r = run({"summary", write(m.name, m.content)});
    ASSERT_TRUE(exited_with(r, 2));
    EXPECT_FALSE(contains(r.err, "line 0")) << r.describe();
  }
}

// ---------------------------------------------------------------------------
// diff.

TEST_F(Cli, DiffJsonSeriesOfTheGrowthSnapshots) {
  RunResult r = run(concat({"diff", "--json"}, growth_snaps()));
  ASSERT_TRUE(exited_with(r, 0));
  json j = parse_json(r);
  std::vector<std::int64_t> totals;
  for (const std::string& s : growth_snaps()) totals.push_back(count_go_text(read_file(s)).total);
  EXPECT_EQ(j["totals"], totals);
  ASSERT_EQ(j["sources"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(j["sources"][i]["source"], growth_snaps()[i]);

  const json& series = j["series"];
  ASSERT_FALSE(series.empty());
  const json& first = series[0];
  EXPECT_EQ(first["group"]["where"], "main.handleQuote.func1");
  EXPECT_EQ(first["counts"], (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_EQ(first["growth"], 20);
  EXPECT_EQ(first["growing"], true);
  EXPECT_EQ(first["new"], false);
  EXPECT_EQ(first["vanished"], false);

  auto find = [&](const std::string& where) -> json {
    for (const json& s : series) {
      if (s["group"].value("where", "") == where) return s;
    }
    ADD_FAILURE() << "no series for " << where;
    return json::object();
  };
  json shard = find("main.exportShard");
  EXPECT_EQ(shard["counts"], (std::vector<std::int64_t>{8, 4, 0}));
  EXPECT_EQ(shard["vanished"], true);
  EXPECT_EQ(shard["growing"], false);
  EXPECT_EQ(shard["growth"], -8);
  json warmer = find("main.cacheWarmer");
  EXPECT_EQ(warmer["counts"], (std::vector<std::int64_t>{0, 0, 3}));
  EXPECT_EQ(warmer["new"], true);
  EXPECT_EQ(warmer["vanished"], false);
  json worker = find("main.queueWorker");
  EXPECT_EQ(worker["counts"], (std::vector<std::int64_t>{2, 2, 2}));
  EXPECT_EQ(worker["growing"], false);

  // Every goroutine of every snapshot is in exactly one series.
  for (std::size_t i = 0; i < 3; ++i) {
    std::int64_t s = 0;
    for (const json& one : series) s += one["counts"][i].get<std::int64_t>();
    EXPECT_EQ(s, totals[i]) << "snapshot " << i + 1;
  }
  // Largest growth first.
  for (std::size_t i = 1; i < series.size(); ++i) EXPECT_GE(series[i - 1]["growth"], series[i]["growth"]);
}

TEST_F(Cli, DiffTextNamesGrowingNewAndVanishedGroups) {
  RunResult r = run(concat({"diff"}, growth_snaps()));
  ASSERT_TRUE(exited_with(r, 0));
  EXPECT_TRUE(contains(r.out, "22 -> 28 -> 37")) << r.out;
  std::string leak = line_naming(r.out, "main.handleQuote.func1");
  EXPECT_TRUE(contains(leak, "+20")) << r.out;
  EXPECT_TRUE(contains(leak, "10 20 30")) << r.out;
  EXPECT_TRUE(contains(leak, "growing")) << r.out;
  EXPECT_TRUE(contains(line_naming(r.out, "main.exportShard"), "vanished")) << r.out;
  EXPECT_TRUE(contains(line_naming(r.out, "main.cacheWarmer"), "new")) << r.out;
  // The growing group comes first among the rows.
  EXPECT_LT(r.out.find("main.handleQuote.func1"), r.out.find("main.cacheWarmer")) << r.out;
  EXPECT_LT(r.out.find("main.cacheWarmer"), r.out.find("main.exportShard")) << r.out;

  RunResult top = run(concat({"diff", "--top", "1"}, growth_snaps()));
  ASSERT_TRUE(exited_with(top, 0));
  EXPECT_TRUE(contains(top.out, "main.handleQuote.func1")) << top.out;
  EXPECT_FALSE(contains(top.out, "main.exportShard")) << top.out;
}

// Snapshots of one program saved in different formats (yesterday's
// debug=2 text, today's profile.proto) still match group by group: the
// parsers move the proto's runtime frames aside so that "the same stack from
// a text dump gets the same key" (snapshot.cc).
TEST_F(Cli, DiffAcrossFormatsMatchesTheSameStacks) {
  RunResult r = run({"diff", "--json", causes("growth/snap2.txt"), causes("growth/snap3.pb.gz")});
  ASSERT_TRUE(exited_with(r, 0));
  json j = parse_json(r);
  EXPECT_EQ(j["totals"], (std::vector<std::int64_t>{28, 37}));
  ASSERT_FALSE(j["series"].empty());
  EXPECT_EQ(j["series"][0]["group"]["where"], "main.handleQuote.func1");
  EXPECT_EQ(j["series"][0]["counts"], (std::vector<std::int64_t>{20, 30})) << j["series"].dump(1).substr(0, 2000);
  EXPECT_EQ(j["series"][0]["new"], false);
}

TEST_F(Cli, DiffNeedsTwoInputs) {
  RunResult one = run({"diff", causes("growth/snap1.txt")});
  EXPECT_TRUE(exited_with(one, 2));
  EXPECT_FALSE(one.err.empty()) << one.describe();
  EXPECT_TRUE(one.out.empty()) << one.describe();
  EXPECT_TRUE(exited_with(run({"diff", "--json", causes("growth/snap1.txt")}), 2));
  EXPECT_TRUE(exited_with(run({"diff"}), 2));
}

// ---------------------------------------------------------------------------
// classify.

// Each cause's three snapshots with the Go sources at hand: the group
// expected.tsv names has the cause it names, and leaks (it grows).
TEST_F(Cli, ClassifyFindsEachCause) {
  for (const Expected& e : expected_causes()) {
    SCOPED_TRACE(e.dir);
    std::vector<std::string> args{"classify", "--json"};
    for (const char* s : {"/snap1.txt", "/snap2.txt", "/snap3.txt"}) args.push_back(causes(e.dir + s));
    args.insert(args.end(), {"--source", go_programs()});
    RunResult r = run(args);
    ASSERT_TRUE(exited_with(r, 0));
    json j = parse_json(r);
    ASSERT_EQ(j["sources"].size(), 3u);
    std::int64_t leaks = 0, suspects = 0;
    const json* found = nullptr;
    for (const json& f : j["findings"]) {
      leaks += f["verdict"] == "leak";
      suspects += f["verdict"] == "suspect";
      if (where_of(f["group"]) == e.where && found == nullptr) found = &f;
    }
    EXPECT_EQ(j["leaks"], leaks);
    EXPECT_EQ(j["suspects"], suspects);
    if (e.cause == "none") {
      EXPECT_EQ(leaks + suspects, 0) << r.out;
      continue;
    }
    ASSERT_NE(found, nullptr) << "no finding for " << e.where << "\n" << r.out;
    EXPECT_EQ((*found)["cause"], e.cause) << found->dump(2);
    EXPECT_EQ((*found)["verdict"], "leak") << found->dump(2);
    EXPECT_FALSE((*found)["explanation"].get<std::string>().empty());
    EXPECT_FALSE((*found)["fix"].get<std::string>().empty());
  }
}

TEST_F(Cli, ClassifyTextNamesTheLeak) {
  RunResult r = run(concat({"classify"}, concat(growth_snaps(), {"--source", go_programs()})));
  ASSERT_TRUE(exited_with(r, 0));
  EXPECT_TRUE(contains(r.out, "[leak]")) << r.out;
  EXPECT_TRUE(contains(r.out, "send-no-receiver")) << r.out;
  EXPECT_TRUE(contains(r.out, "main.handleQuote.func1")) << r.out;
  EXPECT_TRUE(contains(r.out, "10 -> 20 -> 30")) << r.out;                          // the evidence
  EXPECT_TRUE(contains(r.out, "answer <- slowBackend(symbol, gate)")) << r.out;     // the source line
  EXPECT_TRUE(contains(r.out, "(3 snapshots)")) << r.out;
  EXPECT_FALSE(contains(r.out, "main.queueWorker")) << "ok groups only with --all\n" << r.out;

  RunResult all = run(concat({"classify", "--all"}, growth_snaps()));
  ASSERT_TRUE(exited_with(all, 0));
  EXPECT_TRUE(contains(all.out, "[ok]")) << all.out;
  EXPECT_TRUE(contains(all.out, "main.queueWorker")) << all.out;

  RunResult healthy = run({"classify", causes("healthy/snap1.txt"), causes("healthy/snap2.txt"),
                           causes("healthy/snap3.txt"), "--source", go_programs()});
  ASSERT_TRUE(exited_with(healthy, 0));
  EXPECT_TRUE(contains(healthy.out, "0 leaks, 0 suspects")) << healthy.out;
}

// --source names one directory; the dumps after it are still dumps
// (`classify --source DIR a b c` must read a, b and c).
TEST_F(Cli, SourceOptionTakesOneDirectory) {
  for (const std::vector<std::string>& source : std::vector<std::vector<std::string>>{
           {"--source", go_programs()}, {"--source=" + go_programs()}}) {
    SCOPED_TRACE(source[0]);
    RunResult r = run(concat(concat({"classify", "--json"}, source), growth_snaps()));
    ASSERT_TRUE(exited_with(r, 0));
    json j = parse_json(r);
    EXPECT_EQ(j["sources"].size(), 3u) << r.out.substr(0, 400);
    EXPECT_EQ(j["leaks"], 1) << r.out.substr(0, 400);
  }
  // watch: the URL after --source is the URL (the bad --every shows the
  // command line was read as meant, before any poll).
  RunResult w = run({"watch", "--source", go_programs(), "http://127.0.0.1:1/", "--every", "10x"});
  EXPECT_TRUE(exited_with(w, 2));
  EXPECT_TRUE(contains(w.err, "--every")) << w.describe();
}

// ---------------------------------------------------------------------------
// --fail-on.

TEST_F(Cli, FailOnLeak) {
  RunResult leak = run({"classify", causes("nil-channel-send/snap3.txt"), "--fail-on", "leak"});
  ASSERT_TRUE(exited_with(leak, 1));
  EXPECT_TRUE(contains(leak.err, "--fail-on leak")) << leak.describe();
  EXPECT_TRUE(contains(leak.err, "nil-channel-send")) << leak.describe();
  EXPECT_TRUE(contains(leak.out, "[leak]")) << "the output comes first\n" << leak.describe();

  std::vector<std::string> healthy{causes("healthy/snap1.txt"), causes("healthy/snap2.txt"), causes("healthy/snap3.txt")};
  EXPECT_TRUE(exited_with(run(concat({"classify", "--fail-on", "leak"}, concat(healthy, {"--source", go_programs()}))), 0));
  EXPECT_TRUE(exited_with(run(concat({"classify", "--fail-on", "suspect"}, concat(healthy, {"--source", go_programs()}))), 0));

  // Any command can gate: summary and diff judge the same way.
  EXPECT_TRUE(exited_with(run({"summary", "--fail-on", "leaked", causes("nil-channel-send/snap3.txt")}), 1));
  RunResult json_out = run({"summary", "--json", "--fail-on", "leak", causes("nil-channel-send/snap3.txt")});
  EXPECT_TRUE(exited_with(json_out, 1));
  parse_json(json_out);  // stdout stays JSON; the verdict goes to stderr
}

TEST_F(Cli, FailOnMetrics) {
  const std::string snap3 = causes("growth/snap3.txt");
  EXPECT_TRUE(exited_with(run({"summary", snap3, "--fail-on", "count>10000"}), 0));
  RunResult count = run({"summary", snap3, "--fail-on", "count>5"});
  EXPECT_TRUE(exited_with(count, 1));
  EXPECT_TRUE(contains(count.err, "count>5")) << count.describe();
  EXPECT_TRUE(contains(count.err, "30")) << count.describe();
  EXPECT_TRUE(exited_with(run({"summary", snap3, "--fail-on", "count>=30"}), 1));
  EXPECT_TRUE(exited_with(run({"summary", snap3, "--fail-on", "count==31"}), 0));
  EXPECT_TRUE(exited_with(run({"summary", snap3, "--fail-on", "total>36"}), 1));
  EXPECT_TRUE(exited_with(run({"summary", snap3, "--fail-on", "total<=36"}), 0));

  RunResult growth = run(concat({"diff", "--fail-on", "growth>15"}, growth_snaps()));
  EXPECT_TRUE(exited_with(growth, 1));
  EXPECT_TRUE(contains(growth.err, "growth>15")) << growth.describe();
  EXPECT_TRUE(contains(growth.err, "main.handleQuote.func1")) << growth.describe();
  EXPECT_TRUE(exited_with(run(concat({"diff", "--fail-on", "growth>20"}, growth_snaps())), 0));
  EXPECT_TRUE(exited_with(run(concat({"diff", "--fail-on", "total-growth>100"}, growth_snaps())), 0));
  EXPECT_TRUE(exited_with(run(concat({"diff", "--fail-on", "total-growth>=15"}, growth_snaps())), 1));  // 22 -> 37
  // With the source at hand only handleQuote's group leaks (cacheWarmer's
  // select has a timeout case).
  const std::vector<std::string> with_source = concat(growth_snaps(), {"--source", go_programs()});
  EXPECT_TRUE(exited_with(run(concat({"classify", "--fail-on", "leaks>0"}, with_source)), 1));
  EXPECT_TRUE(exited_with(run(concat({"classify", "--fail-on", "leaks>1"}, with_source)), 0));
  EXPECT_TRUE(exited_with(run(concat({"classify", "--fail-on", "leaks==1"}, with_source)), 1));

  // Terms separated by commas: any holds; stderr names only those that held.
  RunResult any = run(concat({"diff", "--fail-on", "count>10000, growth>15"}, growth_snaps()));
  EXPECT_TRUE(exited_with(any, 1));
  EXPECT_TRUE(contains(any.err, "growth>15")) << any.describe();
  EXPECT_FALSE(contains(any.err, "count>10000")) << any.describe();
  EXPECT_TRUE(exited_with(run(concat({"diff", "--fail-on", "count>10000,total-growth>100"}, growth_snaps())), 0));
}

TEST_F(Cli, FailOnCauseMatchesOnlyThatCause) {
  for (const Expected& e : expected_causes()) {
    SCOPED_TRACE(e.dir);
    RunResult r = run({"classify", causes(e.dir + "/snap1.txt"), causes(e.dir + "/snap2.txt"),
                       causes(e.dir + "/snap3.txt"), "--source", go_programs(), "--fail-on", "cause=nil-channel-send"});
    EXPECT_TRUE(exited_with(r, e.dir == "nil-channel-send" ? 1 : 0));
    if (e.dir == "nil-channel-send") {
      EXPECT_TRUE(contains(r.err, "cause=nil-channel-send")) << r.describe();
    }
  }
}

// A bad expression is a usage error, found before any input is read: the
// input here does not exist, and the message is about --fail-on.
TEST_F(Cli, MalformedFailOnExitsTwoBeforeReadingInput) {
  const std::string missing = (dir_ / "never-read.txt").string();
  for (const std::string expr : {"growth>>", "bogus", "count>x", "cause=nope", "", " ", ",", "leak,", "count>",
                                 ">5", "count=>5", "count>5x", "count>99999999999999999999", "leak;count>5"}) {
    SCOPED_TRACE("--fail-on '" + expr + "'");
    RunResult r = run({"summary", missing, "--fail-on", expr});
    EXPECT_TRUE(exited_with(r, 2));
    EXPECT_TRUE(contains(r.err, "--fail-on")) << r.describe();
    EXPECT_FALSE(contains(r.err, missing)) << "read the input first\n" << r.describe();
  }
  // Nor is a URL fetched.
  std::atomic<int> requests{0};
  TestServer server([&](httplib::Server& s) {
    s.Get("/dump", [&](const httplib::Request&, httplib::Response& res) {
      ++requests;
      res.set_content("goroutine 1 [running]:\nmain.main()\n\t/a.go:1\n", "text/plain");
    });
  });
  EXPECT_TRUE(exited_with(run({"summary", server.url("/dump"), "--fail-on", "bogus"}), 2));
  EXPECT_TRUE(exited_with(run({"watch", server.url("/dump"), "--every", "100ms", "--for", "200ms", "--fail-on", "bogus"}), 2));
  EXPECT_EQ(requests.load(), 0);
  // The message names the bad term.
  RunResult r = run({"summary", missing, "--fail-on", "leak,cause=nope"});
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_TRUE(contains(r.err, "nope")) << r.describe();
}

// ---------------------------------------------------------------------------
// report --html.

TEST_F(Cli, ReportWritesASelfContainedPage) {
  const std::string out = (dir_ / "out.html").string();
  RunResult r = run(concat({"report", "--html", out}, growth_snaps()));
  ASSERT_TRUE(exited_with(r, 0));
  EXPECT_TRUE(contains(r.out, out)) << r.describe();
  ASSERT_TRUE(fs::exists(out));
  const std::string html = read_file(out);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u) << html.substr(0, 200);
  EXPECT_FALSE(contains(html, "http://")) << "fetches from the network?";
  EXPECT_FALSE(contains(html, "https://")) << "fetches from the network?";
  EXPECT_TRUE(contains(html, "main.handleQuote.func1"));
  EXPECT_TRUE(contains(html, "</html>"));

  // --json prints the classification; --fail-on works as for the others.
  const std::string out2 = (dir_ / "out2.html").string();
  RunResult js = run(concat({"report", "--json", "--fail-on", "leak", "--html", out2},
                            concat(growth_snaps(), {"--source", go_programs()})));
  EXPECT_TRUE(exited_with(js, 1));
  EXPECT_EQ(parse_json(js)["leaks"], 1);
  EXPECT_TRUE(fs::exists(out2));
}

TEST_F(Cli, ReportToAnUnwritablePathExitsTwo) {
  const std::string in_missing_dir = (dir_ / "no-such-dir" / "out.html").string();
  RunResult r = run({"report", "--html", in_missing_dir, causes("growth/snap3.txt")});
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_TRUE(contains(r.err, in_missing_dir)) << r.describe();

  RunResult to_dir = run({"report", "--html", dir_.string(), causes("growth/snap3.txt")});
  EXPECT_TRUE(exited_with(to_dir, 2));

  if (geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir_ / "readonly");
    fs::permissions(dir_ / "readonly", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_TRUE(exited_with(run({"report", "--html", (dir_ / "readonly" / "out.html").string(),
                                 causes("growth/snap3.txt")}), 2));
  }
  EXPECT_TRUE(exited_with(run({"report", causes("growth/snap3.txt")}), 2));  // --html is required

  // A bad input writes no page.
  const std::string page = (dir_ / "never.html").string();
  EXPECT_TRUE(exited_with(run({"report", "--html", page, (dir_ / "missing.txt").string()}), 2));
  EXPECT_FALSE(fs::exists(page));
}

// ---------------------------------------------------------------------------
// watch.

// Serves snap1, snap2, snap3 of the growth cause in turn, then snap3 again.
class GrowingEndpoint {
 public:
  GrowingEndpoint()
      : snaps_{read_file(causes("growth/snap1.txt")), read_file(causes("growth/snap2.txt")),
               read_file(causes("growth/snap3.txt"))},
        server_([this](httplib::Server& s) {
          s.Get("/debug/pprof/goroutine", [this](const httplib::Request&, httplib::Response& res) {
            int n = requests_++;
            res.set_content(snaps_[std::min(n, 2)], "text/plain; charset=utf-8");
          });
        }) {}
  std::string url() const { return server_.url("/debug/pprof/goroutine?debug=2"); }
  int requests() const { return requests_.load(); }

 private:
  std::vector<std::string> snaps_;
  std::atomic<int> requests_{0};
  TestServer server_;
};

std::size_t poll_lines(const std::string& text) {
  static const std::regex poll_line(R"(^\d\d:\d\d:\d\d  poll +\d+ .*goroutines.*)");
  std::size_t n = 0;
  for (const std::string& line : lines_of(text)) n += std::regex_match(line, poll_line);
  return n;
}

TEST_F(Cli, WatchReportsTheGrowingGroup) {
  GrowingEndpoint endpoint;
  RunResult r = run({"watch", endpoint.url(), "--every", "200ms", "--for", "1s", "--fail-on", "leak", "--source",
                     go_programs()},
                    "", 15s);
  ASSERT_TRUE(exited_with(r, 1));
  EXPECT_LT(r.elapsed, 5s);
  EXPECT_GE(endpoint.requests(), 3);
  EXPECT_EQ(poll_lines(r.out), static_cast<std::size_t>(endpoint.requests())) << r.out;
  EXPECT_TRUE(contains(r.out, "fastest: +20 main.handleQuote.func1")) << r.out;  // from the third poll on
  // Then the diff and the classification.
  std::size_t verdict = r.out.find("[leak]");
  ASSERT_NE(verdict, std::string::npos) << r.out;
  EXPECT_TRUE(contains(r.out.substr(verdict), "main.handleQuote.func1")) << r.out;
  EXPECT_TRUE(contains(r.out.substr(verdict), "send-no-receiver")) << r.out;
  EXPECT_TRUE(contains(r.err, "--fail-on leak")) << r.describe();
  // The last line: the verdict at a glance.
  std::vector<std::string> lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("verdict: LEAK", 0), 0u) << r.out;
  EXPECT_TRUE(contains(lines.back(), "main.handleQuote.func1")) << r.out;
}

TEST_F(Cli, WatchJsonIsOneDocument) {
  GrowingEndpoint endpoint;
  RunResult r = run({"watch", endpoint.url(), "--every", "200ms", "--for", "600ms", "--json", "--fail-on", "leak",
                     "--source", go_programs()},
                    "", 15s);
  ASSERT_TRUE(exited_with(r, 1));
  json j = parse_json(r);
  EXPECT_EQ(j["sources"].size(), static_cast<std::size_t>(endpoint.requests()));
  ASSERT_FALSE(j["series"].empty());
  EXPECT_EQ(j["series"][0]["group"]["where"], "main.handleQuote.func1");
  EXPECT_EQ(j["series"][0]["growing"], true);
  bool leak = false;
  for (const json& f : j["findings"]) {
    if (f["group"].value("where", "") == "main.handleQuote.func1") leak = f["verdict"] == "leak";
  }
  EXPECT_TRUE(leak) << j["findings"].dump(2);
  // The per-poll lines go to stderr, out of the JSON's way.
  EXPECT_EQ(poll_lines(r.err), static_cast<std::size_t>(endpoint.requests())) << r.err;
}

// watch.h: "polls right away, then every `every` until `duration` has
// passed". An endpoint slower than --every must not stretch --for: the
// polls that fell behind are skipped, not fired back to back.
TEST_F(Cli, WatchOnASlowEndpointStillEndsAfterFor) {
  const std::string body = read_file(causes("growth/snap3.txt"));
  std::atomic<int> requests{0};
  TestServer slow([&](httplib::Server& s) {
    s.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
      ++requests;
      std::this_thread::sleep_for(300ms);
      res.set_content(body, "text/plain");
    });
  });
  RunResult r = run({"watch", slow.url("/slow"), "--every", "50ms", "--for", "1s", "--timeout", "5s"}, "", 5s);
  EXPECT_TRUE(exited_with(r, 0));
  EXPECT_LT(r.elapsed, 3500ms) << requests.load() << " polls\n" << r.describe();
  EXPECT_LE(requests.load(), 6) << "one poll per 300 ms at most, in 1 s (and the last one)";
}

TEST_F(Cli, WatchOnADeadUrlExitsTwo) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/debug/pprof/goroutine?debug=2";
  RunResult r = run({"watch", url, "--every", "100ms", "--for", "300ms", "--timeout", "500ms"}, "", 15s);
  EXPECT_TRUE(exited_with(r, 2));
  EXPECT_LT(r.elapsed, 5s);
  EXPECT_TRUE(contains(r.err, url)) << r.describe();
  EXPECT_TRUE(contains(r.err, "poll")) << r.describe();

  // An endpoint that answers with something else is as dead.
  TestServer html([](httplib::Server& s) {
    s.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html><body>hello</body></html>", "text/html");
    });
  });
  RunResult page = run({"watch", html.url("/"), "--every", "100ms", "--for", "300ms"}, "", 15s);
  EXPECT_TRUE(exited_with(page, 2));
  EXPECT_TRUE(contains(page.err, "HTML")) << page.describe();
}

TEST_F(Cli, WatchRejectsBadDurations) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"--every", "10x"}, {"--every", "0"}, {"--every", "-1s"}, {"--every", ""}, {"--for", "soon"}}) {
    SCOPED_TRACE(flags[0] + " '" + flags[1] + "'");
    RunResult r = run({"watch", url, flags[0], flags[1]}, "", 10s);
    EXPECT_TRUE(exited_with(r, 2));
    EXPECT_TRUE(contains(r.err, flags[0])) << r.describe();
    EXPECT_LT(r.elapsed, 3s) << "polled before checking its flags";
  }
  EXPECT_TRUE(exited_with(run({"watch"}), 2));
}

}  // namespace
