#!/usr/bin/env python3
"""Driver for `make bench`: runs every workload in gr and in the anchors, then writes
results JSON, REPORT.md and charts (bench/report.py).

    python bench/run.py --build BUILD_DIR [--quick] [--runs N] [--only WL,...] [--impls a,b]

Method: for each workload, the measured runs are interleaved across implementations
(run 1 of every implementation, then run 2, ...), so gr and Go see the same machine
conditions and their ratio holds on a noisy shared machine. Each process warms up in-process
(the workload at a tenth of its size) and then prints one measured RESULT line; the figure is
the median of the runs, with min and max as the spread.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NCPU = os.cpu_count() or 2
WORKERS = min(2, NCPU)  # the goals are stated for 2 processors

# Workload ids: the program workload, its metric, and the default size.
#   metric "nsop": ns per op (lower is better); "tput": M ops/s, "ktput": k ops/s (higher is better);
#   "kib": KiB per goroutine (lower); "sec": total seconds (lower, only comparable at one size)
WORKLOADS = [
    # id,          program,    metric, unit,                default size, workers
    ("spawn",      "spawn",    "nsop", "ns/task",           1_000_000,  WORKERS),
    ("pingpong",   "pingpong", "nsop", "ns/round trip",     1_000_000,  WORKERS),
    ("ring",       "ring",     "nsop", "ns/hop",            10_000_000, WORKERS),
    ("fanin",      "fanin",    "tput", "M msgs/s",          10_000_000, WORKERS),
    ("parked100k", "parked",   "kib",  "KiB/goroutine",     100_000,    WORKERS),
    ("parked1m",   "parked",   "kib",  "KiB/goroutine",     1_000_000,  WORKERS),
    ("yield",      "yield",    "nsop", "ns/yield",          1_000_000,  WORKERS),
    ("select",     "select",   "nsop", "ns/select",         1_000_000,  WORKERS),
    ("sieve",      "sieve",    "sec",  "s",                 5_000,      WORKERS),
    ("mutex",      "mutex",    "nsop", "ns/lock+unlock",    1_000,      WORKERS),
    ("cpu1",       "cpu",      "sec",  "s",                 1_000,      1),
    ("cpuN",       "cpu",      "sec",  "s",                 1_000,      NCPU),
    # issue 12: loopback TCP (gr and Go only)
    ("echo_pingpong", "echo_pingpong", "ktput", "k req/s",   300_000,    WORKERS),
    ("echo_stream",   "echo_stream",   "ktput", "k msgs/s",  2_000_000,  WORKERS),
    ("idle_conns",    "idle_conns",    "kib",   "KiB/conn",  10_000,     WORKERS),
    # issue 16: the Java binding's spawn + join from a plain thread (Java rows only)
    ("spawnjoin",  "spawnjoin", "nsop", "ns/spawn+join",    100_000,    WORKERS),
    # issue 13: the asyncio bridge (Python asyncio and gr (Python) only)
    ("aio_bridge",    "aio_bridge",    "nsop",  "ns/round trip", 20_000,  WORKERS),
    # Issue 15 (the toolbox): gr and Go only.
    ("rwmutex",    "rwmutex",  "nsop", "ns/op",             20_000,     WORKERS),
    ("timerchurn", "timerchurn", "nsop", "ns/select",       1_000_000,  WORKERS),
    ("ctxfanout",  "ctxfanout", "sec", "s",                 100_000,    WORKERS),
    # issue 13: Python sockets and sleeps (asyncio, gevent and gr (Python) only)
    ("py_echo",       "echo",          "ktput", "k req/s",   200_000,    WORKERS),
    ("py_sleep",      "sleepfan",      "sec",   "s",         10_000,     WORKERS),
    # issue 18 in Python: spawned from the main thread, outside any goroutine
    ("py_spawn_thread",     "spawn_thread", "nsop", "ns/task",      200_000,   WORKERS),
    ("py_spawn_thread_rss", "spawn_thread", "mib",  "MiB peak RSS", 200_000,   WORKERS),
    # issue 18: driven from a plain thread (gr and Go only; Go's plain thread is a goroutine
    # locked with runtime.LockOSThread)
    ("spawn_thread",      "spawn_thread",      "nsop", "ns/task",       1_000_000, WORKERS),
    ("spawn_thread_rss",  "spawn_thread",      "mib",  "MiB peak RSS",  1_000_000, WORKERS),
    ("pingpong_thread",   "pingpong_thread",   "nsop", "ns/round trip", 200_000,   WORKERS),
    ("spawn_wait_thread", "spawn_wait_thread", "nsop", "ns/spawn+wait", 200_000,   WORKERS),
]
TOOLBOX = ("rwmutex", "timerchurn", "ctxfanout")
NET_ROWS = ("echo_pingpong", "echo_stream", "idle_conns")
AIO_ROWS = ("aio_bridge",)  # gr (Python)'s goroutines.aio.wait against asyncio.to_thread
PY_ROWS = ("py_echo", "py_sleep", "py_spawn_thread", "py_spawn_thread_rss")
PY_ROW_IMPLS = ("asyncio", "gevent", "pygr")
THREAD_ROWS = ("spawn_thread", "spawn_thread_rss", "pingpong_thread", "spawn_wait_thread")
GR_GO_ONLY = NET_ROWS + THREAD_ROWS
# Rows read from another row's runs (no process of their own): id -> (parent id, RESULT key).
DERIVED = {"spawn_thread_rss": ("spawn_thread", "kib"), "py_spawn_thread_rss": ("py_spawn_thread", "kib")}
WL = {w[0]: w for w in WORKLOADS}
DESCR = {
    "spawn": "spawn + join N tasks (WaitGroup)",
    "pingpong": "2 tasks, unbuffered, N round trips",
    "ring": "503 tasks in a ring, unbuffered, N hops",
    "fanin": "4 producers -> 4 consumers, one channel of capacity 1024, N msgs",
    "parked100k": "N tasks parked on a channel: VmHWM delta / N",
    "parked1m": "N tasks parked on a channel: VmHWM delta / N",
    "yield": "2 x workers tasks, N yields each; wall time / total yields",
    "select": "4 producers -> 1 consumer selecting over 4 unbuffered channels, N receives",
    "sieve": "Go's concurrent prime sieve, first N primes",
    "mutex": "1000 tasks x N lock/increment/unlock; wall time / total",
    "cpu1": "N x fib(27), 1 worker / 1 CPU",
    "cpuN": "N x fib(27), all workers / CPUs",
    "echo_pingpong": "1,000 loopback TCP connections, 512-byte request, wait for the echo; N requests",
    "echo_stream": "4 loopback TCP connections, 512-byte messages pipelined (writer + reader per connection); N messages",
    "idle_conns": "N idle loopback TCP connections, a server goroutine parked in read on each: RSS delta / N",
    "spawnjoin": "from a plain Java thread: start one task, join it; N times",
    "aio_bridge": "a coroutine awaits a function that returns at once, run elsewhere: gr (Python) "
                  "`await aio.wait(go(f))`, asyncio `await asyncio.to_thread(f)`; N round trips",
    "rwmutex": "1000 tasks x N ops on one RWMutex, 99% reads (every 100th a write); wall time / total",
    "timerchurn": "N selects, each against a ready (closed) channel and a fresh after(1 h) that never fires",
    "ctxfanout": "cancel a root context with N children, a task waiting on each one's done channel; time until the last wakes",
    "py_echo": "100 loopback TCP connections to a task-per-connection echo server, 512-byte request, wait for the echo; N requests",
    "py_sleep": "N tasks each sleeping 10 ms: wall time (and OS threads while they sleep)",
    "py_spawn_thread": "Python's main thread spawns N tasks (a counter increment + WaitGroup done each), then waits: "
                       "gr (Python) go() outside any goroutine, asyncio create_task in the main thread's loop, "
                       "gevent.spawn from the main greenlet",
    "py_spawn_thread_rss": "peak RSS (VmHWM) of the py_spawn_thread process",
    "spawn_thread": "a plain thread spawns N tasks (an atomic add + WaitGroup done each), then waits",
    "spawn_thread_rss": "peak RSS (VmHWM) of the spawn_thread process",
    "pingpong_thread": "a plain thread and a task, 2 unbuffered channels, N round trips",
    "spawn_wait_thread": "a plain thread spawns a task that returns at once and waits for it, N times",
}

# Implementations: id, label, kind. Sizes: None = the workload's default; 0 = not run
# (with the reason in NA); a number = scaled down (the report marks it).
IMPLS = [
    ("gr", "gr (C)"),
    ("go", "Go"),
    ("pthread", "C pthreads"),
    ("java", "Java 17 threads"),
    ("jvirt", "Java 25 virtual threads"),
    ("pythreads", "Python threads"),
    ("asyncio", "Python asyncio"),
    ("gevent", "Python gevent"),
    ("pygr", "gr (Python)"),
    ("javagr", "gr (Java)"),
]
LABEL = dict(IMPLS)

NO_SELECT = "no select primitive"
# One spawn size for asyncio, gevent and gr (Python): asyncio's cost per task grows with the
# number of live tasks (2.4 us at 5,000, 4.9 us at 100,000 here), so only the same size gives a
# ratio that is fair both ways.
PY_SPAWN = 20_000
SCALED = {
    "pthread": {"spawn": 50_000, "pingpong": 50_000, "ring": 50_000, "fanin": 2_000_000,
                "parked100k": 10_000, "parked1m": 0, "yield": 200_000, "select": 0, "sieve": 500},
    "java": {"spawn": 10_000, "pingpong": 50_000, "ring": 50_000, "fanin": 2_000_000,
             "parked100k": 10_000, "parked1m": 0, "yield": 200_000, "select": 0, "sieve": 500},
    "jvirt": {"pingpong": 200_000, "ring": 1_000_000, "fanin": 2_000_000, "select": 0, "sieve": 1_000},
    "pythreads": {"spawn": 5_000, "pingpong": 20_000, "ring": 20_000, "fanin": 200_000,
                  "parked100k": 10_000, "parked1m": 0, "yield": 20_000, "select": 0, "sieve": 300,
                  "mutex": 100, "cpu1": 50, "cpuN": 50},
    "asyncio": {"spawn": PY_SPAWN, "pingpong": 100_000, "ring": 100_000, "fanin": 1_000_000,
                "parked1m": 0, "yield": 100_000, "select": 0, "sieve": 500, "mutex": 100, "cpu1": 50, "cpuN": 50},
    "gevent": {"spawn": PY_SPAWN, "pingpong": 100_000, "ring": 100_000, "fanin": 1_000_000,
               "parked1m": 0, "yield": 100_000, "select": 0, "sieve": 500, "mutex": 100,
               "cpu1": 50, "cpuN": 50},
    "pygr": {"spawn": PY_SPAWN, "pingpong": 100_000, "ring": 100_000, "fanin": 1_000_000,
             "parked1m": 0, "yield": 100_000, "select": 0, "sieve": 0, "mutex": 0, "cpu1": 0, "cpuN": 0},
    "javagr": {"spawn": 20_000, "pingpong": 200_000, "ring": 0, "fanin": 0, "parked100k": 0,
               "parked1m": 0, "yield": 0, "select": 0, "sieve": 0, "mutex": 0, "cpu1": 0, "cpuN": 0},
}
# spawnjoin is the Java binding's row (issue 16): gr (Java) against JDK threads and virtual
# threads; the other implementations do not run it.
JAVA_ONLY = ("spawnjoin",)
SCALED["java"]["spawnjoin"] = 10_000
for _impl, _ in IMPLS:
    if _impl not in ("java", "jvirt", "javagr"):
        SCALED.setdefault(_impl, {}).update({w: 0 for w in JAVA_ONLY})
NA_REASON = {
    ("pthread", "parked1m"): "pid_max/max_map_count cap OS threads near 32K",
    ("java", "parked1m"): "pid_max/max_map_count cap OS threads near 32K",
    ("pythreads", "parked1m"): "pid_max/max_map_count cap OS threads near 32K",
    ("gevent", "parked1m"): "skipped for time (100k row measures the same)",
    ("asyncio", "parked1m"): "skipped for time (15 s a run; 100k row measures the same)",
    ("pygr", "parked1m"): "skipped for time (100k row measures the same)",
}

# The toolbox rows exist in gr (C) and Go only.
for _impl, _ in IMPLS:
    if _impl not in ("gr", "go"):
        SCALED.setdefault(_impl, {}).update({w: 0 for w in TOOLBOX})

# QUICK=1 sizes that the rules in size_for would make too slow.
QUICK_SIZES = {"javagr": {"pingpong": 20_000}}


def size_for(impl, wid, quick):
    """Size to run, or 0 when the workload is not run for this implementation."""
    default = WL[wid][4]
    if wid in GR_GO_ONLY and impl not in ("gr", "go"):
        return 0
    if wid in AIO_ROWS:
        return 0 if impl not in ("asyncio", "pygr") else default // 10 if quick else default
    if wid in PY_ROWS:
        if impl not in PY_ROW_IMPLS:
            return 0
        return default // 10 if quick and wid != "py_sleep" else default
    if quick and wid in GR_GO_ONLY:
        return default if wid == "idle_conns" else default // 10
    s = SCALED.get(impl, {}).get(wid, default)
    if s == 0:
        return 0
    if quick and wid in QUICK_SIZES.get(impl, {}):
        return QUICK_SIZES[impl][wid]
    if quick:
        if wid == "parked1m":
            return 0
        if wid.startswith("parked"):
            return s if impl in ("gr", "go") else max(1000, s // 5)
        if wid == "sieve":
            return max(100, s // 5)
        if wid in ("cpu1", "cpuN"):
            return max(10, s // 10)
        if wid in ("mutex", "rwmutex"):
            return max(10, s // 10)
        return max(1000, s // 10)
    return s


def na_reason(impl, wid, quick):
    if quick and wid == "parked1m":
        return "skipped with QUICK=1"
    if wid in NET_ROWS:
        return "network rows run gr (C) and Go only"
    if wid in AIO_ROWS:
        return "the asyncio bridge row runs gr (Python) and asyncio only"
    if wid in PY_ROWS:
        return "Python rows (issues 13, 18) run asyncio, gevent and gr (Python) only"
    if wid in THREAD_ROWS:
        return "plain-thread rows run gr (C) and Go only"
    if (impl, wid) in NA_REASON:
        return NA_REASON[(impl, wid)]
    if wid in JAVA_ONLY:
        return "a Java binding workload (issue 16)"
    if wid in TOOLBOX:
        return "issue 15 row: gr (C) and Go only"
    if impl in ("pygr", "javagr"):
        return "not in this binding's bench set (yet)"
    if wid == "select" and impl not in ("gr", "go"):
        return NO_SELECT
    return "not run"


# ------------------------------------------------------------------------- commands
class Env:
    def __init__(self, build):
        self.build = build
        self.bench = os.path.join(build, "bench")
        self.py = sys.executable
        self.java17 = shutil.which("java") or ""
        self.java25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
        self.libdir = os.path.join(build, "lib")

    def missing(self, impl):
        """Why an implementation cannot run here, or None."""
        b = self.bench
        need = {
            "gr": os.path.join(b, "gr_bench"),
            "go": os.path.join(b, "gobench"),
            "pthread": os.path.join(b, "pthread_bench"),
            "java": os.path.join(b, "java17", "Bench.class"),
            "jvirt": os.path.join(b, "java25", "VirtualMaker.class"),
            "javagr": os.path.join(b, "javagr", "JavaGrBench.class"),
        }
        if impl in need and not os.path.exists(need[impl]):
            why = {"gr": "libgr or gr_bench not built", "go": "go toolchain missing",
                   "java": "JDK 17 missing", "jvirt": "JDK 21+ missing",
                   "javagr": "no Java gr jar (make java-jar) or it did not compile"}.get(impl, "not built")
            return why
        if impl in ("pythreads", "asyncio", "gevent", "pygr"):
            mod = {"gevent": "gevent", "pygr": "goroutines"}.get(impl)
            if mod:
                r = subprocess.run([self.py, "-c", "import " + mod], capture_output=True)
                if r.returncode != 0:
                    return "Python module %r not importable in the venv" % mod
        return None

    def cmd(self, impl, prog, size, workers):
        b, a = self.bench, [prog, str(size), str(workers)]
        py = os.path.join(HERE, "python")
        if impl == "gr":
            return [os.path.join(b, "gr_bench")] + a
        if impl == "go":
            return [os.path.join(b, "gobench")] + a
        if impl == "pthread":
            return [os.path.join(b, "pthread_bench")] + a
        if impl == "java":
            return [self.java17, "-cp", os.path.join(b, "java17"), "Bench", "platform"] + a
        if impl == "jvirt":
            return [self.java25, "-Djdk.virtualThreadScheduler.parallelism=%d" % workers,
                    "-cp", os.path.join(b, "java25"), "Bench", "virtual"] + a
        if impl == "pythreads":
            return [self.py, os.path.join(py, "py_threads.py")] + a
        if impl == "asyncio":
            return [self.py, os.path.join(py, "py_asyncio.py")] + a
        if impl == "gevent":
            return [self.py, os.path.join(py, "py_gevent.py")] + a
        if impl == "pygr":
            return [self.py, os.path.join(py, "py_gr.py")] + a
        if impl == "javagr":
            cp = open(os.path.join(b, "javagr", "classpath")).read().strip()
            return [self.java17, "-cp", cp, "JavaGrBench"] + a
        raise ValueError(impl)


def run_once(env, impl, wid, size, timeout):
    prog, workers = WL[wid][1], WL[wid][5]
    cmd = env.cmd(impl, prog, size, workers)
    cpus = set(range(workers)) if workers < NCPU else None
    environ = dict(os.environ)
    environ["GOMAXPROCS"] = str(workers)
    environ["GR_WORKERS"] = str(workers)
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=environ,
                           preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %ds" % timeout}
    wall = time.time() - t0
    if p.returncode == 65:
        return {"na": (p.stderr.strip().splitlines() or ["not available"])[-1]}
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["exit %d, no RESULT" % p.returncode])[-1]
        return {"error": "exit %d: %s" % (p.returncode, err[:300])}
    kv = dict(x.split("=", 1) for x in lines[-1].split()[1:])
    notes = [l[5:] for l in p.stdout.splitlines() if l.startswith("NOTE ")]
    ops, ns = int(kv["ops"]), int(kv["ns"])
    metric = WL[wid][2]
    if metric == "nsop":
        v = ns / ops
    elif metric == "tput":
        v = ops / ns * 1e3  # M ops/s
    elif metric == "ktput":
        v = ops / ns * 1e6  # k ops/s
    elif metric == "kib":
        v = float(kv["kib"])
    elif metric == "mib":
        v = float(kv["kib"]) / 1024
    else:
        v = ns / 1e9
    return {"value": v, "ops": ops, "ns": ns, "wall": wall, "notes": notes, "kv": kv}


def cpu_busy(interval=0.5):
    """Fraction of all CPUs busy (any process) over interval seconds, from /proc/stat."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = snap()
    time.sleep(interval)
    t1, i1 = snap()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(max_wait, threshold=0.25):
    """Before a round of runs: wait (up to max_wait s) until other processes use under
    threshold of the CPUs, so a compile next door does not land on one implementation only.
    Returns the last busy fraction seen."""
    deadline = time.time() + max_wait
    busy = cpu_busy()
    while busy > threshold and time.time() < deadline:
        time.sleep(1.0)
        busy = cpu_busy()
    return busy


