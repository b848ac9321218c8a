"""``goroutines.patch()`` / ``unpatch()``: the standard library's blocking calls made
cooperative inside goroutines (see ``patch``'s docstring and the README's "Patching").

Every replacement keeps the standard behaviour on plain threads: it calls the original
unless it runs in a goroutine (``time.sleep``, ``select.*``), or it is the cooperative socket,
which behaves as the stdlib's on a thread. The originals are kept here; ``unpatch()`` puts
every one back, and patching twice changes nothing (idempotent).
"""

from __future__ import annotations

import select as _select
import selectors as _selectors
import socket as _socket
import ssl as _ssl
import sys as _sys
import threading as _threading
import time as _time
from typing import Any

from . import _goroutines as _ext
from . import socket as _gsocket
from . import ssl as _gssl

_lock = _threading.Lock()
# (module, attribute) -> original value, for everything patched now.
_saved: dict[tuple[object, str], object] = {}

_in_goroutine = _ext.in_goroutine
_orig_sleep = _time.sleep
_orig_select = _select.select
_orig_poll: Any = _select.poll
_POLLIN, _POLLOUT = _select.POLLIN, _select.POLLOUT
_POLLPRI = getattr(_select, "POLLPRI", 0)


# -- time ---------------------------------------------------------------------------------
def sleep(secs):
    """``time.sleep``: parks the goroutine; the original on a plain thread."""
    if not _in_goroutine():
        return _orig_sleep(secs)
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    _ext.sleep(secs)


# -- select -------------------------------------------------------------------------------
def _wait(fds_events, timeout_s):
    """Parks until one of (fd, poll mask) may be ready or `timeout_s` (None: forever) passes."""
    fds = [fd for fd, _ in fds_events]
    evs = [(1 if m & (_POLLIN | _POLLPRI) else 0) | (2 if m & _POLLOUT else 0) or 1 for _, m in fds_events]
    return _ext._fd_wait_any(fds, evs, timeout_s)


def _coop_poll(p, fds_events, timeout_s):
    """poll(2) object `p` polled without blocking, then parked on until something is ready."""
    deadline = None if timeout_s is None else _time.monotonic() + max(timeout_s, 0.0)
    while True:
        ready = p.poll(0)
        if ready:
            return ready
        left = None if deadline is None else deadline - _time.monotonic()
        if left is not None and left <= 0:
            return []
        _wait(fds_events, left)


class poll:
    """``select.poll``: ``poll()`` parks the goroutine; the original object on a thread."""

    __slots__ = ("_p", "_fds")

    def __init__(self):
        self._p = _orig_poll()
        self._fds = {}

    def register(self, fd, eventmask=_POLLIN | _POLLPRI | _POLLOUT):
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._p.register(fd, eventmask)
        self._fds[fd] = eventmask

    def modify(self, fd, eventmask):
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._p.modify(fd, eventmask)
        self._fds[fd] = eventmask

    def unregister(self, fd):
        fd = fd if isinstance(fd, int) else fd.fileno()
        self._p.unregister(fd)
        del self._fds[fd]

    def poll(self, timeout=None):
        if not _in_goroutine():
            return self._p.poll(timeout)
        if timeout is not None:
            timeout = float(timeout) / 1000.0  # milliseconds; negative = forever
            if timeout < 0:
                timeout = None
        return _coop_poll(self._p, list(self._fds.items()), timeout)


def select(rlist, wlist, xlist, timeout=None):
    """``select.select``: parks the goroutine; the original on a thread."""
    if not _in_goroutine():
        return _orig_select(rlist, wlist, xlist, timeout)
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be non-negative")
    p = _orig_poll()
    masks = {}

    def fd_of(o):
        return o if isinstance(o, int) else o.fileno()
    for objs, m in ((rlist, _POLLIN), (wlist, _POLLOUT), (xlist, _POLLPRI)):
        for o in objs:
            fd = fd_of(o)
            masks[fd] = masks.get(fd, 0) | m
    for fd, m in masks.items():
        p.register(fd, m)
    ready = dict(_coop_poll(p, list(masks.items()), timeout))
    err = _select.POLLERR | _select.POLLHUP | _select.POLLNVAL
    return ([o for o in rlist if ready.get(fd_of(o), 0) & (_POLLIN | err)],
            [o for o in wlist if ready.get(fd_of(o), 0) & (_POLLOUT | err)],
            [o for o in xlist if ready.get(fd_of(o), 0) & _POLLPRI])


class PollSelector(_selectors.PollSelector):
    """``selectors.PollSelector`` on the cooperative ``poll``: what ``DefaultSelector`` becomes."""

    _selector_cls = poll


# -- patch / unpatch ----------------------------------------------------------------------
def _targets(socket, time, select, ssl):
    t = []
    if socket:
        t.append((_socket, "socket", _gsocket.socket))
        # Name lookups park the goroutine (a pool of resolver threads does them).
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo"):
            t.append((_socket, name, getattr(_gsocket, name)))
    if ssl:
        # Every context's wrap_socket then makes cooperative TLS sockets (the class attribute
        # is looked up at each wrap: contexts made before patch() are covered too).
        t.append((_ssl.SSLContext, "sslsocket_class", _gssl.SSLSocket))
    if time:
        t.append((_time, "sleep", sleep))
    if select:
        t += [(_select, "select", select_fn), (_select, "poll", poll),
              (_selectors, "DefaultSelector", PollSelector)]
        for name in ("EpollSelector", "DevpollSelector", "KqueueSelector"):
            if hasattr(_selectors, name):
                t.append((_selectors, name, PollSelector))
        # Modules that captured a selector class when they were imported, if they are.
        for modname, attr in (("subprocess", "_PopenSelector"), ("socketserver", "_ServerSelector")):
            mod = _sys.modules.get(modname)
            if mod is not None and hasattr(mod, attr):
                t.append((mod, attr, PollSelector))
    return t


select_fn = select


def patch(socket=True, time=True, select=True, ssl=True):
    """Swap the standard library's blocking calls for cooperative ones (see the module doc)."""
    with _lock:
        for mod, name, new in _targets(socket, time, select, ssl):
            key = (mod, name)
            if key in _saved:
                continue  # already patched: idempotent
            _saved[key] = getattr(mod, name)
            setattr(mod, name, new)


def unpatch():
    """Put back every original that ``patch`` replaced."""
    with _lock:
        for (mod, name), orig in _saved.items():
            setattr(mod, name, orig)
        _saved.clear()


def patched():
    """The names patched now, as "module.attribute" strings."""
    with _lock:
        return sorted("%s.%s" % (getattr(m, "__module__", "") + "." + m.__name__ if isinstance(m, type) else m.__name__, n)
                      for m, n in _saved)
