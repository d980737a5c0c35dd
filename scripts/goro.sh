#!/usr/bin/env bash
# goro's developer commands (Debian 12, Linux x86-64/aarch64).
#
#   bash scripts/goro.sh demo    install missing dependencies, build the `default`
#                                preset's demo and run it
#   bash scripts/goro.sh test    install missing dependencies, then for each of the
#                                presets default, asan and tsan: configure, build,
#                                ctest; then the install-consumer check. Ends with
#                                one line "N passed, M failed" and fails if M > 0.
#   bash scripts/goro.sh deps    only install missing dependencies
#
# Dependencies are Debian packages, installed with apt-get only when
# dpkg-query says one is missing (so a second run costs a fraction of a
# second). Needs root, or sudo.
#
# Environment: GORO_JOBS (build parallelism, default: CPU count),
# GORO_TEST_TIMEOUT (seconds per test without its own TIMEOUT, default 300),
# GORO_PRESETS (presets `test` runs, default "default asan tsan").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# cmake, ninja, compilers (clang + its runtimes for the sanitizer presets),
# libraries used now (libdw) and by the coming parts (Boost.Context, libunwind,
# protobuf for profile.proto, GoogleTest, Google Benchmark, cpp-httplib, CLI11,
# fmt, nlohmann-json), Go for the benchmarks' twins and the leak programs, graphviz
# for pprof checks, Chromium (headless) for the goro-leaks HTML report test.
DEPS=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config libboost-context-dev libdw-dev
      libunwind-dev zlib1g-dev libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev
      libbenchmark-dev libcpp-httplib-dev libcli11-dev libfmt-dev nlohmann-json3-dev golang-go
      graphviz python3 chromium)

JOBS=${GORO_JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { printf '\n== %s\n' "$*"; }

deps() {
  local installed missing=() p
  # One dpkg-query for all (it names only the packages it knows, and fails
  # when some are unknown: that is what we are asking).
  installed=" $({ dpkg-query -W -f='${Package}:${db:Status-Abbrev} ' "${DEPS[@]}" 2>/dev/null || true; } |
                tr -s ' ') "
  for p in "${DEPS[@]}"; do
    [[ $installed == *" $p:ii "* ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    echo "goro: all ${#DEPS[@]} dependencies are installed"
    return 0
  fi
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "goro: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  say "installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

demo() {
  deps
  say "build (preset default)"
  cmake --preset default
  cmake --build --preset default --target goro_demo -j "$JOBS"
  say "run build/default/examples/goro_demo"
  ./build/default/examples/goro_demo
}

# Results of `test`, one entry per step, printed again at the end.
summary=()
passed=0
failed=0

# ctest_preset NAME: configure, build and test one preset; adds to the counts.
# A step that fails before ctest (configure, build) counts as one failure, and
# so does a ctest run that found no tests: a CI that ran no test proves nothing.
ctest_preset() {
  local name=$1 log rc=0 line
  local start=$SECONDS
  say "preset $name: configure"
  if ! cmake --preset "$name"; then
    summary+=("$name: configure FAILED"); failed=$((failed + 1)); return
  fi
  say "preset $name: build"
  if ! cmake --build --preset "$name" -j "$JOBS"; then
    summary+=("$name: build FAILED"); failed=$((failed + 1)); return
  fi
  say "preset $name: ctest"
  log="build/$name/goro-ctest.log"
  local runner=()
  # clang 14's TSan cannot map its shadow memory with more than 28 bits of
  # mmap randomisation; run without ASLR there when the kernel lets us.
  if [[ $name == tsan && $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28) -gt 28 ]] &&
     setarch "$(uname -m)" -R true 2>/dev/null; then
    runner=(setarch "$(uname -m)" -R)
  fi
  "${runner[@]}" ctest --preset "$name" --no-tests=error --timeout "${GORO_TEST_TIMEOUT:-300}" 2>&1 |
    tee "$log" || rc=$?
  line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    local f=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]}
    passed=$((passed + t - f)); failed=$((failed + f))
    # ctest exiting non-zero with no failed test (e.g. it crashed) is a failure too.
    if ((f == 0 && rc != 0)); then failed=$((failed + 1)); line="$line (but ctest exited $rc)"; fi
    summary+=("$name: $line [$((SECONDS - start)) s]")
  elif grep -q 'No tests were found' "$log"; then
    summary+=("$name: no tests were found (counted as 1 failure)"); failed=$((failed + 1))
  else
    summary+=("$name: ctest exited $rc without a summary (counted as 1 failure)"); failed=$((failed + 1))
  fi
}

run_tests() {
  deps
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
  local presets name t0=$SECONDS
  read -r -a presets <<<"${GORO_PRESETS:-default asan tsan}"
  for name in "${presets[@]}"; do
    ctest_preset "$name"
  done
  if [[ " ${presets[*]} " == *" default "* ]]; then
    say "install-consumer check (build/default)"
    if bash scripts/install-check.sh build/default; then
      summary+=("install-check: passed (find_package(goro) and pkg-config consumers)"); passed=$((passed + 1))
    else
      summary+=("install-check: FAILED"); failed=$((failed + 1))
    fi
  fi
  say "summary ($((SECONDS - t0)) s)"
  printf '%s\n' "${summary[@]}"
  printf '%d passed, %d failed\n' "$passed" "$failed"
  ((failed == 0))
}

case ${1:-} in
  deps) deps ;;
  demo) demo ;;
  test) run_tests ;;
  *) sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
