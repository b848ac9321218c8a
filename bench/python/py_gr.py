"""Optional row: the bench workloads through gr's Python binding (`import goroutines`).

Run only when the module imports in the venv. Uses go(fn, *args) -> Goroutine.wait(),
Chan(capacity).send/recv, WaitGroup, yield_(), init(workers=N). Each workload runs inside an
ordinary goroutine that `goroutines.run`'s main starts and waits for, as the C bench runs its
workloads in a main goroutine and as the asyncio anchor runs them inside `asyncio.run`
(`run()`'s main itself is bound to a thread of its own since issue 13, so that no goroutine's
blocking call can hold it up: a loop between it and a goroutine crosses threads). Poison values (None) end
loops, so the figures do not depend on how recv reports a closed channel.
"""
import os
import sys
import goroutines as gr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import now_ns, vmhwm_kib, report, die, main  # noqa: E402


def spawn(n, workers):
    # The shape of the C, asyncio and gevent spawn rows: start n goroutines, each marks a
    # WaitGroup done (from Python code, as asyncio's task body is a Python coroutine).
    wg = gr.WaitGroup()

    def f():
        wg.done()
    t0 = now_ns()
    for _ in range(n):
        wg.add(1)
        gr.go(f)
    wg.wait()
    report("spawn", n, now_ns() - t0)


def spawn_thread(n, workers):
    """py_spawn_thread (issue 18): Python's main thread, outside any goroutine, spawns n
    goroutines, each counts and marks a WaitGroup done; peak RSS with the time. go() on a
    plain thread meets gr's back-pressure (sched/README.md section 12) without the GIL."""
    wg = gr.WaitGroup()
    count = [0]

    def f():
        count[0] += 1
        wg.done()
    t0 = now_ns()
    wg.add(n)
    for _ in range(n):
        gr.go(f)
    wg.wait()
    d = now_ns() - t0
    if count[0] != n:
        die("spawn_thread: %d of %d ran" % (count[0], n))
    report("spawn_thread", n, d, vmhwm_kib())


def spawn_thread_go(n, workers):
    """Not a bench row: spawn_thread's loop inside an ordinary goroutine, to set against
    the row in a separate process (peak RSS is per process). By hand:
    python bench/python/py_gr.py spawn_thread_go 200000 2"""
    spawn_thread(n, workers)


def pingpong(n, workers):
    ping, pong = gr.Chan(0), gr.Chan(0)

    def ponger():
        while True:
            v = ping.recv()
            if v is None:
                return
            pong.send(v)
    g = gr.go(ponger)
    t0 = now_ns()
    for i in range(n):
        ping.send(i)
        if pong.recv() != i:
            die("pingpong mismatch")
    d = now_ns() - t0
    ping.send(None)
    g.wait()
    report("pingpong", n, d)


def pingpong_main(n, workers):
    """Not a bench row: the ping-pong loop run by run()'s main itself, which is bound to a
    thread of its own (each round trip crosses threads). By hand:
    python bench/python/py_gr.py pingpong_main 50000 2"""
    pingpong(n, workers)


RING = 503


def ring(n, workers):
    chs = [gr.Chan(0) for _ in range(RING)]
    done = gr.Chan(1)

    def node(i):
        while True:
            tok = chs[i].recv()
            if tok is None:
                return
            if tok == 0:
                done.send(i)
                return
            chs[(i + 1) % RING].send(tok - 1)
    gs = [gr.go(node, i) for i in range(RING)]
    t0 = now_ns()
    chs[0].send(n)
    who = done.recv()
    d = now_ns() - t0
    if who != n % RING:
        die("ring ended at the wrong place")
    for i in range(RING):
        if i != who:
            chs[i].send(None)
    for g in gs:
        g.wait()
    report("ring", n, d)


