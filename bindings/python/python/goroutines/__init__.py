"""Go-style goroutines and channels for Python, on the gr runtime (libgr.so.0).

Python callables run as goroutines on the runtime's worker threads and park mid-call on
channel operations, so 100,000 blocked goroutines need only a handful of OS threads::

    import goroutines as gr

    ch = gr.Chan()
    gr.go(lambda: ch.send("hello"))
    print(ch.recv())

Each Python goroutine has its own thread state and, once started, stays on the worker thread
that first ran it. Thread-blocking calls inside a goroutine (``time.sleep``,
``queue.Queue.get``, blocking sockets) stall only the goroutines pinned to that worker; the
runtime hands the processor off so that new and C goroutines keep running. Use
``to_thread(fn, ...)`` to move such a call to a real thread.
"""

from __future__ import annotations

import atexit as _atexit_mod
import ctypes as _ctypes
import threading as _threading

from . import _goroutines as _ext
from ._goroutines import (
    CLOSED,
    Cancelled,
    Chan,
    Closed,
    Error,
    Goroutine,
    GoroutineError,
    Mutex,
    StateError,
    WaitGroup,
    WouldBlock,
    go,
    in_goroutine,
    init,
    select,
    self_id,
    sleep,
    stats,
    version,
    yield_,
)

__all__ = [
    "CLOSED",
    "Cancelled",
    "Chan",
    "Closed",
    "Error",
    "Goroutine",
    "GoroutineError",
    "Mutex",
    "StateError",
    "WaitGroup",
    "WouldBlock",
    "dump",
    "dump_on_signal",
    "go",
    "go_native",
    "in_goroutine",
    "init",
    "run",
    "select",
    "self_id",
    "sleep",
    "stats",
    "to_thread",
    "version",
    "yield_",
]

# Stop scheduling Python goroutines before the interpreter finalises (see pystate.rs).
_atexit_mod.register(_ext._atexit)


def _address(obj: object) -> int:
    if obj is None:
        return 0
    if isinstance(obj, int):
        return obj
    return _ctypes.cast(obj, _ctypes.c_void_p).value or 0


def go_native(fn: object, arg: object = None) -> Goroutine:
    """Run the C function ``void fn(void *arg)`` as a goroutine, on any worker, without the GIL.

    ``fn`` is an address (int) or a ctypes function (``lib.func``, a CFUNCTYPE object);
    ``arg`` is an int address, None, or a ctypes pointer/array/c_void_p. The caller keeps
    whatever ``arg`` points at alive until the goroutine is done.
    """
    return _ext._go_native(_address(fn), _address(arg))


def run(main, /, *args, **kwargs):
    """Run ``main(*args, **kwargs)`` as the program's main goroutine and wait for it, as
    ``asyncio.run`` runs a coroutine and as Go runs ``main``; returns its result or re-raises its
    exception. Call it from the main thread (Ctrl-C still interrupts the wait).

    The main thread is a plain OS thread: every channel operation between it and a goroutine
    wakes a thread and hands the GIL over (several microseconds), while two goroutines exchange
    a value in well under one. So drive a program from a main goroutine, not from the thread::

        def main():
            ch = goroutines.Chan()
            goroutines.go(ch.send, 1)
            return ch.recv()

        goroutines.run(main)
    """
    return go(main, *args, **kwargs).wait()


def dump(file=None, *, json=False, all_frames=False):
    """Return the runtime's goroutine dump, and write it to ``file`` (a text file such as
    ``sys.stderr``) if given: every live goroutine with its state, for how long, what it waits
    for (channel, mutex, WaitGroup, joined goroutine, deadline), and its stack. A Python
    goroutine shows its Python frames (most recent call first, as ``faulthandler`` prints
    them) above its native frames; the caller's own goroutine shows where it called ``dump``.
    Then the worker threads, the threads waiting in gr, and the ``stats()`` figures.

    ``json=True`` gives JSON lines (one object per line, ``"type"`` first) for tools;
    ``all_frames=True`` keeps the runtime's own frames. Works on the main thread, on any
    thread and inside goroutines; nothing is stopped while it runs.
    """
    text = _ext._dump(json, all_frames)
    if file is not None:
        file.write(text)
        flush = getattr(file, "flush", None)
        if flush is not None:
            flush()
    return text


def dump_on_signal(signum=None, file=None):
    """Print ``dump()`` to ``file`` (default: ``sys.stderr``) whenever signal ``signum``
    (default ``SIGQUIT``) arrives, as ``faulthandler.register`` does for threads, with every
    goroutine's Python frames. The handler runs on the main thread between bytecodes (also
    while it waits in a gr call: it wakes every 100 ms for signals). Returns the previous
    handler. For a dump that needs no Python at all (a wedged interpreter), set
    ``GR_TRACEBACK=1`` before the runtime starts instead: the runtime then prints its own dump
    on SIGQUIT, native frames only."""
    import signal as _signal
    import sys as _sys

    def handler(_signum, _frame):
        dump(file if file is not None else _sys.stderr)

    return _signal.signal(_signal.SIGQUIT if signum is None else signum, handler)


def to_thread(fn, /, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` on a new OS thread and wait for it (parking, if called in a
    goroutine). Use it for calls that block the thread: the goroutine's worker stays free."""
    done = Chan(1)

    def run():
        try:
            done.send((True, fn(*args, **kwargs)))
        except BaseException as e:  # re-raised in the caller
            done.send((False, e))

    _threading.Thread(target=run, daemon=True, name="goroutines.to_thread").start()
    ok, value = done.recv()
    if ok:
        return value
    raise value
