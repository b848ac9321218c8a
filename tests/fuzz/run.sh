#!/usr/bin/env bash
# Runs the fuzzer over several seeds, one process each (make fuzz / make test-fuzz).
# Usage: run.sh BIN SECONDS SEEDS [extra gr_fuzz args...]
#   SEEDS: a count N (seeds SEED_BASE .. SEED_BASE+N-1; SEED_BASE defaults to the time, so
#   each `make fuzz` explores new seeds) or a list of seeds ("1 2 3").
# Every run prints its seed; a failing one prints the command that replays it. Ends with the
# totals and operations per second over all runs; exits 1 if any seed failed.
# Runs with the deadlock report aborting (GR_DEADLOCK=abort, issue 14) unless the caller set
# GR_DEADLOCK, as the C tests do (tests/c/run.sh).
set -u
export GR_DEADLOCK="${GR_DEADLOCK-abort}"
bin=$1; secs=$2; seeds=$3; shift 3
if [[ "$seeds" =~ ^[0-9]+$ ]]; then
  base=${SEED_BASE:-$(date +%s)}
  list=$(seq "$base" $((base + seeds - 1)))
else
  list=$seeds
fi
ok=0; bad=0; ops=0; secs_total=0; acc=0; failed=""
for s in $list; do
  log=$(mktemp)
  if "$bin" --seed "$s" --seconds "$secs" --quiet "$@" > "$log" 2>&1; then
    line=$(grep "^gr_fuzz: ok" "$log")
    echo "$line"
    ok=$((ok + 1))
    ops=$((ops + $(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<< "$line")))
    acc=$((acc + $(sed -n 's/.* accepted=\([0-9]*\) .*/\1/p' <<< "$line")))
    secs_total=$(awk -v a="$secs_total" -v b="$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' <<< "$line")" 'BEGIN { print a + b }')
  else
    cat "$log"
    bad=$((bad + 1)); failed="$failed $s"
  fi
  rm -f "$log"
done
rate=$(awk -v o="$ops" -v s="$secs_total" 'BEGIN { printf "%.0f", (s > 0) ? o / s : 0 }')
echo "fuzz: $ok seeds passed, $bad failed; $ops operations in ${secs_total}s ($rate ops/s), $acc values accepted and accounted for"
[ $bad -eq 0 ] || { echo "fuzz: failing seeds:$failed"; exit 1; }
