"""A rate-limited crawler: Ticker + Semaphore + Group + a Context deadline.

The "web" is simulated: page p links to pages 2p+1 and 2p+2 (up to NPAGES), and fetching
one takes a few milliseconds (``goroutines.sleep``). One page hangs for 10 seconds. The crawl
is a task group under a context with a 300 ms deadline:

- a ticker paces the fetches (at most one every 2 ms, all tasks together);
- a semaphore allows at most 4 fetches in flight;
- every task that finds a new link starts one more task in the group;
- the deadline ends the hanging fetch (``DeadlineExceeded``) and with it the crawl: leaving
  the group raises ``DeadlineExceeded`` once every task has finished.

Ends by itself in about 300 ms.
"""

from __future__ import annotations

import goroutines as gr

NPAGES = 60
HANGING = 41  # this page never answers in time


def main() -> int:
    pace = gr.Ticker(0.002)
    inflight = gr.Semaphore(4)
    seen: set[int] = set()
    fetched: list[int] = []
    deadline = gr.with_timeout(0.3)

    def visit(g: gr.Group, p: int) -> None:
        i, _ = gr.select(pace.c, g.context.done)  # the next tick, or the crawl's end
        if i == 1:
            return
        with inflight:
            gr.sleep(10.0 if p == HANGING else (3 + p % 8) / 1000)  # "fetch"
        fetched.append(p)
        for q in (2 * p + 1, 2 * p + 2):
            follow(g, q)

    def follow(g: gr.Group, p: int) -> None:
        if p < NPAGES and p not in seen:  # (one goroutine runs Python at a time: the GIL)
            seen.add(p)
            g.go(visit, g, p)

    t0 = gr.monotonic()
    try:
        with gr.Group(parent=deadline) as g:
            follow(g, 0)
        print("every page fetched before the deadline")
        ok = False
    except gr.DeadlineExceeded as e:
        print(f"the crawl's deadline passed: {e!r}")
        ok = 0 < len(fetched) < NPAGES
    finally:
        pace.stop()
    print(f"crawled {len(fetched)} of {NPAGES} pages in {(gr.monotonic() - t0) * 1000:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(gr.run(main))
