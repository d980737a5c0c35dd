#!/usr/bin/env bash
# bench/leaks/run.sh: goro-leaks against Go's own tooling on the same
# goroutine dumps, and goro-leaks' throughput and memory on large dumps.
#
#   bench/leaks/run.sh [--goroutines N] [--stacks S] [--reps R]
#                      [--build-dir DIR] [--work DIR] [--keep] [--no-scaling]
#
#   --goroutines N  goroutines parked by the dump generator (default 200000)
#   --stacks S      distinct stacks among them (default 2000)
#   --reps R        measured runs per command, after one warm-up whose output
#                   is checked; the tables show the median (default 5, or
#                   $BENCH_REPS)
#   --build-dir DIR CMake build directory for goro-leaks, absolute or relative
#                   to the repository root (default build/default); ignored
#                   when $GORO_LEAKS names a goro-leaks binary to use instead
#   --work DIR      where the Go program and the dumps go (default: a fresh
#                   directory under ${TMPDIR:-/tmp}, deleted at the end unless
#                   --keep); a directory given here is kept, and complete
#                   dumps found in it (their gen.log ends the run) are reused
#   --no-scaling    skip the memory-scaling dumps (2N goroutines; 2S stacks)
#
# What it does:
#   1. builds goro-leaks (cmake --preset default -B DIR, target goro-leaks)
#      unless $GORO_LEAKS is set, and bench/leaks/main.go with the local Go
#      toolchain (GOTOOLCHAIN=local GOPROXY=off: nothing is downloaded)
#   2. runs it: N goroutines in S distinct stacks -> debug=0 (pb.gz), debug=1
#      and debug=2 dumps; then, for the memory rows, 2N goroutines in S stacks
#      and N goroutines in 2S stacks (debug=2 only). Prints each dump's size.
#   3. times every command: one warm-up run (its output is checked: the
#      goroutine and group counts goro-leaks reports must be N+1 and S+1,
#      main included), then R runs; wall time from date +%s%N, max RSS from
#      /usr/bin/time -f %M; the median of each. Output goes to /dev/null.
#      go tool pprof runs with HOME and PPROF_TMPDIR in a scratch directory.
#   4. prints three markdown tables: goro-leaks vs go tool pprof; goro-leaks
#      throughput on the text dumps (also pinned to one core, taskset -c 0);
#      goro-leaks max RSS as goroutines, then distinct stacks, double.
# Exit status: 0, or 1 when a build, a dump or a check failed.
# Needs: go (1.19+), cmake + ninja + a C++20 compiler (or $GORO_LEAKS),
# /usr/bin/time, taskset. Memory: the generator holds N goroutines (about
# 2.5 KB each here) plus the debug=2 text; 200k takes ~1 GB and 1.5 minutes
# all told, --goroutines 1000000 ~9 GB at its peak (the 2N dump).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

goroutines=200000
stacks=2000
reps=${BENCH_REPS:-5}
build_dir=build/default
work=
keep=0
scaling=1
while [ $# -gt 0 ]; do
  case "$1" in
    --goroutines) goroutines=$2; shift 2 ;;
    --stacks) stacks=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --work) work=$2; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-scaling) scaling=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
for v in "$goroutines" "$stacks" "$reps"; do
  case "$v" in ''|*[!0-9]*) echo "run.sh: --goroutines, --stacks and --reps take positive integers" >&2; exit 2 ;; esac
done

if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/goro-leaks-bench.XXXXXX")
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=
log() { printf '%s\n' "$*" >&2; }

# 1. Build.
if [ -n "${GORO_LEAKS:-}" ]; then
  leaks=$GORO_LEAKS
