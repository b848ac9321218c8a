"""Issue 18, item 1, in Python: go() in a loop from Python's main thread, from a second Python
thread and from inside a goroutine runs every goroutine, in bounded memory, and never
deadlocks, also when the spawner holds a lock every goroutine needs.

A plain thread's go() holds the GIL, which every Python goroutine needs to run. It spawns with
GR_SPAWN_NOWAIT; when gr's global queue is full (1,024 goroutines, core/src/sched/README.md
section 12) that returns GR_EAGAIN and go() spawns again with the GIL released, which waits for
the workers (goroutine.rs, `spawn_released`). Python goroutines that have started wait for the
GIL parked (the GIL gate, pystate.rs), outside the run queues; go() also bounds those
(goroutine.rs, `start_backlog_wait`). `goroutines._goroutines._spawn_backpressure()` counts both
waits, so the tests can see that the paths ran.

Each case runs in a fresh interpreter (peak RSS is per process), under -X dev as the suite.
"""

import json

import pytest

from conftest import run_script

N = 200_000
# Peak RSS bound for N goroutines spawned in a loop. Before the spawns were bounded, the
# goroutines piled up parked on the GIL gate, each with its stack page, thread state and frame
# chunk (see test output). Bounded, the process peaks at tens of MB.
RSS_BOUND_MIB = 200

SCRIPT = r"""
import json, threading, time
import goroutines as gr

gr.init(workers=2{max_threads})
N = {n}
WHERE = {where!r}
LOCK = {lock!r}


def vmhwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def loop():
    wg = gr.WaitGroup()
    count = [0]
    if LOCK == "threading":
        lock = threading.Lock()
    elif LOCK == "gr":
        lock = gr.Mutex()
    else:
        lock = None

    def f():
        if lock is not None:
            with lock:
                count[0] += 1
        else:
            count[0] += 1
        wg.done()

    wg.add(N)
    t0 = time.perf_counter_ns()
    if lock is not None:  # held across the whole spawn loop: every goroutine waits for it
        lock.__enter__()
    try:
        for _ in range(N):
            gr.go(f)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)
    spawned = time.perf_counter_ns()
    wg.wait(timeout=300)
    return count[0], spawned - t0, time.perf_counter_ns() - t0


if WHERE == "main":
    r = loop()
elif WHERE == "thread":
    box = []
    t = threading.Thread(target=lambda: box.append(loop()))
    t.start()
    t.join()
    r = box[0]
else:
    r = gr.go(loop).wait(timeout=300)
bp = gr._goroutines._spawn_backpressure()
print(json.dumps({{"count": r[0], "spawn_ns": r[1], "ns": r[2], "vmhwm_kib": vmhwm_kib(), "bp": bp}}))
"""


def run_loop(where, n=N, lock=None, max_threads=None, timeout=600):
    code = SCRIPT.format(n=n, where=where, lock=lock,
                         max_threads="" if max_threads is None else ", max_threads=%d" % max_threads)
    p = run_script(code, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    print("%s n=%d lock=%s: %.0f ns per goroutine (spawn loop %.0f ns), peak RSS %.1f MiB, %s" % (
        where, n, lock, out["ns"] / n, out["spawn_ns"] / n, out["vmhwm_kib"] / 1024, out["bp"]))
    return out


@pytest.mark.parametrize("where", ["main", "thread", "goroutine"])
def test_spawn_loop_runs_every_goroutine_in_bounded_memory(where):
    out = run_loop(where)
    assert out["count"] == N
    # VmHWM, not ru_maxrss: a forked child's ru_maxrss starts at its parent's RSS and execve
    # keeps it (this pytest process may be hundreds of MB by now); VmHWM is the new image's.
    assert out["vmhwm_kib"] < RSS_BOUND_MIB * 1024, out
    if where != "goroutine":
        # The plain thread outran the workers (they need the GIL it holds), so go() waited
        # with the GIL released: on gr's full queue, or on goroutines waiting to start.
        assert out["bp"]["retries"] + out["bp"]["waits"] > 0, out


@pytest.mark.parametrize("where", ["main", "thread"])
def test_plain_thread_spawner_holding_a_thread_lock_does_not_deadlock(where):
    # Every goroutine blocks its OS thread on a threading.Lock the spawner holds until it has
    # spawned them all, at a thread cap: the workers stall, the global queue fills, and go()
    # must go on (gr's stall rule, and go()'s own wait gives up on no progress) rather than
    # wait for goroutines that cannot run.
    n = 20_000
    out = run_loop(where, n=n, lock="threading", max_threads=16)
    assert out["count"] == n
    assert out["bp"]["retries"] > 0, out  # the queue did fill: the retry path ran


@pytest.mark.parametrize("where", ["main", "thread", "goroutine"])
def test_spawner_holding_a_goroutine_lock_does_not_deadlock(where):
    # The same with a gr.Mutex, which goroutines park on. From inside a goroutine only this
    # kind of lock can work: a goroutine blocking its OS thread on a threading.Lock the
    # spawning goroutine holds may block the thread the spawner is pinned to.
    n = 20_000
    out = run_loop(where, n=n, lock="gr")
    assert out["count"] == n
