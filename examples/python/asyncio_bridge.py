"""asyncio and goroutines together (goroutines.aio), both ways.

An asyncio web-ish service hands CPU-light but blocking-style work to goroutines and awaits
them; goroutines feed results back over a channel the coroutines await; a goroutine calls back
into the event loop with aio.run. Nothing blocks the loop, and no thread waits per await.
"""
import asyncio
import time

import goroutines as gr
from goroutines import aio


def lookup(key, results):
    """A goroutine: 'fetches' a value (goroutines.sleep parks it, not a thread), reports it."""
    gr.sleep(0.01 * (key % 5))
    results.send((key, key * key))
    return f"looked up {key}"


async def audit(key):
    """A coroutine the goroutines call back into, on the loop."""
    await asyncio.sleep(0)
    return f"audited {key} on the loop"


def auditor(keys, loop):
    """A goroutine that runs coroutines on the loop and waits for them (parked, not blocking)."""
    return [aio.run(audit(k), loop) for k in keys]


async def main():
    loop = asyncio.get_running_loop()
    results = gr.Chan(4)

    # From asyncio: start goroutines, await them and a channel, with a ticker proving the loop
    # keeps running meanwhile.
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    tick = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    workers = [gr.go(lookup, k, results) for k in range(20)]
    squares = dict([await results.arecv() for _ in workers])
    statuses = await asyncio.gather(*(aio.wait(g) for g in workers))
    print(f"{len(squares)} squares, e.g. 7 -> {squares[7]}; {statuses[3]!r}; "
          f"{time.perf_counter() - t0:.3f} s, the loop ticked {ticks} times meanwhile")

    # Exceptions cross over with their traceback.
    def fails():
        raise ValueError("bad input")

    try:
        await aio.wait(gr.go(fails))
    except ValueError as e:
        print("goroutine raised:", e)

    # Timeouts and cancellation withdraw the channel operation: nothing is lost.
    quiet = gr.Chan()
    try:
        async with asyncio.timeout(0.05):
            await quiet.arecv()
    except TimeoutError:
        print("arecv timed out and was withdrawn")
    gr.go(quiet.send, "the next value")
    print("next receiver got:", await quiet.arecv())

    # From a goroutine: run coroutines on this loop and wait for them.
    print(await aio.wait(gr.go(auditor, [1, 2, 3], loop)))
    tick.cancel()


asyncio.run(main())