else
  case "$build_dir" in /*) ;; *) build_dir=$root/$build_dir ;; esac
  log "== building goro-leaks in $build_dir"
  (cd "$root" && cmake --preset default -B "$build_dir" >/dev/null &&
     cmake --build "$build_dir" --target goro-leaks >/dev/null)
  leaks=$build_dir/tools/goro-leaks/goro-leaks
fi
[ -x "$leaks" ] || { echo "run.sh: no goro-leaks binary at $leaks" >&2; exit 1; }
log "== building bench/leaks (Go $(go env GOVERSION))"
(cd "$here" && go build -o "$work/leaksbench" .)

pprof_home=$work/pprof-home
mkdir -p "$pprof_home"
pprof=(env HOME="$pprof_home" PPROF_TMPDIR="$pprof_home" go tool pprof)

# 2. Dumps. gen DIR GOROUTINES STACKS FORMATS; a DIR whose gen.log says it
# is complete (a kept --work directory) is reused.
declare -A WRITE_S
gen() {
  local dir=$1 n=$2 s=$3 formats=$4
  if [ -f "$dir/gen.log" ] && grep -q "^INFO done formats=$formats\$" "$dir/gen.log"; then
    log "== reusing $dir (goroutines $n, stacks $s, debug=$formats)"
  else
    log "== parking $n goroutines in $s distinct stacks -> $dir (debug=$formats)"
    rm -f "$dir/gen.log"
    /usr/bin/time -f '%e %M' -o "$work/gen.time" \
      "$work/leaksbench" -goroutines "$n" -stacks "$s" -out "$dir" -formats "$formats" 2>"$work/gen.err" ||
      { cat "$work/gen.err" >&2; exit 1; }
    read -r gen_s gen_kb <"$work/gen.time"
    echo "INFO generator seconds=$gen_s max_rss_mb=$((gen_kb / 1024))" >>"$work/gen.err"
    echo "INFO done formats=$formats" >>"$work/gen.err"
    cp "$work/gen.err" "$dir/gen.log"
  fi
  grep -v '^INFO done' "$dir/gen.log" >&2
  local line f
  while read -r line; do
    case "$line" in
      "INFO dump "*)
        f=${line##*file=}
        WRITE_S[$f]=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$line")
        printf '   %-52s %12s bytes (%s)\n' "$f" "$(stat -c %s "$f")" "$(human "$(stat -c %s "$f")")" >&2 ;;
    esac
  done <"$dir/gen.log"
}
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
human() { awk -v b="$1" 'BEGIN { if (b < 1e6) printf "%.1f KB", b / 1e3; else printf "%.1f MB", b / 1e6 }'; }

base=$work/n${goroutines}-s${stacks}
gen "$base" "$goroutines" "$stacks" 0,1,2
if [ "$scaling" = 1 ]; then
  dbl_n=$work/n$((2 * goroutines))-s${stacks}
  dbl_s=$work/n${goroutines}-s$((2 * stacks))
  gen "$dbl_n" $((2 * goroutines)) "$stacks" 2
  gen "$dbl_s" "$goroutines" $((2 * stacks)) 2
fi

# 3. Measure. measure KEY CHECK CMD...: one checked warm-up, then $reps runs.
# CHECK is "goroutines groups" that goro-leaks' first line must report, or -.
declare -A WALL WMIN RSS
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
measure() {
  local key=$1 check=$2; shift 2
  local out=$work/out.txt i t0 t1
  "$@" >"$out" 2>"$work/cmd.err" || { log "run.sh: $key failed:"; cat "$work/cmd.err" >&2; exit 1; }
  if [ "$check" != - ]; then
    local want_g=${check% *} want_s=${check#* }
    if ! head -1 "$out" | grep -q ": $want_g goroutines in $want_s groups "; then
      log "run.sh: $key: expected $want_g goroutines in $want_s groups, got: $(head -1 "$out")"
      exit 1
    fi
  fi
  : >"$work/wall" ; : >"$work/rss"
  for ((i = 0; i < reps; i++)); do
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss.one" "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000)) >>"$work/wall"      # microseconds
    tail -1 "$work/rss.one" >>"$work/rss"           # KB
  done
  WALL[$key]=$(median <"$work/wall")
  WMIN[$key]=$(sort -n "$work/wall" | head -1)
  RSS[$key]=$(median <"$work/rss")
  log "   $key: median $(secs "${WALL[$key]}") s (min $(secs "${WMIN[$key]}")), max RSS $(rss_mb "${RSS[$key]}") MB"
}
secs() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
rss_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v b="$1" -v u="$2" 'BEGIN { printf "%.0f", b / u }'; }  # bytes/us = MB/s

d0=$base/goroutine.debug0.pb.gz
d1=$base/goroutine.debug1.txt
d2=$base/goroutine.debug2.txt
want="$((goroutines + 1)) $((stacks + 1))"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "== timing, median of $reps (after a warm-up); load average $load_before"
measure pprof_top_d0 - "${pprof[@]}" -top "$d0"
measure leaks_d0 "$want" "$leaks" summary "$d0"
measure pprof_traces_d0 - "${pprof[@]}" -traces "$d0"
measure leaks_stacks_d0 "$want" "$leaks" summary --stacks "$d0"
measure pprof_top_d1 - "${pprof[@]}" -top "$work/leaksbench" "$d1"
measure leaks_d1 "$want" "$leaks" summary "$d1"
measure leaks_d2 "$want" "$leaks" summary "$d2"
measure leaks_d2_1core "$want" taskset -c 0 "$leaks" summary "$d2"
if [ "$scaling" = 1 ]; then
  measure leaks_d2_2n "$((2 * goroutines + 1)) $((stacks + 1))" "$leaks" summary "$dbl_n/goroutine.debug2.txt"
  measure leaks_d2_2s "$((goroutines + 1)) $((2 * stacks + 1))" "$leaks" summary "$dbl_s/goroutine.debug2.txt"
fi

# 4. Tables.
size() { stat -c %s "$1"; }
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain -- tools/goro-leaks 2>/dev/null)" ]; then
  rev="$rev + uncommitted changes in tools/goro-leaks"
fi
if [ -n "${GORO_LEAKS:-}" ]; then rev="checkout at $rev, binary given by GORO_LEAKS"; fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Machine: $model, $(nproc) cores, $mem RAM; $(go env GOVERSION); goro-leaks at $rev ($leaks)"
echo "Load average (1, 5, 15 min) before timing: $load_before; after: $load_after"
echo "Dumps: $goroutines goroutines in $stacks distinct stacks (+ main). Times and max RSS: median of $reps runs after a warm-up."
echo
echo "| dump | size | Go wrote it in |"
echo "|---|---:|---:|"
for f in "$d0" "$d1" "$d2"; do
  echo "| $(basename "$f") | $(human "$(size "$f")") | ${WRITE_S[$f]} s |"
done
echo
echo "goro-leaks vs go tool pprof, same input (ratio = pprof time / goro-leaks time; > 1: goro-leaks is faster)"
echo
echo "| input | go tool pprof | time | max RSS | goro-leaks | time | max RSS | ratio |"
echo "|---|---|---:|---:|---|---:|---:|---:|"
row() {  # input pprof-label pprof-key leaks-label leaks-key
  echo "| $1 | $2 | $(secs "${WALL[$3]}") s | $(rss_mb "${RSS[$3]}") MB | $4 | $(secs "${WALL[$5]}") s | $(rss_mb "${RSS[$5]}") MB | $(ratio "${WALL[$3]}" "${WALL[$5]}")x |"
}
row "debug=0 pb.gz ($(human "$(size "$d0")"))" "-top" pprof_top_d0 "summary" leaks_d0
row "debug=0 pb.gz" "-traces" pprof_traces_d0 "summary --stacks" leaks_stacks_d0
row "debug=1 text ($(human "$(size "$d1")"))" "-top BINARY (symbolizes from it)" pprof_top_d1 "summary" leaks_d1
echo
echo "goro-leaks summary throughput on text dumps (go tool pprof cannot read debug=2); median, and best run in ()"
echo
echo "| input | size | cores | time | throughput | max RSS |"
echo "|---|---:|---|---:|---:|---:|"
trow() {  # input file cores key
  echo "| $1 | $(human "$(size "$2")") | $3 | $(secs "${WALL[$4]}") s ($(secs "${WMIN[$4]}")) | $(mbps "$(size "$2")" "${WALL[$4]}") MB/s ($(mbps "$(size "$2")" "${WMIN[$4]}")) | $(rss_mb "${RSS[$4]}") MB |"
}
trow "debug=2 text" "$d2" "all ($(nproc))" leaks_d2
trow "debug=2 text" "$d2" "1 (taskset -c 0)" leaks_d2_1core
trow "debug=1 text" "$d1" "all ($(nproc))" leaks_d1
if [ "$scaling" = 1 ]; then
  echo
  echo "goro-leaks summary memory on debug=2 text: goroutines vs distinct stacks; median, and best run in ()"
  echo
  echo "| goroutines | distinct stacks | size | time | throughput | max RSS | RSS vs first row |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  mrow() {  # goroutines stacks file key
    echo "| $1 | $2 | $(human "$(size "$3")") | $(secs "${WALL[$4]}") s ($(secs "${WMIN[$4]}")) | $(mbps "$(size "$3")" "${WALL[$4]}") MB/s ($(mbps "$(size "$3")" "${WMIN[$4]}")) | $(rss_mb "${RSS[$4]}") MB | $(ratio "${RSS[$4]}" "${RSS[leaks_d2]}")x |"
  }
  mrow "$goroutines" "$stacks" "$d2" leaks_d2
  mrow $((2 * goroutines)) "$stacks" "$dbl_n/goroutine.debug2.txt" leaks_d2_2n
  mrow "$goroutines" $((2 * stacks)) "$dbl_s/goroutine.debug2.txt" leaks_d2_2s
fi
