"""Helpers shared by the Python bench programs (threads, asyncio, gevent, goroutines).

Each program is run as  python prog.py <workload> <size> [workers]  and prints RESULT lines;
the driver keeps the last one. Each workload first runs at a tenth of its size (warm-up),
except parked, which is a VmHWM delta and needs a fresh process.
"""
import sys
import time

now_ns = time.perf_counter_ns


def vmhwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


FIB_N = 27
FIB_27 = 196418


def nth_prime(n):
    count, x = 0, 1
    while True:
        x += 1
        d, prime = 2, True
        while d * d <= x:
            if x % d == 0:
                prime = False
                break
            d += 1
        if prime:
            count += 1
            if count == n:
                return x


def report(workload, ops, ns, kib=None):
    extra = "" if kib is None else " kib=%.4f" % kib
    print("RESULT workload=%s ops=%d ns=%d%s" % (workload, ops, ns, extra), flush=True)


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(3)


WARM = {"spawn": 1000, "pingpong": 1000, "ring": 1000, "fanin": 1000, "parked": 0,
        "yield": 1000, "select": 1000, "sieve": 50, "mutex": 10, "cpu": 2,
        "echo": 1000, "sleepfan": 1000, "spawn_thread": 1000, "spawn_thread_go": 1000}


def main(table, run=lambda fn, n, w: fn(n, w)):
    """table: workload name -> function(size, workers). run: how to call it (asyncio.run...)."""
    if len(sys.argv) < 3:
        print("usage: %s <workload> <size> [workers]" % sys.argv[0], file=sys.stderr)
        sys.exit(64)
    name, size = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if name not in table:
        print("bench: workload %s not available" % name, file=sys.stderr)
        sys.exit(65)
    fn = table[name]
    warm = WARM.get(name, 0)
    if warm:
        run(fn, min(size, max(size // 10, warm)), workers)
    run(fn, size, workers)
