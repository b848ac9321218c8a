"""Type-checked by mypy --strict (tests/test_stubs.py), never run: the toolbox's stubs (issue 15).

Timer channels carry floats (due times), `Once.do` and `Group.go` are typed with ParamSpec
like `go`, contexts and locks have the shapes users write. Each `# type: ignore[code]` marks
a call that must NOT type-check (--strict reports an ignore that is no longer needed).
"""

from typing import Any, assert_type

import goroutines as gr


def square(x: int) -> int:
    return x * x


assert_type(gr.after(0.1), gr.Chan[float])
assert_type(gr.after(0.1).recv(), float)
assert_type(gr.monotonic(), float)
t = gr.Timer(1.0)
assert_type(t.c.recv(), float)
assert_type(t.stop(), bool)
assert_type(t.reset(2.0), bool)
tk = gr.Ticker(0.5)
assert_type(next(tk), float)
for due in tk:
    assert_type(due, float)
gr.Timer("soon")  # type: ignore[arg-type]

rw = gr.RWMutex()
with rw.read:
    pass
with rw.write as w:
    assert_type(w, gr.RWLocker)
assert_type(rw.try_rlock(), bool)

o = gr.Once()
assert_type(o.do(square, 2), int)
o.do(square, "2")  # type: ignore[arg-type]

c = gr.Cond(gr.Mutex())
with c:
    assert_type(c.wait(0.1), bool)
s = gr.Semaphore(4)
s.acquire(2, timeout=1.0)
assert_type(s.try_acquire(), bool)

ctx = gr.with_timeout(1.0)
assert_type(ctx, gr.Context)
assert_type(ctx.err(), gr.Cancelled | None)
assert_type(ctx.deadline, float | None)
assert_type(ctx.done, gr.Chan[Any])
assert_type(gr.current_context(), gr.Context | None)
child = gr.with_cancel(ctx)
i, v = gr.select(child.done, gr.after(1.0))
assert issubclass(gr.DeadlineExceeded, TimeoutError)

with gr.Group(limit=2, parent=ctx) as g:
    h = g.go(square, 3)
    assert_type(h, gr.Goroutine[int])
    g.go(square, "3")  # type: ignore[arg-type]
    assert_type(g.context, gr.Context)
