#!/usr/bin/env bash
# Regenerates the goroutine-leak fixtures from the real Go programs in this
# directory: builds leakcauses (standard library only, nothing is downloaded)
# and runs every cause into <outroot>/<cause>/.
#
#   tests/leaks/go/gen_fixtures.sh tests/leaks/fixtures/causes
#
# Each <outroot>/<cause>/ gets snap1.txt snap2.txt snap3.txt (debug=2),
# snap3.debug1.txt (debug=1), snap3.pb.gz (debug=0) and stack3.txt
# (runtime.Stack(buf, true)). Afterwards every row of expected.tsv (next to
# the fixtures in the repository) is checked against the new dumps: the named
# function must head a goroutine in snapshot 1 and more of them in snapshot 3
# (endless-loop: at least as many); for a `-` row (healthy) the number of
# goroutines must be the same in snapshots 1 and 3.
set -euo pipefail

die() { echo "gen_fixtures.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: gen_fixtures.sh <outroot>"
outroot=$1
here=$(cd "$(dirname "$0")" && pwd)
expected=$here/../fixtures/causes/expected.tsv

command -v go >/dev/null 2>&1 || die "go not found in PATH (install Go >= 1.19, e.g. apt-get install golang-go)"

export GOTOOLCHAIN=local GOPROXY=off GO111MODULE=on GOFLAGS=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! mkdir -p "$(go env GOCACHE)" 2>/dev/null || [ ! -w "$(go env GOCACHE)" ]; then
  export GOCACHE=$tmp/gocache
fi

echo "gen_fixtures.sh: building with $(go version)"
(cd "$here" && go build -trimpath -o "$tmp/leakcauses" .) || die "go build failed"

mkdir -p "$outroot"
causes=$("$tmp/leakcauses" list) || die "leakcauses list failed"
for cause in $causes; do
  rm -rf "${outroot:?}/$cause"
  start=$(date +%s)
  if ! timeout 60 "$tmp/leakcauses" "$cause" "$outroot/$cause"; then
    die "cause $cause failed"
  fi
  for f in snap1.txt snap2.txt snap3.txt snap3.debug1.txt snap3.pb.gz stack3.txt; do
    [ -s "$outroot/$cause/$f" ] || die "cause $cause: $f missing or empty"
  done
  echo "  $cause ($(( $(date +%s) - start ))s)"
done

# Check the dumps against expected.tsv: <dir> <cause-id> <first user frame>.
if [ -f "$expected" ]; then
  while IFS=$'\t' read -r dir cause func; do
    [ -n "$dir" ] || continue
    [ -d "$outroot/$dir" ] || die "expected.tsv names $dir, which was not generated"
    if [ "$func" = "-" ]; then   # no leak: the number of goroutines must not change
      t1=$(grep -c '^goroutine ' "$outroot/$dir/snap1.txt"); t3=$(grep -c '^goroutine ' "$outroot/$dir/snap3.txt")
      [ "$t1" -eq "$t3" ] || die "$dir: $t1 goroutines in snap1 but $t3 in snap3 (want no change)"
      echo "  check $dir: $t1 goroutines in every snapshot"
      continue
    fi
    # Count goroutines whose first main.* frame (or, with none, first frame) is func.
    count() {
      awk -v want="$func" '
        /^goroutine [0-9]+ \[/ { first = ""; user = ""; n++; next }
        /^\t/ || /^created by / || /^$/ { next }
        {
          f = $0; sub(/\([^()]*\)$/, "", f)   # drop the argument list
          if (first == "") first = f
          if (user == "" && f ~ /^main\./) { user = f; if (user == want) hits++ }
        }
        END { print hits + 0 }' "$1"
    }
    c1=$(count "$outroot/$dir/snap1.txt"); c3=$(count "$outroot/$dir/snap3.txt")
    case $func in
      main.*) ;;
      *) c1=$(grep -c "^${func//[()*]/.}(" "$outroot/$dir/snap1.txt" || true)
         c3=$(grep -c "^${func//[()*]/.}(" "$outroot/$dir/snap3.txt" || true) ;;
    esac
    if [ "$c1" -le 0 ] || [ "$c3" -lt "$c1" ] || { [ "$dir" != endless-loop ] && [ "$c3" -le "$c1" ]; }; then
      die "$dir: $func heads $c1 goroutines in snap1 and $c3 in snap3 (want a growing group)"
    fi
    echo "  check $dir: $func $c1 -> $c3"
  done < "$expected"
fi
echo "gen_fixtures.sh: fixtures in $outroot"
