#!/usr/bin/env bash
# Builds and runs C test programs against include/gr.h and libgr.so.
# Usage: run.sh SUITE file.c...   Each program exits 0 on success; its output is shown on
# failure. Ends with the line "SUITE: N passed, N failed".
set -u
suite=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/tests/c
mkdir -p "$out"
pass=0; fail=0; failed=()
for src in "$@"; do
  name=$(basename "$src" .c)
  bin=$out/$name
  if ! ${CC:-gcc} -O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -I"$root/include" -I"$root/tests/c" \
       -o "$bin" "$src" -L"$root/build/lib" -lgr -Wl,-rpath,"$root/build/lib" -lpthread -lm 2> "$bin.log"; then
    echo "FAIL $name (compile)"; cat "$bin.log"; fail=$((fail+1)); failed+=("$name"); continue
  fi
  start=$(date +%s%N)
  if (cd "$out" && timeout "${GR_TEST_TIMEOUT:-300}" "$bin") > "$bin.log" 2>&1; then
    printf "ok   %-40s %6dms\n" "$name" $(( ($(date +%s%N) - start) / 1000000 ))
    pass=$((pass+1))
  else
    echo "FAIL $name (exit $?)"; tail -40 "$bin.log"; fail=$((fail+1)); failed+=("$name")
  fi
done
echo "$suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
