"""Type-checked by mypy --strict (tests/test_stubs.py), never run: the stubs' generics.

`go` and `run` are typed with ParamSpec, `Goroutine[T].wait()` returns what the function
returns, and `Chan[T]` carries T. Each `# type: ignore[code]` marks a call that must NOT
type-check: --strict warns about unused ignores, so an error that goes away fails the test.
"""

from typing import Any, assert_type

import goroutines as gr


def square(x: int) -> int:
    return x * x


def greet(name: str, *, punct: str = "!") -> str:
    return name + punct


g = gr.go(square, 3)
assert_type(g, gr.Goroutine[int])
assert_type(g.wait(), int)
assert_type(g.wait(timeout=1.0), int)
assert_type(gr.go(greet, "gr", punct="?").wait(), str)
assert_type(gr.go(lambda: None).wait(), None)
gr.go(square, "not an int")  # type: ignore[arg-type]
gr.go(square)  # type: ignore[call-arg]
gr.go(square, 1, 2)  # type: ignore[call-arg]
gr.go(greet, "gr", punct=1)  # type: ignore[arg-type]
gr.go(greet, "gr", colour="red")  # type: ignore[call-arg]

assert_type(gr.run(square, 2), int)
gr.run(square, "2")  # type: ignore[arg-type]
assert_type(gr.to_thread(greet, "x"), str)
assert_type(gr.go_native(0), gr.Goroutine[None])

ch = gr.Chan[int](1)
assert_type(ch, gr.Chan[int])
ch.send(1)
ch.send("one")  # type: ignore[arg-type]
assert_type(ch.recv(), int)
assert_type(ch.recv(timeout=0.5), int)
assert_type(ch.try_recv(), tuple[int | None, bool])
assert_type(ch.try_send(2), bool)
for v in ch:
    assert_type(v, int)

named: gr.Chan[str] = gr.Chan(4)
assert_type(named.recv(), str)
untyped = gr.Chan()
assert_type(untyped, gr.Chan[Any])
assert_type(gr.Chan.native(8), gr.Chan[bytes])

i, value = gr.select(ch, (named, "x"), timeout=1.0)
assert_type(i, int)


def producer(out: gr.Chan[int], n: int) -> None:
    for k in range(n):
        out.send(k)
    out.close()


gr.go(producer, ch, 3)
gr.go(producer, named, 3)  # type: ignore[arg-type]


# goroutines.aio: awaiting channels and goroutines keeps their types; aio.run returns the
# coroutine's.
import asyncio  # noqa: E402

from goroutines import aio  # noqa: E402


async def _answer() -> int:
    return 42


async def _aio(ch: gr.Chan[int], loop: asyncio.AbstractEventLoop) -> None:
    assert_type(await ch.arecv(), int)
    await ch.asend(1)
    await ch.asend("x")  # type: ignore[arg-type]
    assert_type(await aio.wait(gr.go(greet, "gr")), str)
    assert_type(aio.run(_answer(), loop), int)
    assert_type(aio.run(_answer(), loop, timeout=1.0), int)
    aio.run(_answer, loop)  # type: ignore[arg-type]
