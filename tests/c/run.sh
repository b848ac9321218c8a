#!/usr/bin/env bash
# Builds and runs C test programs against include/gr.h and libgr.so.
# Usage: run.sh SUITE file.c...   Each program exits 0 on success; its output is shown on
# failure, and the failures' last lines again at the end. Ends with the line
# "SUITE: N passed, N failed[, N expected failures][ (the failed programs)]".
#
# Known failures: tests/xfail.txt lists programs that fail today because of a known defect
# (one per line: name, then "# issue N, defect M: ..."). A listed program that fails is
# reported "xfail" and does not fail the suite; one that passes is reported "XPASS" and
# fails it, so the fix that makes it pass must also take it off the list.
#
# GR_SANITIZE=1 (or address) builds with -fsanitize=address,undefined (into
# build/tests/c-san) and skips the programs tests/san-skip.txt lists, each with its reason;
# those tests/san-ubsan.txt lists are built with UBSan alone (AddressSanitizer cannot run
# them, as said there).
# GR_SANITIZE=thread builds with -fsanitize=thread (into build/tests/c-tsan) and skips those
# tests/tsan-skip.txt lists; a race report fails the program (TSan exits 66).
#
# Every program runs with the deadlock report aborting (GR_DEADLOCK=abort, issue 14) unless
# the caller set GR_DEADLOCK: a false report fails the suite. Programs that deadlock on
# purpose (rt_deadlock) set their own.
set -u
export GR_DEADLOCK="${GR_DEADLOCK-abort}"
suite=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
san=${GR_SANITIZE:-0}
flags=(-O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE)
out=$root/build/tests/c
skips=""
case "$san" in
  1|address)
    flags=(-O1 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined
           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    out=$root/build/tests/c-san
    skips=$root/tests/san-skip.txt
    # Leaks are not errors here: tests leak on purpose (a goroutine parked at exit keeps its
    # frame); the runtime's own allocations live as long as the process.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
  thread)
    flags=(-O1 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -fsanitize=thread)
    out=$root/build/tests/c-tsan
    skips=$root/tests/tsan-skip.txt
    ;;
esac
mkdir -p "$out"
listed() { # file name -> the line's comment, if name is listed
  [ -f "$1" ] && awk -v n="$2" '$1 == n { sub(/^[^#]*#? */, ""); print; found=1 } END { exit !found }' "$1"
}
pass=0; fail=0; xfail=0; skip=0; failed=()
for src in "$@"; do
  name=$(basename "$src" .c); base=$name
  if [ -n "$skips" ] && why=$(listed "$skips" "$name"); then
    printf "skip %-40s (sanitizers: %s)\n" "$name" "$why"; skip=$((skip+1)); continue
  fi
  bin=$out/$base
  cflags=("${flags[@]}")
  case "$san" in 1|address)
    if listed "$root/tests/san-ubsan.txt" "$name" > /dev/null; then
      cflags=("${flags[@]/-fsanitize=address,undefined/-fsanitize=undefined}")
      name="$name (UBSan only)"
    fi;;
  esac
  if ! ${CC:-gcc} "${cflags[@]}" -I"$root/include" -I"$root/tests/c" -I"$(dirname "$src")" \
       -o "$bin" "$src" -L"$root/build/lib" -lgr -Wl,-rpath,"$root/build/lib" -lpthread -lm 2> "$bin.log"; then
    echo "FAIL $name (compile)"; cat "$bin.log"; fail=$((fail+1)); failed+=("$name"); continue
  fi
  known=""; known=$(listed "$root/tests/xfail.txt" "$base") && known=${known:-known failure}
  start=$(date +%s%N)
  (cd "$out" && timeout "${GR_TEST_TIMEOUT:-300}" "$bin") > "$bin.log" 2>&1
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ $rc -eq 0 ] && [ -z "$known" ]; then
    printf "ok   %-40s %6dms\n" "$name" $ms
    pass=$((pass+1))
  elif [ $rc -eq 0 ]; then
    printf "XPASS %-39s %6dms: listed in tests/xfail.txt (%s) but passes: take it off the list\n" "$name" $ms "$known"
    fail=$((fail+1)); failed+=("$name")
  elif [ -n "$known" ]; then
    printf "xfail %-39s %6dms: %s\n" "$name" $ms "$known"
    sed 's/^/      | /' "$bin.log" | tail -3
    xfail=$((xfail+1))
  else
    echo "FAIL $name (exit $rc)"; tail -40 "$bin.log"; fail=$((fail+1)); failed+=("$name")
  fi
done
extra=""
[ $xfail -gt 0 ] && extra="$extra, $xfail expected failures"
[ $skip -gt 0 ] && extra="$extra, $skip skipped"
# The failures again at the end, briefly: a log cut to its head and tail (CI's) still shows
# which program failed and how.
if [ "$fail" -gt 0 ]; then
  for name in "${failed[@]}"; do
    echo "---- $suite: FAIL $name, the last lines of its output:"
    tail -12 "$out/${name%% *}.log" 2> /dev/null | sed 's/^/   | /'
  done
fi
echo "$suite: $pass passed, $fail failed$extra${failed[*]:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
