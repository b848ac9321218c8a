"""Anchor: the bench workloads on asyncio (one thread, one event loop).

asyncio.Queue(maxsize=1) stands in for an unbuffered channel; asyncio has no select, so no
select workload. One event loop uses one CPU, whatever the worker count.
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import now_ns, vmhwm_kib, fib, FIB_N, FIB_27, nth_prime, report, die, main  # noqa: E402


class WaitGroup:
    def __init__(self, n):
        self.n, self.ev = n, asyncio.Event()

    def done(self):
        self.n -= 1
        if self.n == 0:
            self.ev.set()

    async def wait(self):
        if self.n:
            await self.ev.wait()


async def spawn(n, workers):
    wg = WaitGroup(n)

    async def f():
        wg.done()
    t0 = now_ns()
    for _ in range(n):
        asyncio.create_task(f())
    await wg.wait()
    report("spawn", n, now_ns() - t0)


async def spawn_thread(n, workers):
    # py_spawn_thread (issue 18): the main thread (running the loop) starts n tasks, each
    # counts and marks a WaitGroup done; peak RSS with the time.
    wg = WaitGroup(n)
    count = [0]

    async def f():
        count[0] += 1
        wg.done()
    t0 = now_ns()
    for _ in range(n):
        asyncio.create_task(f())
    await wg.wait()
    d = now_ns() - t0
    if count[0] != n:
        die("spawn_thread: %d of %d ran" % (count[0], n))
    report("spawn_thread", n, d, vmhwm_kib())


async def pingpong(n, workers):
    ping, pong = asyncio.Queue(1), asyncio.Queue(1)

    async def ponger():
        while True:
            v = await ping.get()
            if v is None:
                return
            await pong.put(v)
    t = asyncio.create_task(ponger())
    t0 = now_ns()
    for i in range(n):
        await ping.put(i)
        if await pong.get() != i:
            die("pingpong mismatch")
    d = now_ns() - t0
    await ping.put(None)
    await t
    report("pingpong", n, d)


RING = 503


async def ring(n, workers):
    chs = [asyncio.Queue(1) for _ in range(RING)]
    done = asyncio.Queue(1)

    async def node(i):
        while True:
            tok = await chs[i].get()
            if tok == 0:
                await done.put(i)
                return
            await chs[(i + 1) % RING].put(tok - 1)
    ts = [asyncio.create_task(node(i)) for i in range(RING)]
    t0 = now_ns()
    await chs[0].put(n)
    who = await done.get()
    d = now_ns() - t0
    if who != n % RING:
        die("ring ended at the wrong place")
    for t in ts:
        t.cancel()
    await asyncio.gather(*ts, return_exceptions=True)
    report("ring", n, d)


async def fanin(n, workers):
    per = n // 4
    q = asyncio.Queue(1024)
    sums = [0] * 4

    async def cons(k):
        s = 0
        while True:
            v = await q.get()
            if v is None:
                break
            s += v
        sums[k] = s

    async def prod():
        for i in range(1, per + 1):
            await q.put(i)
    t0 = now_ns()
    cs = [asyncio.create_task(cons(k)) for k in range(4)]
    await asyncio.gather(*[prod() for _ in range(4)])
    for _ in range(4):
        await q.put(None)
    await asyncio.gather(*cs)
    d = now_ns() - t0
    if sum(sums) != 4 * per * (per + 1) // 2:
        die("fanin: bad sum")
    report("fanin", 4 * per, d)


async def parked(n, workers):
    release = asyncio.Event()
    started = WaitGroup(n)
    finished = WaitGroup(n)

    async def f():
        started.done()
        await release.wait()
        finished.done()
    h0 = vmhwm_kib()
    t0 = now_ns()
    for _ in range(n):
        asyncio.create_task(f())
    await started.wait()
    await asyncio.sleep(0.05)
    h1 = vmhwm_kib()
    d = now_ns() - t0
    release.set()
    await finished.wait()
    report("parked", n, d, (h1 - h0) / n)


async def yield_(n, workers):
    g = 2 * workers

    async def f():
        for _ in range(n):
            await asyncio.sleep(0)
    t0 = now_ns()
    await asyncio.gather(*[f() for _ in range(g)])
    report("yield", g * n, now_ns() - t0)


async def sieve(n, workers):
    tasks = []
    t0 = now_ns()
    ch = asyncio.Queue(1)

    async def gen(out):
        i = 2
        while True:
            await out.put(i)
            i += 1

    async def filt(inq, out, p):
        while True:
            v = await inq.get()
            if v % p:
                await out.put(v)
    tasks.append(asyncio.create_task(gen(ch)))
    prime = 0
    for _ in range(n):
        prime = await ch.get()
        out = asyncio.Queue(1)
        tasks.append(asyncio.create_task(filt(ch, out, prime)))
        ch = out
    d = now_ns() - t0
    if prime != nth_prime(n):
        die("sieve: wrong prime")
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    report("sieve", n, d)


async def mutex(k, workers):
    g = 1000
    mu = asyncio.Lock()
    counter = [0]

    async def f():
        for _ in range(k):
            async with mu:
                counter[0] += 1
    t0 = now_ns()
    await asyncio.gather(*[f() for _ in range(g)])
    d = now_ns() - t0
    if counter[0] != g * k:
        die("mutex: bad counter")
    report("mutex", g * k, d)


async def cpu(n, workers):
    out = [0] * n

    async def f(i):
        out[i] = fib(FIB_N)
    t0 = now_ns()
    await asyncio.gather(*[f(i) for i in range(n)])
    d = now_ns() - t0
    if any(v != FIB_27 for v in out):
        die("cpu: bad fib")
    report("cpu", n, d)


async def aio_bridge(n, workers):
    """Issue 13's anchor for the asyncio bridge: a coroutine awaits a function run elsewhere
    that returns at once, here on asyncio's default thread pool (asyncio.to_thread)."""
    def f():
        return 1
    for _ in range(100):  # warm-up: the pool's threads
        await asyncio.to_thread(f)
    t0 = now_ns()
    for _ in range(n):
        if await asyncio.to_thread(f) != 1:
            die("aio_bridge: bad result")
    report("aio_bridge", n, now_ns() - t0)
