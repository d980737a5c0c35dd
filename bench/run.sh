#!/usr/bin/env bash
# bench/run.sh: build goro's benchmarks and their Go twins, run both with the
# same parallelism, and print the goro-vs-Go table.
#
#   bench/run.sh [--procs N] [--reps R] [--cases "spawn yield skynet ..."]
#                [--build-dir DIR] [--no-build] [--raw FILE]
#
#   --procs N    GORO_MAXPROCS = GOMAXPROCS = N (default 2, or $BENCH_PROCS)
#   --reps R     measured repetitions per timing case, after one warm-up
#                (default 5, or $BENCH_REPS; the dump cases default to 3);
#                the table shows the median and min
#   --cases L    which cases, space-separated (default: all fifteen: spawn
#                yield skynet pingpong buffered select2 after mutex rwmutex
#                wgfan ctxtree ctxbuild pool rss100k rss1m); a group name
#                stands for its cases: runtime (spawn yield skynet), chan
#                (pingpong buffered select2 after), sync (mutex rwmutex wgfan
#                ctxtree ctxbuild pool), rss (rss100k rss1m), all; and dump
#                (dump1m1 dump1m2), which is not in all: each parks a million
#                goroutines (4 GB RSS in goro; 2.7 GB in Go, 4.1 GB during
#                its debug=1 dump) and the pair takes about 3 minutes, most
#                of it Go's debug=2; ask for it: --cases dump or "all dump"
#   --build-dir DIR  CMake build directory, absolute or relative to the
#                repository root (default build/default); both binaries and
#                the raw lines go to DIR/bench, so concurrent users of one
#                checkout do not overwrite each other's build or results
#   --no-build   use the binaries already built in DIR/bench
#   --raw FILE   also keep every INFO/RESULT line there (default:
#                DIR/bench/last-run.txt)
#
# What it does, from the repository root:
#   1. C++: cmake --preset default -B DIR && cmake --build DIR --target goro_bench
#   2. Go:  go build (bench/go, standard library only, offline) -> DIR/bench/go_bench
#   3. for every case, one fresh process of goro_bench then one of go_bench,
#      both with `--case NAME --reps R`; each prints
#      `RESULT <case> <median> <unit> min=<min> reps=<R> samples=<...>`
#   4. prints `case | unit | goro | Go | ratio | goal`, ratio = goro/Go (lower
#      is better: every case measures time or memory). A case may print more
#      RESULT lines named <case><suffix> (dump1m1 prints dump1m1probe, the
#      probe goroutine's worst latency during the dumps); each gets its row.
#      After a dump case, its INFO lines (output bytes, goroutine blocks,
#      probe wake-ups) follow the table: a Go debug=2 dump of exactly
#      67108864 bytes was truncated by Go at 64 MiB (its stack_all_1gib line
#      times one complete runtime.Stack(all) instead).
# Exit status: 0, or 1 when any case failed (a wrong sum or an early timer, a
# crash, a timeout).
# Takes 2-4 minutes on a 2-core machine (the 1M RSS case is most of it; the
# sync group adds 15-30 s).
# docs/performance.md explains each case and holds the reference results.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

procs="${BENCH_PROCS:-2}"
reps="${BENCH_REPS:-5}"
reps_given=""  # --reps or $BENCH_REPS: applies to the dump cases too
[[ -n "${BENCH_REPS:-}" ]] && reps_given=1
# Case groups (goro_bench and go_bench know the same names); run.sh expands
# them and still runs one case per process.
declare -A groups=(
  [runtime]="spawn yield skynet"
  [chan]="pingpong buffered select2 after"
  [sync]="mutex rwmutex wgfan ctxtree ctxbuild pool"
  [rss]="rss100k rss1m"
  [dump]="dump1m1 dump1m2"
)
groups[all]="${groups[runtime]} ${groups[chan]} ${groups[sync]} ${groups[rss]}"
cases="${groups[all]}"
build=1
build_dir="build/default"
raw=""  # default: $build_dir/bench/last-run.txt
case_timeout="${BENCH_TIMEOUT:-600}"  # seconds per process

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --procs) procs="${2:?}"; shift 2 ;;
    --reps) reps="${2:?}"; reps_given=1; shift 2 ;;
    --cases) cases="${2:?}"; shift 2 ;;
    --build-dir) build_dir="${2:?}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --raw) raw="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$procs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --procs wants a positive integer" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --reps wants a positive integer" >&2; exit 2; }
