"""asyncio and goroutines, both ways.

From a coroutine, await goroutines and channels without blocking the event loop::

    async def main():
        g = goroutines.go(compute, 42)
        print(await goroutines.aio.wait(g))     # the goroutine's result, or its exception
        ch = goroutines.Chan()
        goroutines.go(ch.send, "hi")
        print(await ch.arecv())                 # await ch.asend(v) sends

From a goroutine (or a plain thread), run a coroutine on a running loop and wait for it::

    def worker(loop):
        return goroutines.aio.run(fetch("/x"), loop)   # parks the goroutine, not a thread

How: no thread waits for an await. The channel operation or join is queued in gr as a parked
goroutine's would be (``gr_chan_recv_async``, ``gr_wait_async``); whoever completes it (a
goroutine, a thread, a close) posts it to the loop's completion port, one eventfd per loop that
the loop watches with ``add_reader``, and one wake-up settles every operation completed since
the last. A value already waiting (or a goroutine already done) costs no wake-up at all; and
when the loop has nothing else ready, an await first waits up to 50 us on the loop's own
thread (the GIL released, as a blocking call's wait) for an answer that comes that soon, which
then needs no port operation either.

Cancellation (``task.cancel()``, ``asyncio.timeout``, ``asyncio.wait_for``) withdraws the
channel operation: a withdrawn receive took nothing (the value goes to the next receiver) and a
withdrawn send sent nothing. If the operation completed just before the cancellation reached
it, its outcome is kept rather than lost: the await returns the value (or raises ``Closed``)
and the cancellation is withdrawn with ``Task.uncancel()``, as asyncio documents for
suppressing a cancellation (a timeout that expired then lets the value through instead of
raising ``TimeoutError``). It is not deferred to the task's next await: a task whose coroutine
returns right after the await would then end cancelled, its value received (or sent) and
reported lost. Cancelling an
``await wait(g)`` stops the wait only: goroutines cannot be cancelled.

A loop closed with awaits still pending withdraws their operations as it closes, so no later
value goes to an await that can never resume (``asyncio.run`` cancels its tasks first anyway).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from typing import Any, Coroutine, TypeVar

from . import _goroutines as _ext
from ._goroutines import Chan, Goroutine

__all__ = ["run", "wait"]

_T = TypeVar("_T")

_CancelledError = asyncio.CancelledError

# How long an await waits on the loop's thread (a thread's wait: the GIL released, spinning
# first, waiter.rs THREAD_SPIN) for its goroutine or channel before it starts a port operation
# and lets the loop sleep in its poller, when the loop has nothing else ready. A goroutine that
# answers within it costs no port operation and no post (an eventfd write, a loop wake-up, a
# drain: half of a round trip, `gr_bench`'s aio_bridge 29 -> 15 us). A worker woken by the
# spawn takes longer than THREAD_SPIN to answer on a busy machine.
_SPIN_S = 50e-6

# Each loop's bridge is an attribute of the loop (the reference cycle through its pending
# futures is then collectable); for loops that take no attributes, the value in _bridges (kept
# until the loop closes).
_ATTR = "_goroutines_aio_bridge"
_bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bridge] = weakref.WeakKeyDictionary()


class _Bridge:
    """One event loop's side of the bridge: its completion port (watched with add_reader)
    and the operations pending on it, by number."""

    __slots__ = ("loop", "port", "ops", "next", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak, so that a loop that holds its bridge (or one in _bridges) can be collected when
        # dropped unclosed, with its tasks; its operations are then withdrawn as they are freed.
        self.loop = weakref.ref(loop)
        self.port = _ext._Port()
        self.ops: dict[int, tuple[asyncio.Future[Any], Any]] = {}
        self.next = 0
        loop.add_reader(self.port.fd, self._drain)
        _watch_close(loop, self)

    def _idle(self) -> bool:
        """Nothing else is ready to run on the loop now (asyncio's own loops; others: False)."""
        ready = getattr(self.loop(), "_ready", None)
        return ready is not None and not ready

    def _start(self, op_of: Any, *args: Any) -> tuple[int, asyncio.Future[Any], Any]:
        self.next += 1
        uid = self.next
        op = op_of(*args, uid)
        fut = self.loop().create_future()  # type: ignore[union-attr]
        self.ops[uid] = (fut, op)
        return uid, fut, op

    def _drain(self) -> None:
        """The port is readable: settle the futures of the operations that completed."""
        ops = self.ops
        for uid in self.port.take():
            entry = ops.get(uid)
            if entry is None:
                continue  # withdrawn, or settled by its await's cancellation path
            fut, op = entry
            if fut.cancelled():
                continue  # its task is being cancelled: the await settles it (_settle)
            del ops[uid]
            try:
                value = op.result()
            except BaseException as e:  # Closed, or a broken element: the await raises it
                fut.set_exception(e)
            else:
                fut.set_result(value)

    def shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        """``loop`` closes: withdraw every pending operation and free the port."""
        _bridges.pop(loop, None)
        try:
            delattr(loop, _ATTR)
        except AttributeError:
            pass
        try:
            loop.remove_reader(self.port.fd)
        except Exception:  # a loop already torn down
            pass
        ops, self.ops = self.ops, {}
        for fut, op in ops.values():
            op.cancel()  # one that completed first keeps its value, dropped with it
            if not fut.done():
                fut.cancel()
        self.port.close()


def _watch_close(loop: asyncio.AbstractEventLoop, bridge: _Bridge) -> None:
    """Shuts the bridge down when the loop closes (where the loop lets an instance attribute
    shadow ``close``; elsewhere the operations are withdrawn when they are freed)."""
    orig = loop.close
    ref = weakref.ref(bridge)
    loop_ref = weakref.ref(loop)

    def close() -> None:
        b, lp = ref(), loop_ref()
        if b is not None and lp is not None:
            b.shutdown(lp)
        orig()

    close.__doc__ = orig.__doc__
    try:
        loop.close = close  # type: ignore[method-assign]
    except (AttributeError, TypeError):
        pass


def _bridge() -> _Bridge:
    loop = asyncio.get_running_loop()
    b: _Bridge | None = getattr(loop, _ATTR, None) or _bridges.get(loop)
    if b is None:
        b = _Bridge(loop)
        try:
            setattr(loop, _ATTR, b)
        except (AttributeError, TypeError):
            _bridges[loop] = b
    return b


def _late_outcome(b: _Bridge, uid: int, fut: asyncio.Future[Any], op: Any) -> Any:
    """The await of ``uid`` was cancelled but the operation had completed first: its outcome,
    with the cancellation withdrawn; see the module docs."""
    try:
        if b.ops.pop(uid, None) is None:
            return fut.result()  # the drain settled the future before the cancellation came
        return op.result()
    finally:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()


_MISSED = object()


def _wait_here(b: _Bridge, call: Any, *args: Any) -> Any:
    """``call(*args, _SPIN_S)`` on the loop's thread when the loop has nothing else ready
    (see _SPIN_S): what it returns, or _MISSED if the loop is busy or the wait timed out."""
    if not b._idle():
        return _MISSED
    try:
        return call(*args, _SPIN_S)
    except TimeoutError:
        return _MISSED


async def _settle(b: _Bridge, uid: int, fut: asyncio.Future[Any], op: Any) -> Any:
    try:
        return await fut
    except _CancelledError:
        if uid in b.ops and op.cancel():
            del b.ops[uid]
            raise  # withdrawn: nothing was sent or received
        return _late_outcome(b, uid, fut, op)


async def _arecv(self: Chan[_T]) -> _T:
    """``Chan.arecv()``: receives a value without blocking the event loop; ``Closed`` once
    the channel is closed and drained. Cancelling the await withdraws the receive."""
    value, ok = self.try_recv()
    if ok:
        return value  # type: ignore[return-value]
    b = _bridge()
    value = _wait_here(b, self.recv)  # a receive that timed out took nothing
    if value is not _MISSED:
        return value  # type: ignore[return-value]
    return await _settle(b, *b._start(b.port.recv, self))  # type: ignore[no-any-return]


async def _asend(self: Chan[_T], value: _T) -> None:
    """``Chan.asend(value)``: sends without blocking the event loop; ``Closed`` if the channel
    is closed. Cancelling the await withdraws the send (the value was not sent)."""
    if self.try_send(value):
        return
    b = _bridge()
    if _wait_here(b, self.send, value) is not _MISSED:  # a send that timed out sent nothing
        return
    await _settle(b, *b._start(b.port.send, self, value))


async def wait(g: Goroutine[_T]) -> _T:
    """Await goroutine ``g``: its result, or its exception re-raised with its traceback, as
    ``g.wait()`` gives, without blocking the event loop. Cancelling the await stops waiting;
    the goroutine runs on."""
    if not isinstance(g, Goroutine):
        raise TypeError(f"wait() needs a goroutines.Goroutine, not {type(g).__name__}")
    if g.done():
        return g.wait()
    b = _bridge()
    value = _wait_here(b, g.wait)
    if value is not _MISSED:
        return value  # type: ignore[no-any-return]
    if g.done():  # it raised TimeoutError itself, or it ended just after the wait
        return g.wait(0)
    uid, fut, op = b._start(b.port.join, g)
    try:
        await fut
    except _CancelledError:
        if b.ops.pop(uid, None) is not None:
            op.cancel()
        raise
    return g.wait(0)


def run(coro: Coroutine[Any, Any, _T], loop: asyncio.AbstractEventLoop, *, timeout: float | None = None) -> _T:
    """Run coroutine ``coro`` on ``loop`` (running in another thread or goroutine) and wait for
    its result: parks the calling goroutine (a plain thread blocks, Ctrl-C still works).
    Returns what the coroutine returns; its exception is raised here with its traceback, and
    ``asyncio.CancelledError`` if its task was cancelled on the loop. The coroutine runs in a
    copy of the caller's context variables.

    ``timeout`` (seconds): the task is cancelled, its cancellation awaited (as
    ``asyncio.wait_for`` does), then ``TimeoutError`` raised (or its result returned, if it
    finished anyway). An exception that ends the wait early (``KeyboardInterrupt``) cancels the
    task too. ``RuntimeError`` if ``loop`` is closed, or is the caller's own running loop
    (await the coroutine there instead), or closes before the coroutine finishes.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"run() needs a coroutine, not {type(coro).__name__}")
    try:
        own = asyncio.get_running_loop()
    except RuntimeError:
        own = None
    if own is loop:
        coro.close()
        raise RuntimeError("goroutines.aio.run() cannot wait for the loop it runs on: await the coroutine instead")
    done: Chan[Any] = Chan(1)
    box: list[asyncio.Task[_T]] = []
    ctx = contextvars.copy_context()

    def start() -> None:
        try:
            task = loop.create_task(coro, context=ctx)
        except BaseException as e:
            coro.close()
            done.try_send(e)
            return
        box.append(task)
        task.add_done_callback(done.try_send)

    def cancel() -> None:
        if box:
            box[0].cancel()

    try:
        loop.call_soon_threadsafe(start)
    except BaseException:
        coro.close()
        raise
    try:
        t = _wait_done(done, loop, timeout)
    except TimeoutError:
        loop.call_soon_threadsafe(cancel)
        t = _wait_done(done, loop, None)  # the task's own cleanup, as wait_for awaits it
        if isinstance(t, asyncio.Future) and t.cancelled():
            raise TimeoutError(f"the coroutine did not finish within {timeout} s") from None
    except BaseException:
        try:
            loop.call_soon_threadsafe(cancel)
        except RuntimeError:  # the loop closed meanwhile
            pass
        raise
    if isinstance(t, BaseException):
        raise t
    return t.result()  # type: ignore[no-any-return]


def _wait_done(done: Chan[Any], loop: asyncio.AbstractEventLoop, timeout: float | None) -> Any:
    """``done.recv`` in slices, so that a loop closed meanwhile is noticed instead of waited
    for without end."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 0.25 if deadline is None else min(0.25, max(0.0, deadline - time.monotonic()))
        try:
            return done.recv(left)
        except TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if loop.is_closed():
                raise RuntimeError("the event loop was closed before the coroutine finished") from None