async def echo(n, workers):
    # issue 13: asyncio streams, a task per connection on both sides.
    import socket
    from netwl import CONNS, MSG
    per = max(1, n // CONNS)

    async def handle(reader, writer):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = await reader.read(MSG)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=CONNS)
    port = srv.sockets[0].getsockname()[1]
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CONNS)]
    for _, w in conns:
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"x" * MSG

    async def client(r, w):
        for _ in range(per):
            w.write(payload)
            await w.drain()
            await r.readexactly(MSG)
        w.close()
    t0 = now_ns()
    await asyncio.gather(*[client(r, w) for r, w in conns])
    d = now_ns() - t0
    srv.close()
    report("echo", per * CONNS, d)


async def sleepfan(n, workers):
    from netwl import SLEEP_S, threads_now
    t0 = now_ns()
    tasks = [asyncio.create_task(asyncio.sleep(SLEEP_S)) for _ in range(n)]
    threads = threads_now()
    await asyncio.gather(*tasks)
    d = now_ns() - t0
    print("NOTE threads while sleeping: %d" % threads)
    report("sleepfan", n, d)


if __name__ == "__main__":
    main({"spawn": spawn, "pingpong": pingpong, "ring": ring, "fanin": fanin, "parked": parked,
          "yield": yield_, "sieve": sieve, "mutex": mutex, "cpu": cpu, "echo": echo,
          "sleepfan": sleepfan, "aio_bridge": aio_bridge, "spawn_thread": spawn_thread},
         run=lambda fn, n, w: asyncio.run(fn(n, w)))
