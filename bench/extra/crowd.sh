#!/bin/bash
# Plain threads talking to goroutines on a crowded machine: HOGS busy loops of another
# process (default: twice the CPUs, at the same priority; NICE=10 runs them niced) take the
# CPUs, and each round runs, back to back, gr's thread <-> goroutine ping-pong and its
# spawn + wait from a thread, Go's ping-pong with a locked thread, and a plain pthread futex
# ping-pong; it prints microseconds per operation, then the medians. A spinner that
# sched_yields here gives the CPU to the busy loops for a time slice (core/src/waiter.rs,
# `crowd`). LIB=dir runs gr against another libgr.so.0 (LD_LIBRARY_PATH). Needs
# `make lib bench-build`.
#   bash bench/extra/crowd.sh 5
set -e
cd "$(dirname "$0")/../.."
rounds=${1:-5}
hogs=${HOGS:-$((2 * $(nproc)))}
N=${N:-2000}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$hogs"); do nice -n "${NICE:-0}" sh -c 'while :; do :; done' & pids+=($!); done
sleep 1
us() { awk -F'ns=' -v n="$N" '/RESULT/{v=$2} END{printf "%.1f", v / n / 1000}'; }
lib=${LIB:+env LD_LIBRARY_PATH=$LIB}
for r in $(seq "$rounds"); do
  a=$($lib build/bench/gr_bench pingpong_thread "$N" 2 | us)
  b=$($lib build/bench/gr_bench spawn_wait_thread "$N" 2 | us)
  c=$(build/bench/gobench pingpong_thread "$N" 2 | us)
  d=$(build/bench/pthread_bench pingpong "$N" 2 | us)
  echo "$a $b $c $d"
done | awk -v h="$hogs" '
  function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { n++; a[n] = $1; b[n] = $2; c[n] = $3; d[n] = $4
    printf "round %d (%d busy loops): gr thread<->goroutine %s us, gr spawn+wait %s us, Go locked thread<->goroutine %s us, pthread ping-pong %s us\n", n, h, $1, $2, $3, $4 }
  END { printf "medians: gr ping-pong %.1f us, gr spawn+wait %.1f us, Go ping-pong %.1f us, pthread ping-pong %.1f us\n", med(a, n), med(b, n), med(c, n), med(d, n) }'
