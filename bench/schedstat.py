#!/usr/bin/env python3
"""Runs one bench program and splits each of its threads' wall time three ways, from
/proc/PID/task/TID/schedstat (sampled every 5 ms until the program exits):

  run    on a CPU
  wait   runnable, waiting for a CPU (what other load on the machine costs)
  sleep  neither: blocked in the kernel (a worker with nothing to run, parked in a futex)

On a loaded machine wall times mean little, but `sleep` stays the program's own doing: a
worker that sleeps while the workload has work shows a scheduling problem, not load.

    bench/schedstat.py build/bench/gr_bench rwmutex 20000 2
    bench/schedstat.py build/bench/gobench rwmutex 20000 2
"""
import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    seen = {}  # tid -> [name, run ns, wait ns, first seen (s)]
    while p.poll() is None:
        now = time.monotonic()
        try:
            tids = os.listdir(f"/proc/{p.pid}/task")
        except OSError:
            break
        for tid in tids:
            try:
                with open(f"/proc/{p.pid}/task/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/{p.pid}/task/{tid}/schedstat") as f:
                    run, wait, _ = map(int, f.read().split())
            except OSError:
                continue
            first = seen.get(tid, [0, 0, 0, now])[3]
            seen[tid] = [name, run, wait, first]
        time.sleep(0.005)
    end = time.monotonic()
    out = p.stdout.read().decode().strip().splitlines()
    print(out[-1] if out else "(no output)", f"elapsed={(end - t0) * 1e3:.0f}ms")
    for tid, (name, run, wait, first) in sorted(seen.items(), key=lambda kv: -kv[1][1]):
        life = (end - first) * 1e3
        r, w = run / 1e6, wait / 1e6
        print(f"  {name:16s} run {r:8.1f} ms  wait {w:8.1f} ms  sleep {max(life - r - w, 0):8.1f} ms")


if __name__ == "__main__":
    main()