expanded=""
for c in $cases; do expanded+=" ${groups[$c]:-$c}"; done
read -r -a case_list <<<"$expanded"
cases="${case_list[*]}"
[[ -n "$cases" ]] || { echo "run.sh: --cases is empty" >&2; exit 2; }

build_dir="${build_dir%/}"
goro_bin="$build_dir/bench/goro_bench"
go_bin="$build_dir/bench/go_bench"
raw="${raw:-$build_dir/bench/last-run.txt}"

if [[ $build -eq 1 ]]; then
  echo "== building in $build_dir (C++: preset default, target goro_bench; Go: go build)" >&2
  cmake --preset default -B "$build_dir" >/dev/null
  cmake --build "$build_dir" --target goro_bench >&2
  # Standard library only: no module download, no network.
  go_out="$go_bin"
  [[ "$go_out" == /* ]] || go_out="$root/$go_out"  # go build runs in bench/go
  (cd bench/go && GOFLAGS='' GOPROXY=off go build -o "$go_out" .) >&2
fi
for b in "$goro_bin" "$go_bin"; do
  [[ -x "$b" ]] || { echo "run.sh: $b missing (run without --no-build)" >&2; exit 1; }
done

export GORO_MAXPROCS="$procs" GOMAXPROCS="$procs"
mkdir -p "$(dirname "$raw")"
{
  echo "# bench/run.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# procs=$procs reps=$reps nproc=$(nproc) kernel=$(uname -r)"
  echo "# $(go version)"
  echo "# $(g++ --version | head -1)"
  echo "# git $(git describe --always --dirty 2>/dev/null || echo '?')"
  echo "# loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw"

# case_reps CASE: the repetitions CASE runs with.
case_reps() {
  if [[ "$1" == dump* && -z "$reps_given" ]]; then echo 3; else echo "$reps"; fi
}

declare -A med mn unit failed
rows=()  # table rows in order: every case, then the extra RESULT names it printed
add_row() { local r; for r in "${rows[@]}"; do [[ "$r" == "$1" ]] && return; done; rows+=("$1"); }
run_one() {  # impl binary case
  local impl="$1" bin="$2" c="$3" out rc=0
  out="$(timeout "$case_timeout" "$bin" --case "$c" --reps "$(case_reps "$c")" 2>&1)" || rc=$?
  printf '%s\n' "$out" | sed "s/^/[$impl] /" >>"$raw"
  if [[ $rc -ne 0 ]]; then
    failed[$impl.$c]="exit $rc"
    echo "run.sh: $impl $c FAILED (exit $rc):" >&2
    printf '%s\n' "$out" | grep -v '^INFO' | tail -5 | sed 's/^/    /' >&2
    return
  fi
  local line mp
  # Equal parallelism or nothing: each binary reports the worker count it got.
  mp="$(printf '%s\n' "$out" | sed -n 's/^INFO impl=[a-z]* maxprocs=\([0-9]*\).*/\1/p' | head -1)"
  if [[ "$mp" != "$procs" ]]; then
    failed[$impl.$c]="maxprocs ${mp:-?}"
    echo "run.sh: $impl $c ran with maxprocs=${mp:-?}, want $procs" >&2
    return
  fi
  line="$(printf '%s\n' "$out" | grep "^RESULT $c " | tail -1)"
  if [[ -z "$line" ]]; then
    failed[$impl.$c]="no RESULT"
    echo "run.sh: $impl $c printed no RESULT line" >&2
    return
  fi
  # RESULT <case> <median> <unit> min=<min> ..., and RESULT <case><suffix> ...
  local name
  while read -r _ name m u mi _; do
    med[$impl.$name]="$m"
    mn[$impl.$name]="${mi#min=}"
    unit[$name]="$u"
    add_row "$name"
  done < <(printf '%s\n' "$out" | grep "^RESULT $c[a-z0-9]* ")
}

start=$SECONDS
for c in $cases; do
  echo "== $c (GORO_MAXPROCS=GOMAXPROCS=$procs)" >&2
  add_row "$c"
  run_one goro "$goro_bin" "$c"
  run_one go "$go_bin" "$c"
done

# base_case ROW: the case that printed ROW (dump1m1probe -> dump1m1).
base_case() {
  local c
  for c in $cases; do [[ "$1" == "$c" ]] && { echo "$c"; return; }; done
  for c in $cases; do [[ "$1" == "$c"* ]] && { echo "$c"; return; }; done
  echo "$1"
}

cell() {  # impl row
  local k="$1.$(base_case "$2")"
  if [[ -n "${failed[$k]:-}" ]]; then echo "FAILED (${failed[$k]})"
  elif [[ -z "${med[$1.$2]:-}" ]]; then echo "missing"
  elif [[ "$(case_reps "$2")" -gt 1 && "$2" != rss* ]]; then echo "${med[$1.$2]} (min ${mn[$1.$2]})"
  else echo "${med[$1.$2]}"; fi
}

echo
dump_note=""
[[ " $cases" == *" dump"* ]] && dump_note="; dump: median of $(case_reps dump)"
echo "goro vs Go, GORO_MAXPROCS=GOMAXPROCS=$procs, median of $reps after 1 warm-up (rss: one fresh process each$dump_note)"
row() { printf '| %-12s | %-13s | %-22s | %-22s | %-6s | %-26s |\n' "$@"; }
row case unit goro Go ratio goal
row ------------ ------------- ---------------------- ---------------------- ------ --------------------------
# ratio_goal RATIO LIMIT: "ratio <= LIMIT: met|MISSED", or "-" without a ratio.
ratio_goal() {
  [[ "$1" == "-" ]] && { echo "-"; return; }
  echo "ratio <= $2: $(awk -v r="$1" -v l="$2" 'BEGIN { print (r <= l ? "met" : "MISSED") }')"
}
status=0
for c in "${rows[@]}"; do
  b="$(base_case "$c")"
  g="${med[goro.$c]:-}" o="${med[go.$c]:-}" ratio="-" goal="-"
  if [[ -n "${failed[goro.$b]:-}${failed[go.$b]:-}" ]]; then
    status=1
  elif [[ -z "$g" || -z "$o" ]]; then
    status=1
  else
    ratio="$(awk -v a="$g" -v b="$o" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
  fi
  case "$c" in
    spawn|skynet|pingpong) goal="$(ratio_goal "$ratio" 0.50)" ;;
    buffered|select2|mutex|wgfan|ctxtree|pool) goal="$(ratio_goal "$ratio" 1.00)" ;;
    dump1m1|dump1m2) goal="$(ratio_goal "$ratio" 0.50)" ;;
    rss1m)
      [[ -n "$g" ]] && goal="goro <= 4.5 KiB: $(awk -v v="$g" 'BEGIN { print (v <= 4.5 ? "met" : "MISSED") }')" ;;
    dump1m1probe|dump1m2probe)
      [[ -n "$g" ]] && goal="goro <= 10 ms: $(awk -v v="$g" 'BEGIN { print (v <= 10 ? "met" : "MISSED") }')" ;;
  esac
  row "$c" "${unit[$c]:-?}" "$(cell goro "$c")" "$(cell go "$c")" "$ratio" "$goal"
done
echo "ratio = goro / Go (time or memory: lower is better). Raw lines: $raw ($((SECONDS - start)) s)"
if grep -q '^\[[a-z]*\] INFO dump' "$raw"; then
  echo "dump details (warm-up: bytes and \"goroutine \" lines written; timed reps: bytes, probe"
  echo "wake-ups during each dump; Go's debug=2 output of exactly 67108864 bytes is truncated;"
  echo "stack_all_1gib: one complete Go runtime.Stack(buf, true) into 1 GiB, for comparison):"
  grep '^\[[a-z]*\] INFO dump' "$raw" | grep -v ' n=' | sed 's/ rss_kib=[0-9]*//; s/^/  /'
fi
exit $status
