"""Name resolution that parks a goroutine instead of holding its thread.

The C library's resolver (``getaddrinfo`` and friends) blocks the calling thread, and a Python
goroutine is pinned to its thread, so a slow DNS answer would stall every goroutine pinned
there. In a goroutine, these functions hand the lookup to a small pool of resolver threads
(at most ``MAX_THREADS``, started on demand; one idle for ``IDLE_SECONDS`` exits) and park the
goroutine on a channel until the answer comes: gevent's default threadpool resolver, Go's cgo
resolver. A numeric host (an IPv4 or IPv6 literal, ``None``, ``""``) needs no lookup and is
resolved at once on the caller's thread; on a plain thread every call is the stdlib's.

The answer (or the exception, re-raised in the goroutine) goes into a channel of capacity 1,
so a resolver thread never waits for its caller: a caller that stops waiting (its Context was
cancelled) leaves the answer to the garbage collector, and the lookup itself runs to its end
as the C library's always does. A child process after ``fork()`` starts with an empty pool.
"""

from __future__ import annotations

import _socket
import collections
import os
import socket as _stdsocket
import threading

from . import _goroutines as _ext

MAX_THREADS = 8
IDLE_SECONDS = 10.0

_in_goroutine = _ext.in_goroutine
# The functions a lookup runs (module attributes, so that a test can stand a slow or failing
# resolver in for the C library's).
_std_getaddrinfo = _stdsocket.getaddrinfo  # the stdlib's, with its enum results (captured unpatched)
_std_gethostbyname = _socket.gethostbyname
_std_gethostbyname_ex = _socket.gethostbyname_ex
_std_gethostbyaddr = _socket.gethostbyaddr
_std_getnameinfo = _socket.getnameinfo


class _Pool:
    """Resolver threads: a FIFO of jobs, threads started while jobs outnumber idle threads."""

    def __init__(self):
        self._cv = threading.Condition(threading.Lock())
        self._jobs = collections.deque()
        self._threads = 0
        self._idle = 0

    def submit(self, fn, args):
        reply = _ext.Chan(1)
        with self._cv:
            self._jobs.append((fn, args, reply))
            if len(self._jobs) > self._idle and self._threads < MAX_THREADS:
                self._threads += 1
                threading.Thread(target=self._run, daemon=True, name="goroutines.resolver").start()
            else:
                self._cv.notify()
        return reply

    def threads(self):
        with self._cv:
            return self._threads

    def _run(self):
        while True:
            with self._cv:
                while not self._jobs:
                    self._idle += 1
                    woken = self._cv.wait(IDLE_SECONDS)
                    self._idle -= 1
                    if not woken and not self._jobs:
                        self._threads -= 1
                        return
                fn, args, reply = self._jobs.popleft()
            try:
                out = (True, fn(*args))
            except BaseException as e:  # re-raised in the goroutine that asked
                out = (False, e)
            reply.send(out)  # capacity 1, one send: never waits
            del fn, args, reply, out


_pool = _Pool()


def _after_fork_in_child():
    global _pool
    _pool = _Pool()  # the parent's threads do not exist here


os.register_at_fork(after_in_child=_after_fork_in_child)


def pool_threads():
    """How many resolver threads exist now (for tests and diagnostics)."""
    return _pool.threads()


def _offload(fn, *args):
    ok, value = _pool.submit(fn, args).recv()
    if ok:
        return value
    raise value


def is_numeric(host):
    """True if ``host`` needs no lookup: ``None``, ``""``, or an IPv4/IPv6 literal."""
    if host is None:
        return True
    if isinstance(host, (bytes, bytearray)):
        try:
            host = bytes(host).decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return True  # let the stdlib raise its TypeError on the caller's thread
    if host in ("", "<broadcast>"):
        return True
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            _socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            pass
    return False


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """``socket.getaddrinfo``; a lookup parks the goroutine (see the module doc)."""
    if not _in_goroutine() or is_numeric(host) or flags & _socket.AI_NUMERICHOST:
        return _std_getaddrinfo(host, port, family, type, proto, flags)
    return _offload(_std_getaddrinfo, host, port, family, type, proto, flags)


def gethostbyname(hostname):
    """``socket.gethostbyname``; a lookup parks the goroutine."""
    if not _in_goroutine() or is_numeric(hostname):
        return _std_gethostbyname(hostname)
    return _offload(_std_gethostbyname, hostname)


def gethostbyname_ex(hostname):
    """``socket.gethostbyname_ex``; a lookup parks the goroutine."""
    if not _in_goroutine():
        return _std_gethostbyname_ex(hostname)
    return _offload(_std_gethostbyname_ex, hostname)


def gethostbyaddr(ip_address):
    """``socket.gethostbyaddr`` (a reverse lookup, always a query); parks the goroutine."""
    if not _in_goroutine():
        return _std_gethostbyaddr(ip_address)
    return _offload(_std_gethostbyaddr, ip_address)


def getnameinfo(sockaddr, flags):
    """``socket.getnameinfo``; parks the goroutine unless both parts are asked numerically."""
    numeric = _socket.NI_NUMERICHOST | _socket.NI_NUMERICSERV
    if not _in_goroutine() or flags & numeric == numeric:
        return _std_getnameinfo(sockaddr, flags)
    return _offload(_std_getnameinfo, sockaddr, flags)


def resolve_for_connect(sock_family, address):
    """The address a ``connect`` to ``address`` would reach, its host looked up here so that
    the lookup parks the goroutine (the C library resolves inside ``connect(2)``'s wrapper
    otherwise). Non-IP families and numeric hosts come back unchanged."""
    if sock_family not in (_socket.AF_INET, _socket.AF_INET6) or not isinstance(address, tuple):
        return address
    if len(address) < 2 or is_numeric(address[0]) or not _in_goroutine():
        return address
    host, port = address[0], address[1]
    infos = getaddrinfo(host, port, sock_family)
    if not infos:
        raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")
    sa = infos[0][4]
    if sock_family == _socket.AF_INET6 and len(address) == 4:
        sa = (sa[0], sa[1], address[2], address[3])  # the caller's flowinfo and scope id
    return sa
