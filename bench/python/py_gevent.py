"""Anchor: the bench workloads on gevent greenlets (one thread, libev hub).

gevent.queue.Channel is a true unbuffered (rendezvous) channel; gevent has no select, so no
select workload. One hub uses one CPU, whatever the worker count.
"""
import os
import sys

import gevent
import gevent.event
import gevent.lock
import gevent.queue

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import now_ns, vmhwm_kib, fib, FIB_N, FIB_27, nth_prime, report, die, main  # noqa: E402


class WaitGroup:
    def __init__(self, n):
        self.n, self.ev = n, gevent.event.Event()

    def done(self):
        self.n -= 1
        if self.n == 0:
            self.ev.set()

    def wait(self):
        if self.n:
            self.ev.wait()


def spawn(n, workers):
    wg = WaitGroup(n)
    t0 = now_ns()
    for _ in range(n):
        gevent.spawn(wg.done)
    wg.wait()
    report("spawn", n, now_ns() - t0)


def spawn_thread(n, workers):
    # py_spawn_thread (issue 18): the main greenlet (on the main thread) spawns n greenlets,
    # each counts and marks a WaitGroup done; peak RSS with the time.
    wg = WaitGroup(n)
    count = [0]

    def f():
        count[0] += 1
        wg.done()
    t0 = now_ns()
    for _ in range(n):
        gevent.spawn(f)
    wg.wait()
    d = now_ns() - t0
    if count[0] != n:
        die("spawn_thread: %d of %d ran" % (count[0], n))
    report("spawn_thread", n, d, vmhwm_kib())


def pingpong(n, workers):
    ping, pong = gevent.queue.Channel(), gevent.queue.Channel()

    def ponger():
        while True:
            v = ping.get()
            if v is None:
                return
            pong.put(v)
    g = gevent.spawn(ponger)
    t0 = now_ns()
    for i in range(n):
        ping.put(i)
        if pong.get() != i:
            die("pingpong mismatch")
    d = now_ns() - t0
    ping.put(None)
    g.join()
    report("pingpong", n, d)


RING = 503


def ring(n, workers):
    chs = [gevent.queue.Channel() for _ in range(RING)]
    done = gevent.queue.Channel()

    def node(i):
        while True:
            tok = chs[i].get()
            if tok == 0:
                done.put(i)
                return
            chs[(i + 1) % RING].put(tok - 1)
    gs = [gevent.spawn(node, i) for i in range(RING)]
    t0 = now_ns()
    chs[0].put(n)
    who = done.get()
    d = now_ns() - t0
    if who != n % RING:
        die("ring ended at the wrong place")
    gevent.killall(gs)
    report("ring", n, d)


def fanin(n, workers):
    per = n // 4
    q = gevent.queue.Queue(1024)
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
    cs = [gevent.spawn(cons, k) for k in range(4)]
    gevent.joinall([gevent.spawn(prod) for _ in range(4)])
    for _ in range(4):
        q.put(None)
    gevent.joinall(cs)
    d = now_ns() - t0
    if sum(sums) != 4 * per * (per + 1) // 2:
        die("fanin: bad sum")
    report("fanin", 4 * per, d)


def parked(n, workers):
    release = gevent.event.Event()
    started, finished = WaitGroup(n), WaitGroup(n)

    def f():
        started.done()
        release.wait()
        finished.done()
    h0 = vmhwm_kib()
    t0 = now_ns()
    for _ in range(n):
        gevent.spawn(f)
    started.wait()
    gevent.sleep(0.05)
    h1 = vmhwm_kib()
    d = now_ns() - t0
    release.set()
    finished.wait()
    report("parked", n, d, (h1 - h0) / n)


def yield_(n, workers):
    g = 2 * workers

    def f():
        for _ in range(n):
            gevent.sleep(0)
    t0 = now_ns()
    gevent.joinall([gevent.spawn(f) for _ in range(g)])
    report("yield", g * n, now_ns() - t0)


def sieve(n, workers):
    gs = []
    t0 = now_ns()
    ch = gevent.queue.Channel()

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
    gs.append(gevent.spawn(gen, ch))
    prime = 0
    for _ in range(n):
        prime = ch.get()
        out = gevent.queue.Channel()
        gs.append(gevent.spawn(filt, ch, out, prime))
        ch = out
    d = now_ns() - t0
    if prime != nth_prime(n):
        die("sieve: wrong prime")
    gevent.killall(gs)
    report("sieve", n, d)


def mutex(k, workers):
    g = 1000
    mu = gevent.lock.Semaphore(1)
    counter = [0]

    def f():
        for _ in range(k):
            with mu:
                counter[0] += 1
    t0 = now_ns()
    gevent.joinall([gevent.spawn(f) for _ in range(g)])
    d = now_ns() - t0
    if counter[0] != g * k:
        die("mutex: bad counter")
    report("mutex", g * k, d)


def cpu(n, workers):
    out = [0] * n

    def f(i):
        out[i] = fib(FIB_N)
    t0 = now_ns()
    gevent.joinall([gevent.spawn(f, i) for i in range(n)])
    d = now_ns() - t0
    if any(v != FIB_27 for v in out):
        die("cpu: bad fib")
    report("cpu", n, d)


def echo(n, workers):
    # issue 13: the stdlib socket API under gevent's monkey-patching (socket only: the other
    # workloads of this program use gevent's primitives directly), a greenlet per connection.
    from gevent import monkey
    monkey.patch_socket()
    import socket
    from netwl import CONNS, MSG
    per = max(1, n // CONNS)
    srv = socket.create_server(("127.0.0.1", 0), backlog=CONNS)

    def handle(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray(MSG)
        while True:
            k = c.recv_into(buf)
            if not k:
                c.close()
                return
            c.sendall(memoryview(buf)[:k])

    def accept():
        for _ in range(CONNS):
            gevent.spawn(handle, srv.accept()[0])
    acc = gevent.spawn(accept)
    clients = []
    for _ in range(CONNS):
        c = socket.create_connection(srv.getsockname())
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        clients.append(c)
    acc.join()
    payload = b"x" * MSG

    def client(c):
        buf = bytearray(MSG)
        for _ in range(per):
            c.sendall(payload)
            got = 0
            while got < MSG:
                k = c.recv_into(memoryview(buf)[got:])
                if not k:
                    die("echo: server closed")
                got += k
        c.close()
    t0 = now_ns()
    gevent.joinall([gevent.spawn(client, c) for c in clients])
    d = now_ns() - t0
    srv.close()
    report("echo", per * CONNS, d)


def sleepfan(n, workers):
    from gevent import monkey
    monkey.patch_time()
    import time
    from netwl import SLEEP_S, threads_now
    t0 = now_ns()
    gs = [gevent.spawn(time.sleep, SLEEP_S) for _ in range(n)]
    threads = threads_now()
    gevent.joinall(gs)
    d = now_ns() - t0
    print("NOTE threads while sleeping: %d" % threads)
    report("sleepfan", n, d)


if __name__ == "__main__":
    main({"spawn": spawn, "pingpong": pingpong, "ring": ring, "fanin": fanin, "parked": parked,
          "yield": yield_, "sieve": sieve, "mutex": mutex, "cpu": cpu, "echo": echo,
          "sleepfan": sleepfan, "spawn_thread": spawn_thread})
