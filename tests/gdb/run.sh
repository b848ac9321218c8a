#!/usr/bin/env bash
# tools/gdb/gr.py in batch mode, on the live process and on a core file the kernel wrote
# (SIGABRT): it must list the goroutines with their waits and print a parked goroutine's
# backtrace, which must name the function that parked. Ends with "gdb: N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/tests/gdb
mkdir -p "$out"
pass=0; fail=0
${CC:-gcc} -O2 -g -Wall -I"$root/include" -o "$out/target" "$root/tests/gdb/target.c" \
  -L"$root/build/lib" -lgr -Wl,-rpath,"$root/build/lib" -lpthread || { echo "gdb: 0 passed, 1 failed"; exit 1; }
if ! command -v gdb >/dev/null; then echo "gdb: not installed"; echo "gdb: 0 passed, 1 failed"; exit 1; fi
check() { # name, output file
  local name=$1 f=$2 ok=1
  grep -Eq "goroutine [0-9]+ \[chan receive, .*entry parked_in_recv" "$f" || ok=0
  grep -Eq "goroutine [0-9]+ \[sleep, .*entry parked_in_sleep" "$f" || ok=0
  grep -q "^4 goroutines" "$f" || ok=0
  grep -Eq "^  #[0-9]+ .*parked_in_recv .*target.c:" "$f" || ok=0
  grep -Eq "^  #[0-9]+ .*gr_chan_recv" "$f" || ok=0
  if [ $ok = 1 ]; then echo "ok   $name"; pass=$((pass+1)); else echo "FAIL $name"; cat "$f"; fail=$((fail+1)); fi
}
cmds=(-ex "source $root/tools/gdb/gr.py" -ex "gr goroutines" -ex "gr bt 1")
rm -f "$out"/core "$out"/core.*
(
  cd "$out" && ulimit -c unlimited
  fifo=$out/stdin; rm -f "$fifo"; mkfifo "$fifo"
  ./target < "$fifo" > target.out &
  pid=$!
  exec 3> "$fifo"
  for _ in $(seq 1 200); do grep -q ready target.out 2>/dev/null && break; sleep 0.05; done
  gdb -batch -nx -p "$pid" "${cmds[@]}" > live.txt 2>&1
  kill -ABRT "$pid"
  wait "$pid" 2>/dev/null
  exec 3>&-; rm -f "$fifo"
)
check "gdb on the live process" "$out/live.txt"
core=$(ls "$out"/core "$out"/core.* 2>/dev/null | head -1)
if [ -n "$core" ]; then
  gdb -batch -nx "${cmds[@]}" "$out/target" "$core" > "$out/core.txt" 2>&1
  check "gdb on a core file (SIGABRT)" "$out/core.txt"
  rm -f "$core"
else
  echo "FAIL no core file (kernel.core_pattern is $(cat /proc/sys/kernel/core_pattern))"; fail=$((fail+1))
fi
echo "gdb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
