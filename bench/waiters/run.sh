#!/usr/bin/env bash
# Issue 11's waiter-scaling table: gr (tests/c/rt_waiter_scaling.c, one process per run) beside
# Go (bench/waiters/main.go) on the same shapes, 2 workers / GOMAXPROCS=2.
#   bench/waiters/run.sh [LIBDIR]     LIBDIR: a directory holding another libgr.so.0 (before/after)
# Env: SHAPES (default "worker select recv wg mutex cancel join"), SIZES, LIMIT (seconds per
# run, default 60: a run that does not finish shows as "> LIMIT").
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/bench
mkdir -p "$out"
libdir=${1:-$root/build/lib}
${CC:-gcc} -O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -I"$root/include" -I"$root/tests/c" \
  -o "$out/waiters_gr" "$root/tests/c/rt_waiter_scaling.c" -L"$root/build/lib" -lgr \
  -Wl,-rpath,"$root/build/lib" -lpthread -lm || exit 1
have_go=0
if command -v go >/dev/null; then
  (cd "$root/bench/waiters" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOWORK=off \
    go build -o "$out/waiters_go" .) && have_go=1
fi
limit=${LIMIT:-60}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
one() { # impl shape n -> "wall cpu late" or "> limit"
  local line
  if [ "$1" = gr ]; then
    line=$(LD_LIBRARY_PATH=$libdir timeout "$limit" "$out/waiters_gr" "$2" "$3" 2>&1 | grep RESULT)
  else
    line=$(GOMAXPROCS=2 timeout "$limit" "$out/waiters_go" "$2" "$3" 2>&1 | grep RESULT)
  fi
  if [ -z "$line" ]; then echo "> ${limit}s"; return; fi
  printf "%ss (cpu %ss)" "$(echo "$line" | field wall_s)" "$(echo "$line" | field cpu_s)"
  local late; late=$(echo "$line" | field late_max_s)
  [ "$late" != "0.0000" ] && [ "$late" != 0 ] && printf ", late %ss" "$late"
  echo
}
echo "libgr: $libdir/libgr.so.0 ($(sha1sum "$libdir/libgr.so.0" | cut -c1-12)); $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| shape | n | gr | Go |"
echo "|---|---|---|---|"
for shape in ${SHAPES:-worker select recv wg mutex cancel join}; do
  mult=1; [ "$shape" = wg ] && mult=2
  for n in ${SIZES:-12500 25000 50000 100000}; do
    n=$((n * mult))
    g=$(one gr "$shape" "$n")
    case "$shape" in worker|select|cancel) [ $have_go = 1 ] && o=$(one go "$shape" "$n") || o="n/a";; *) o="-";; esac
    echo "| $shape | $n | $g | $o |"
  done
done
