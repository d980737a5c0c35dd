// Running real Go from tests, offline: whether `go` is installed, a scratch
// module to `go run`, and `go tool pprof`. Tests that compare goro's output
// with Go's skip themselves (GTEST_SKIP) when have_go() is false.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace goro_test {

inline bool have_go() { return std::system("go version >/dev/null 2>&1") == 0; }

// A fresh directory for Go's files and caches, removed with the object.
struct GoScratch {
  std::string dir;
  explicit GoScratch(const std::string& name) {
    dir = ::testing::TempDir() + "goro_" + name + "_" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
  }
  ~GoScratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  GoScratch(const GoScratch&) = delete;
  GoScratch& operator=(const GoScratch&) = delete;

  // The environment Go needs inside a test: its home, caches and temporary
  // files in here, and no network.
  std::string env() const {
    return "HOME='" + dir + "' GOCACHE='" + dir + "/cache' PPROF_TMPDIR='" + dir + "' GOFLAGS= GOPROXY=off ";
  }
};

// Everything `cmd` (a shell command) writes to stdout.
inline std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
    pclose(f);
  }
  return out;
}

// Writes `program` as main.go of a module in scratch and runs it with
// `input` on stdin; returns its stdout and stderr.
inline std::string go_run(const GoScratch& scratch, const std::string& program, const std::string& input = "") {
  std::ofstream(scratch.dir + "/main.go") << program;
  std::ofstream(scratch.dir + "/go.mod") << "module scratch\n\ngo 1.19\n";
  std::ofstream(scratch.dir + "/input.txt", std::ios::binary) << input;
  return command_output("cd '" + scratch.dir + "' && " + scratch.env() + "go run . < input.txt 2>&1");
}

// `go tool pprof <args> <file>`, stdout and stderr.
inline std::string go_pprof(const GoScratch& scratch, const std::string& args, const std::string& file) {
  return command_output("cd '" + scratch.dir + "' && " + scratch.env() + "go tool pprof " + args + " '" + file +
                        "' 2>&1");
}

}  // namespace goro_test
