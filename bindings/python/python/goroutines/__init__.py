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
    wait_readable,
    wait_writable,
    yield_,
)

# Issue 15: timers, locks, contexts (the toolbox). Kept in a block of their own.
from ._goroutines import (
    Cond,
    Context,
    DeadlineExceeded,
    Once,
    RWLocker,
    RWMutex,
    Semaphore,
    Ticker,
    Timer,
    after,
    current_context,
    monotonic,
    with_cancel,
    with_timeout,
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
    "patch",
    "run",
    "select",
    "self_id",
    "sleep",
    "stall_warnings",
    "stats",
    "to_thread",
    "unpatch",
    "version",
    "wait_readable",
    "wait_writable",
    "yield_",
    # Issue 15 (the toolbox)
    "Cond",
    "Context",
    "DeadlineExceeded",
    "Group",
    "Once",
    "RWLocker",
    "RWMutex",
    "Semaphore",
    "Ticker",
    "Timer",
    "after",
    "current_context",
    "monotonic",
    "with_cancel",
    "with_timeout",
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

    ``main`` runs on a worker thread of its own (a bound goroutine): no other goroutine is
    ever pinned to that thread, so a goroutine that blocks its own thread in a foreign call
    (a stdlib ``sock.recv``, ``time.sleep`` without ``patch()``) never holds ``main`` up.
    The goroutines ``main`` spawns run on the other workers.
    """
    return _ext._go_main(main, *args, **kwargs).wait()


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


# --------------------------------------------------------------------------- Group
class Group:
    """A task group: Go's ``errgroup`` with ``asyncio.TaskGroup``'s shape.

    ::

        with goroutines.Group(limit=8) as g:
            for url in urls:
                g.go(fetch, url)
        # here every task has finished

    - ``g.go(fn, *args, **kwargs)`` starts ``fn`` as a goroutine of the group (with ``limit``,
      it first waits for one of the ``limit`` slots). Tasks and the block's body run under the
      group's context (``g.context``, a child of ``parent`` or of the current context), so
      their blocking calls end with ``Cancelled`` once it is cancelled.
    - Leaving the block waits for every task.
    - The first task that raises cancels the group's context; the others end early as they
      block. A ``Cancelled`` raised after the group's context ended is not an error of its
      own. On leaving, the exceptions of the tasks that failed (and the body's, if it raised)
      are raised: the exception itself if there is one, else an ``ExceptionGroup``
      (``BaseExceptionGroup`` if one is not an ``Exception``) of them all in the order they
      happened. ``KeyboardInterrupt`` and ``SystemExit`` are raised as they are.
    - If nothing failed but the group was cut short because ``parent`` ended (cancelled, or
      its deadline passed), leaving raises that reason: ``Cancelled`` or ``DeadlineExceeded``.

    Differs from ``asyncio.TaskGroup`` in one point: a single failure is raised as itself,
    not wrapped in an ``ExceptionGroup``. Usable from the main thread and from goroutines.
    """

    def __init__(self, limit: int | None = None, parent: Context | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("Group: limit must be at least 1, or None")
        if parent is None:
            cur = current_context()
            parent = cur if isinstance(cur, Context) else None
        self._parent = parent
        self._limit = limit or 0
        self._handle: _ext._GroupHandle | None = None
        self._context: Context | None = None
        self._errors: list[BaseException] = []
        self._cut_short = False
        self._lock = _threading.Lock()
        self._entered = False
        self._exited = False

    @property
    def context(self) -> Context:
        """The group's context: cancelled by the first failure, ``cancel()``, or the parent."""
        if self._context is None:
            raise RuntimeError("Group: enter it first (with Group() as g:)")
        return self._context

    def cancel(self) -> None:
        """Cancels the group's context (the tasks end early as they block); not an error."""
        if self._handle is not None:
            self._handle.cancel()

    def __enter__(self) -> Group:
        if self._entered:
            raise RuntimeError("Group: a group is entered once")
        self._entered = True
        self._handle = _ext._GroupHandle(self._parent, self._limit)
        self._context = self._handle.context
        _ext._push_context(self._context)
        return self

    def go(self, fn, /, *args, **kwargs) -> Goroutine:
        """Starts ``fn(*args, **kwargs)`` as a goroutine of the group; returns its Goroutine."""
        if self._handle is None or self._exited:
            raise RuntimeError("Group.go: the group is not open (use it inside its with block)")
        ctx = self._context
        parent = self._parent

        def task():
            _ext._push_context(ctx)
            try:
                return fn(*args, **kwargs)
            except BaseException as e:
                if isinstance(e, Cancelled) and ctx.cancelled():
                    if parent is not None and parent.cancelled():
                        self._cut_short = True
                    return None  # the group cancelled it: not a failure of its own
                with self._lock:
                    self._errors.append(e)
                raise  # the goroutine fails: gr cancels the group's context
            finally:
                _ext._pop_context()

        return self._handle.spawn(task)

    def __exit__(self, et, exc, tb) -> bool:
        handle = self._handle
        assert handle is not None and self._context is not None
        _ext._pop_context()
        body_exc = None
        if exc is not None:
            if isinstance(exc, Cancelled) and self._context.cancelled():
                if self._parent is not None and self._parent.cancelled():
                    self._cut_short = True
            else:
                body_exc = exc
                handle.cancel()
        interrupted: BaseException | None = None
        try:
            handle.wait()
        except BaseException as e:  # the caller's own context ended, or Ctrl-C
            interrupted = e
            handle.cancel()
            _ext._push_context(None)  # wait for the tasks whatever the outer context does
            try:
                handle.wait()
            finally:
                _ext._pop_context()
        self._exited = True
        errors = list(self._errors)
        if body_exc is not None:
            errors.insert(0, body_exc)
        for e in errors:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise e
        if interrupted is not None:
            raise interrupted
        if len(errors) == 1:
            if errors[0] is exc:
                return False  # re-raised as it is, with its traceback
            raise errors[0]
        if errors:
            if all(isinstance(e, Exception) for e in errors):
                raise ExceptionGroup("unhandled errors in a goroutines.Group", errors)
            raise BaseExceptionGroup("unhandled errors in a goroutines.Group", errors)
        if exc is not None and body_exc is None:
            # The body's own Cancelled, from the group's context: raised on if the parent
            # ended (its reason, as the body saw it), dropped if the group cancelled itself.
            return not self._cut_short
        if self._cut_short:
            reason = self._parent.err() if self._parent is not None else None
            if reason is not None:
                raise reason
        return False


def patch(socket=True, time=True, select=True, ssl=True):
    """Swap the standard library's blocking calls for cooperative versions, so that unmodified
    code (``urllib.request``, ``http.client``, ``socketserver``, ``subprocess`` pipes) parks
    the goroutine instead of holding its worker thread. Nothing is patched unless asked.

    - ``socket``: ``socket.socket`` becomes ``goroutines.socket.socket`` (a subclass; the
      module's ``create_connection``, ``create_server``, ``socketpair``, ``fromfd`` and
      ``accept`` build it too, as they look the class up when called), and ``getaddrinfo``,
      ``gethostbyname``, ``gethostbyname_ex``, ``gethostbyaddr``, ``getnameinfo`` become
      ``goroutines.socket``'s (a lookup parks a goroutine; a resolver thread does it);
    - ``time``: ``time.sleep`` parks a goroutine (the original on a plain thread);
    - ``select``: ``select.select``, ``select.poll``, and ``selectors.DefaultSelector`` (with
      ``EpollSelector``, and ``subprocess``'s selector if it is imported) park a goroutine;
    - ``ssl``: ``ssl.SSLContext.sslsocket_class`` becomes ``goroutines.ssl.SSLSocket``, so every
      context's ``wrap_socket`` (``urllib``'s HTTPS too) makes cooperative TLS sockets.

    Safe to call at any time and idempotent; ``unpatch()`` restores every original. Calling
    it late (after other modules were imported) covers every use that looks the name up in
    its module at call time (``socket.socket(...)``, ``time.sleep(...)``); it does not reach
    names copied earlier (``from time import sleep``, a default argument bound to
    ``socket.socket``), objects already made (an existing socket stays a stdlib one), or
    classes that captured the originals (a ``selectors.PollSelector`` subclass). See the
    README's "Patching".
    """
    from . import _patch
    _patch.patch(socket=socket, time=time, select=select, ssl=ssl)


def unpatch():
    """Restore every original that ``patch()`` replaced (a no-op if nothing is patched)."""
    from . import _patch
    _patch.unpatch()


_stall_log = None


def stall_warnings(threshold=0.1):
    """Log a warning when a goroutine holds its worker thread for more than ``threshold``
    seconds (a blocking call that does not go through goroutines, or a long computation)
    while other goroutines pinned to that thread are ready to run, as asyncio's debug mode
    reports a slow callback. Each such stall is reported once, on the ``goroutines`` logger,
    with the goroutine's id and Python frames. On by default (0.1 s); ``None`` turns it off.
    The warnings are written by the main thread (between bytecodes, or every 100 ms while it
    waits in a goroutines call)."""
    _ext._stall_warnings(threshold)


def _stall_report(goroutine, worker, held, pinned_ready, in_kernel, frames):
    global _stall_log
    if _stall_log is None:
        import logging

        _stall_log = logging.getLogger("goroutines")
    what = "in a blocking call" if in_kernel else "computing"
    where = frames.rstrip() if frames else "  (its Python frames are gone: it has finished)"
    _stall_log.warning(
        "goroutine %d has held worker thread %d for %.3f s %s while %d goroutine(s) pinned "
        "to that thread wait to run; they cannot run elsewhere.\n%s\n"
        "Use goroutines.patch() (cooperative sockets, time.sleep, select) or the "
        "goroutines.socket module, or move the call to a thread with goroutines.to_thread(fn).",
        goroutine, worker, held, what, pinned_ready, where)


stall_warnings()
