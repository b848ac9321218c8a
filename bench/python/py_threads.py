"""Anchor: the bench workloads on Python threads (threading + queue).

queue.Queue(maxsize=1) stands in for an unbuffered channel (Python has no rendezvous queue);
threads are started and joined in batches of 1,000 for spawn; no select workload.
"""
import os
import sys
import threading
import queue
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import now_ns, vmhwm_kib, fib, FIB_N, FIB_27, nth_prime, report, die, main  # noqa: E402

threading.stack_size(256 * 1024)


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def spawn(n, workers):
    t0 = now_ns()
    done = 0
    while done < n:
        b = min(1000, n - done)
        ts = [start(lambda: None) for _ in range(b)]
        for t in ts:
            t.join()
        done += b
    report("spawn", n, now_ns() - t0)


def pingpong(n, workers):
    ping, pong = queue.Queue(1), queue.Queue(1)

    def ponger():
        while True:
            v = ping.get()
            if v is None:
                return
            pong.put(v)
    t = start(ponger)
    t0 = now_ns()
    for i in range(n):
        ping.put(i)
        if pong.get() != i:
            die("pingpong mismatch")
    d = now_ns() - t0
    ping.put(None)
    t.join()
    report("pingpong", n, d)


RING = 503


def ring(n, workers):
    chs = [queue.Queue(1) for _ in range(RING)]
    done = queue.Queue(1)

    def node(i):
        while True:
            tok = chs[i].get()
            if tok is None:
                return
            if tok == 0:
                done.put(i)
                return
            chs[(i + 1) % RING].put(tok - 1)
    ts = [start(node, i) for i in range(RING)]
    t0 = now_ns()
    chs[0].put(n)
    who = done.get()
    d = now_ns() - t0
    if who != n % RING:
        die("ring ended at the wrong place")
    for c in chs:
        c.put(None)
    for t in ts:
        t.join()
    report("ring", n, d)


def fanin(n, workers):
    per = n // 4
    q = queue.Queue(1024)
    sums = [0] * 4

    def cons(k):
        s = 0
        while True:
            v = q.get()
            if v is None:
                break
            s += v
        sums[k] = s

    def prod():
        for i in range(1, per + 1):
            q.put(i)
    t0 = now_ns()
    cs = [start(cons, k) for k in range(4)]
    ps = [start(prod) for _ in range(4)]
    for t in ps:
        t.join()
    for _ in range(4):
        q.put(None)
    for t in cs:
        t.join()
    d = now_ns() - t0
    if sum(sums) != 4 * per * (per + 1) // 2:
        die("fanin: bad sum")
    report("fanin", 4 * per, d)


def parked(n, workers):
    release = threading.Event()
    started = threading.Semaphore(0)

    def f():
        started.release()
        release.wait()
    h0 = vmhwm_kib()
    t0 = now_ns()
    ts = [start(f) for _ in range(n)]
    for _ in range(n):
        started.acquire()
    time.sleep(0.05)
    h1 = vmhwm_kib()
    d = now_ns() - t0
    release.set()
    for t in ts:
        t.join()
    report("parked", n, d, (h1 - h0) / n)


def yield_(n, workers):
    g = 2 * workers

    def f():
        for _ in range(n):
            time.sleep(0)
    t0 = now_ns()
    ts = [start(f) for _ in range(g)]
    for t in ts:
        t.join()
    report("yield", g * n, now_ns() - t0)


def sieve(n, workers):
    t0 = now_ns()
    ch = queue.Queue(1)

    def gen(out):
        i = 2
        while True:
            out.put(i)
            i += 1

    def filt(inq, out, p):
        while True:
            v = inq.get()
            if v % p:
                out.put(v)
    start(gen, ch)
    prime = 0
    for _ in range(n):
        prime = ch.get()
        out = queue.Queue(1)
        start(filt, ch, out, prime)
        ch = out
    d = now_ns() - t0
    if prime != nth_prime(n):
        die("sieve: wrong prime")
    report("sieve", n, d)  # the daemon threads stay blocked until the process exits


def mutex(k, workers):
    g = 1000
    mu = threading.Lock()
    counter = [0]

    def f():
        for _ in range(k):
            with mu:
                counter[0] += 1
    t0 = now_ns()
    ts = [start(f) for _ in range(g)]
    for t in ts:
        t.join()
    d = now_ns() - t0
    if counter[0] != g * k:
        die("mutex: bad counter")
    report("mutex", g * k, d)


def cpu(n, workers):
    out = [0] * n

    def f(i):
        out[i] = fib(FIB_N)
    t0 = now_ns()
    ts = [start(f, i) for i in range(n)]
    for t in ts:
        t.join()
    d = now_ns() - t0
    if any(v != FIB_27 for v in out):
        die("cpu: bad fib")
    report("cpu", n, d)


if __name__ == "__main__":
    main({"spawn": spawn, "pingpong": pingpong, "ring": ring, "fanin": fanin, "parked": parked,
          "yield": yield_, "sieve": sieve, "mutex": mutex, "cpu": cpu},
         run=lambda fn, n, w: fn(n, w))