def fanin(n, workers):
    per = n // 4
    q = gr.Chan(1024)
    sums = [0] * 4

    def cons(k):
        s = 0
        while True:
            v = q.recv()
            if v is None:
                break
            s += v
        sums[k] = s

    def prod():
        for i in range(1, per + 1):
            q.send(i)
    t0 = now_ns()
    cs = [gr.go(cons, k) for k in range(4)]
    ps = [gr.go(prod) for _ in range(4)]
    for g in ps:
        g.wait()
    for _ in range(4):
        q.send(None)
    for g in cs:
        g.wait()
    d = now_ns() - t0
    if sum(sums) != 4 * per * (per + 1) // 2:
        die("fanin: bad sum")
    report("fanin", 4 * per, d)


def parked(n, workers):
    release = gr.Chan(0)
    started = gr.Chan(n)

    def f():
        started.send(1)
        try:
            release.recv()
        except gr.Error:  # Closed, when the binding raises on a closed channel
            pass
    h0 = vmhwm_kib()
    t0 = now_ns()
    gs = [gr.go(f) for _ in range(n)]
    for _ in range(n):
        started.recv()
    gr.sleep(0.05)
    h1 = vmhwm_kib()
    d = now_ns() - t0
    release.close()
    for g in gs:
        g.wait()
    report("parked", n, d, (h1 - h0) / n)


def echo(n, workers):
    # issue 13: goroutines.socket, a goroutine per connection on both sides.
    import socket
    from goroutines import socket as gsocket
    from netwl import CONNS, MSG
    per = max(1, n // CONNS)
    srv = gsocket.create_server(("127.0.0.1", 0), backlog=CONNS)

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
            gr.go(handle, srv.accept()[0])
    acc = gr.go(accept)
    clients = []
    for _ in range(CONNS):
        c = gsocket.create_connection(srv.getsockname())
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        clients.append(c)
    acc.wait()
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
    gs = [gr.go(client, c) for c in clients]
    for g in gs:
        g.wait()
    d = now_ns() - t0
    srv.close()
    report("echo", per * CONNS, d)


def sleepfan(n, workers):
    from netwl import SLEEP_S, threads_now
    wg = gr.WaitGroup()
    wg.add(n)

    def f():
        gr.sleep(SLEEP_S)
        wg.done()
    t0 = now_ns()
    for _ in range(n):
        gr.go(f)
    threads = threads_now()
    wg.wait()
    d = now_ns() - t0
    print("NOTE threads while sleeping: %d" % threads)
    report("sleepfan", n, d)


def yield_(n, workers):
    g = 2 * workers

    def f():
        for _ in range(n):
            gr.yield_()
    t0 = now_ns()
    gs = [gr.go(f) for _ in range(g)]
    for x in gs:
        x.wait()
    report("yield", g * n, now_ns() - t0)


def aio_bridge(n, workers):
    """Issue 13's asyncio bridge: a coroutine (on the main thread's loop) awaits a goroutine
    that returns at once (goroutines.aio.wait); against asyncio.to_thread in py_asyncio.py."""
    import asyncio
    from goroutines import aio

    def f():
        return 1

    async def body():
        for _ in range(100):  # warm-up: the loop's bridge, the workers
            await aio.wait(gr.go(f))
        t0 = now_ns()
        for _ in range(n):
            if await aio.wait(gr.go(f)) != 1:
                die("aio_bridge: bad result")
        report("aio_bridge", n, now_ns() - t0)
    asyncio.run(body())


if __name__ == "__main__":
    w = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    gr.init(workers=w)
    main({"spawn": spawn, "pingpong": pingpong, "ring": ring, "fanin": fanin, "parked": parked,
          "yield": yield_, "echo": echo, "sleepfan": sleepfan, "pingpong_main": pingpong_main,
          "aio_bridge": aio_bridge, "spawn_thread": spawn_thread, "spawn_thread_go": spawn_thread_go},
         # The bridge's loop runs on the main thread, as an asyncio program's does, and
         # spawn_thread spawns from it, outside any goroutine.
         run=lambda fn, n, w: fn(n, w) if fn in (aio_bridge, spawn_thread)
         else gr.run(fn, n, w) if fn is pingpong_main
         else gr.run(lambda: gr.go(fn, n, w).wait()))
    sys.stdout.flush()
    os._exit(0)
