#!/usr/bin/env bash
# Install-consumer check: installs a built goro into a temporary prefix, then
# builds and runs two tiny consumers against that install only:
#   1. a CMake project using find_package(goro) and the target goro::goro;
#   2. a single file compiled with `pkg-config --cflags --libs goro`.
# Usage: scripts/install-check.sh [BUILD_DIR]   (default: build/default)
# Exits non-zero, saying which step failed, when anything is missing or fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/default}
[[ -f $build/CMakeCache.txt ]] || { echo "install-check: $build is not a configured build directory" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/goro-install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { printf 'install-check: %s\n' "$*"; }
fail() { printf 'install-check: FAILED: %s\n' "$*" >&2; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "cmake --install"; }

libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
libdir=${libdir:-lib}
for f in include/goro/goro.h include/goro/go.h include/goro/sync.h include/goro/time.h \
         "$libdir/cmake/goro/goroConfig.cmake" "$libdir/cmake/goro/goroConfigVersion.cmake" \
         "$libdir/cmake/goro/goroTargets.cmake" "$libdir/pkgconfig/goro.pc"; do
  [[ -f $prefix/$f ]] || fail "missing $f in the install"
done
ls "$prefix/$libdir"/libgoro.* >/dev/null 2>&1 || fail "missing $libdir/libgoro.a (or .so) in the install"
step "installed headers, $(cd "$prefix/$libdir" && ls libgoro.*), goroConfig.cmake, goro.pc"

# The analyzer: installed, runnable from the prefix, and working on a dump.
[[ -x $prefix/bin/goro-leaks ]] || fail "missing bin/goro-leaks in the install"
"$prefix/bin/goro-leaks" summary "$root/tests/leaks/fixtures/go119_stack_all.txt" >"$work/leaks.out" 2>&1 ||
  { cat "$work/leaks.out" >&2; fail "installed goro-leaks could not read a dump"; }
grep -q "6 goroutines in 4 groups" "$work/leaks.out" || { cat "$work/leaks.out" >&2; fail "installed goro-leaks: wrong summary"; }
step "installed bin/goro-leaks reads a dump"

# The consumer: only public API, checked results, exit 0 on success.
mkdir -p "$work/consumer"
cat >"$work/consumer/main.cc" <<'EOF'
#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdio>

int main() {
  return goro::run([] {
    std::atomic<int> ran{0};
    goro::WaitGroup wg;
    for (int i = 0; i < 100; ++i) {
      wg.add(1);
      goro::go([&ran, &wg, i] {
        goro::sleep(std::chrono::milliseconds(i % 3));
        ran.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    bool ok = ran.load() == 100 && goro::id() == 1 && goro::maxprocs() >= 1;
    std::printf("consumer: %d goroutines ran, main is goroutine %llu, maxprocs %d: %s\n", ran.load(),
                static_cast<unsigned long long>(goro::id()), goro::maxprocs(), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
  });
}
EOF
cat >"$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(goro_consumer LANGUAGES CXX)
find_package(goro 0.1 REQUIRED)
find_package(goro 0.1 REQUIRED)  # a second find_package must be harmless
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE goro::goro)
EOF

step "find_package(goro) consumer: configure, build, run"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$work/consumer" -B "$work/consumer/build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; fail "configuring the find_package(goro) consumer"; }
cmake --build "$work/consumer/build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the find_package(goro) consumer"; }
"$work/consumer/build/consumer" || fail "running the find_package(goro) consumer"

step "pkg-config consumer: c++ main.cc \$(pkg-config --cflags --libs goro)"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs goro) || fail "pkg-config --cflags --libs goro"
step "  pkg-config says: $flags"
# shellcheck disable=SC2086  # the flags are meant to split
"${CXX:-c++}" "$work/consumer/main.cc" $flags -o "$work/consumer-pc" || fail "building the pkg-config consumer"
"$work/consumer-pc" || fail "running the pkg-config consumer"

step "passed"