# ------------------------------------------------------------------------- metadata
def sh(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, shell=isinstance(cmd, str))
        return (r.stdout + r.stderr).strip()
    except Exception as e:  # noqa: BLE001
        return "unavailable (%s)" % e


def machine_info(env):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = sh("free -g | awk '/Mem:/{print $2\" GiB\"}'")
    versions = {
        "gr": sh([os.path.join(env.bench, "gr_bench"), "version"]) if os.path.exists(os.path.join(env.bench, "gr_bench")) else "not built",
        "gcc": sh("gcc --version | head -1"),
        "go": sh("go version"),
        "java17": sh([env.java17, "-version"]).splitlines()[0] if env.java17 else "missing",
        "java25": sh([env.java25, "-version"]).splitlines()[0] if os.path.exists(env.java25) else "missing",
        "python": platform.python_version(),
        "gevent": sh([env.py, "-c", "import gevent; print(gevent.__version__)"]),
        "kernel": platform.release(),
        "git": sh("cd %s && git rev-parse --short HEAD" % ROOT),
    }
    return {"cpu": cpu, "ncpu": NCPU, "memory": mem, "workers": WORKERS, "versions": versions,
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


# ------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated workload ids")
    ap.add_argument("--impls", default="", help="comma-separated implementation ids")
    ap.add_argument("--out", default="")
    ap.add_argument("--quiet-wait", type=float, default=-1,
                    help="max seconds to wait for an idle machine before each round (default 15, QUICK 0)")
    a = ap.parse_args()
    runs = a.runs or (3 if a.quick else 5)
    if runs < 3:
        print("bench: at least 3 runs are needed for a median with a spread", file=sys.stderr)
        return 2
    out = a.out or (os.path.join(HERE, "results", "quick") if a.quick else os.path.join(HERE, "results"))
    os.makedirs(out, exist_ok=True)
    env = Env(a.build)
    wids = [w for w in a.only.split(",") if w] or [w[0] for w in WORKLOADS]
    wids += [d for d, (parent, _) in DERIVED.items() if parent in wids and d not in wids]
    impls = [i for i in a.impls.split(",") if i] or [i[0] for i in IMPLS]
    timeout = 60 if a.quick else 150  # a run that times out is reported FAILED, not retried

    missing = {i: env.missing(i) for i in impls}
    for i, why in missing.items():
        if why:
            print("bench: skipping %s: %s" % (LABEL[i], why), flush=True)

    plan = []  # (wid, run, impl, size)
    results = {}
    for wid in wids:
        results[wid] = {}
        for impl in impls:
            size = size_for(impl, wid, a.quick)
            r = {"size": size, "default_size": WL[wid][4], "runs": [], "errors": []}
            if missing[impl]:
                r["status"] = "skipped"
                r["note"] = missing[impl]
            elif size == 0:
                r["status"] = "n/a"
                r["note"] = na_reason(impl, wid, a.quick)
            elif wid in DERIVED:
                r["status"] = "derived"  # filled from its parent's runs
            else:
                r["status"] = "pending"
            results[wid][impl] = r
        for run in range(runs):
            for impl in impls:
                if results[wid][impl]["status"] == "pending":
                    plan.append((wid, run, impl, results[wid][impl]["size"]))

    # The cpu speed-up is cpu1 / cpuN per implementation: each cpuN run goes right after the
    # same implementation's cpu1 run, so a pair sees one machine state (the report takes the
    # median of the paired ratios; run apart, minutes of drift on a shared machine decided it).
    if "cpu1" in wids and "cpuN" in wids:
        n_plan = [e for e in plan if e[0] != "cpuN"]
        for e in [e for e in plan if e[0] == "cpuN"]:
            at = next((k for k, f in enumerate(n_plan) if f[0] == "cpu1" and f[1:3] == e[1:3]), None)
            if at is None:
                n_plan.append(e)
            else:
                n_plan.insert(at + 1, e)
        plan = n_plan

    meta = machine_info(env)
    meta["cpu_paired"] = "cpu1" in wids and "cpuN" in wids
    meta.update({"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "quick": a.quick, "runs": runs, "command": "make bench" + (" QUICK=1" if a.quick else "")})
    t_start = time.time()
    total = len(plan)
    load = {}
    busy_seen = {}
    quiet_wait = a.quiet_wait if a.quiet_wait >= 0 else (0 if a.quick else 15)
    last_round = None
    for k, (wid, run, impl, size) in enumerate(plan, 1):
        if wid not in load:
            load[wid] = round(os.getloadavg()[0], 2)
        rkey = ("cpu1" if wid == "cpuN" else wid, run)  # a cpu pair is one round
        if quiet_wait > 0 and rkey != last_round:
            busy = wait_quiet(quiet_wait)
            busy_seen.setdefault(wid, []).append(round(busy, 2))
            if busy > 0.25:
                print("bench: machine busy (%.0f%% of CPUs) before %s round %d; going on" % (busy * 100, wid, run + 1), flush=True)
        last_round = rkey
        r = results[wid][impl]
        if r["status"] not in ("pending", "ok"):
            continue  # failed or n/a on an earlier run: do not retry
        unit = WL[wid][3]
        print("[%d/%d] %s %s n=%d run %d/%d ... " % (k, total, impl, wid, size, run + 1, runs),
              end="", flush=True)
        res = run_once(env, impl, wid, size, timeout)
        if "value" in res:
            r["runs"].append(res["value"])
            r["status"] = "ok"
            for d, (parent, key) in DERIVED.items():
                if parent == wid and d in results and key in res["kv"]:
                    dr = results[d][impl]
                    dr["runs"].append(float(res["kv"][key]) / (1024 if WL[d][2] == "mib" else 1))
                    dr["status"] = "ok"
            if res["notes"]:
                r["variant"] = res["notes"][-1]
            print("%.4g %s (%.1fs)" % (res["value"], unit, res["wall"]), flush=True)
        elif "na" in res:
            r["status"] = "unavailable"
            r["note"] = res["na"]
            print("n/a: " + res["na"], flush=True)
        else:
            r["status"] = "failed"
            r["note"] = res["error"]
            print("FAILED: " + res["error"], flush=True)

    for wid in results:
        for impl, r in results[wid].items():
            if r["status"] == "ok" and r["runs"]:
                r["median"] = statistics.median(r["runs"])
                r["min"], r["max"] = min(r["runs"]), max(r["runs"])
            elif r["status"] in ("pending", "derived"):
                r["status"] = "n/a"
    meta["wall_seconds"] = round(time.time() - t_start, 1)
    meta["load_by_workload"] = load
    meta["busy_before_rounds"] = busy_seen
    meta["quiet_wait"] = quiet_wait
    meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    doc = {"meta": meta, "impls": [i for i in IMPLS if i[0] in impls],
           "workloads": [{"id": w[0], "program": w[1], "metric": w[2], "unit": w[3],
                          "default_size": w[4], "workers": w[5], "what": DESCR[w[0]]}
                         for w in WORKLOADS if w[0] in wids],
           "results": results}
    path = os.path.join(out, "latest.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print("bench: %d runs in %.0f s; wrote %s" % (total, meta["wall_seconds"], path), flush=True)
    sys.path.insert(0, HERE)
    import report
    report_path = os.path.join(out, "REPORT.md") if (a.quick or a.out) else os.path.join(HERE, "REPORT.md")
    report.write_all(doc, out, report_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
