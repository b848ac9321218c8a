"""Cooperative sockets: ``goroutines.socket.socket`` is a drop-in subclass of ``socket.socket``
whose blocking calls park the calling goroutine instead of its worker thread.

Everything else is the standard library's: the constructor, the methods, the exceptions
(``TimeoutError`` -- ``socket.timeout`` -- on expiry, ``BlockingIOError`` in non-blocking
mode, the ``OSError`` subclass of each errno), ``settimeout``/``gettimeout``/``setblocking``
and ``socket.setdefaulttimeout``. On a plain thread the calls block the thread (GIL released,
Ctrl-C works), with the stdlib's results.

How: the descriptor itself is always in non-blocking mode; the timeout the program sets is
kept by this object (``gettimeout()``, ``timeout``, ``getblocking()`` report it), and each
blocking call waits for readiness through the runtime's netpoller (``gr_fd_recv``,
``gr_fd_wait``...), with the remaining time. ``close()`` and ``detach()`` first wake every
goroutine and thread waiting on the socket (they raise ``OSError(EBADF)``, as gevent's do)
and drop the runtime's registration, so a reused descriptor number inherits nothing.

Name resolution (``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``,
``gethostbyaddr``, ``getnameinfo``, and the lookup of a host name inside ``connect``,
``connect_ex`` and ``create_connection``) runs on a small pool of resolver threads while the
goroutine parks; numeric addresses need no lookup (``goroutines._resolver``).
"""

from __future__ import annotations

import _socket
import errno as _errno
import os as _os
import socket as _stdsocket
import time as _time

from . import _goroutines as _ext
from . import _resolver

__all__ = ["socket", "create_connection", "create_server", "socketpair", "fromfd",
           "wait_readable", "wait_writable", "getaddrinfo", "gethostbyname",
           "gethostbyname_ex", "gethostbyaddr", "getnameinfo"]

_std = _stdsocket.socket  # the class this one derives from (never the patched name)
_READ, _WRITE = 1, 2
_recv, _recv_into = _ext._sock_recv, _ext._sock_recv_into
_send, _sendall = _ext._sock_send, _ext._sock_sendall
_fd_wait, _forget = _ext._fd_wait, _ext._fd_forget
wait_readable, wait_writable = _ext.wait_readable, _ext.wait_writable
getaddrinfo, getnameinfo = _resolver.getaddrinfo, _resolver.getnameinfo
gethostbyname, gethostbyname_ex = _resolver.gethostbyname, _resolver.gethostbyname_ex
gethostbyaddr = _resolver.gethostbyaddr
_monotonic = _time.monotonic


def _timed_out():
    return TimeoutError("timed out")


class socket(_std):
    """``socket.socket`` whose blocking calls park the goroutine (see the module doc)."""

    __slots__ = ("_gr_timeout",)

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        _std.__init__(self, family, type, proto, fileno)
        # The number is this socket's now: whatever the runtime remembers of an earlier file
        # with it (closed by someone else with close(2)) is stale; forget it.
        _forget(_std.fileno(self))
        # The stdlib's initial timeout (getdefaulttimeout(), or blocking) becomes ours; the
        # descriptor goes non-blocking for good.
        self._gr_timeout = _std.gettimeout(self)
        _std.settimeout(self, 0.0)

    # -- timeout state, as the stdlib reports it ------------------------------------------
    def settimeout(self, value, /):
        _std.settimeout(self, value)  # validates as the stdlib does (ValueError, TypeError)
        self._gr_timeout = _std.gettimeout(self)
        _std.settimeout(self, 0.0)

    def gettimeout(self):
        return self._gr_timeout

    def setblocking(self, flag, /):
        self.settimeout(None if flag else 0.0)

    def getblocking(self):
        return self._gr_timeout != 0.0

    @property
    def timeout(self):
        return self._gr_timeout

    def __repr__(self):
        return _std.__repr__(self).replace("<socket.socket", "<goroutines.socket.socket", 1)

    # -- waiting --------------------------------------------------------------------------
    def _deadline(self):
        t = self._gr_timeout
        return None if t is None else _monotonic() + t

    def _wait(self, events, deadline):
        """Waits for `events` until `deadline`; TimeoutError when it passes."""
        if deadline is None:
            _fd_wait(self.fileno(), events, None)
            return
        left = deadline - _monotonic()
        if left <= 0 or not _fd_wait(self.fileno(), events, left):
            raise _timed_out()

    def _retry(self, events, call, *args):
        """`call(*args)` on the non-blocking descriptor, waiting for `events` after each
        EAGAIN, until the socket's timeout (non-blocking mode: the first EAGAIN raises)."""
        if self._gr_timeout == 0.0:
            return call(self, *args)
        deadline = self._deadline()
        while True:
            try:
                return call(self, *args)
            except BlockingIOError:
                pass
            self._wait(events, deadline)

    # -- the blocking calls (positional-only where the stdlib's C methods are) -------------
    def recv(self, bufsize, flags=0, /):
        return _recv(self.fileno(), bufsize, flags, self._gr_timeout)

    def recv_into(self, buffer, nbytes=0, flags=0):
        return _recv_into(self.fileno(), buffer, nbytes, flags, self._gr_timeout)

    def send(self, data, flags=0, /):
        return _send(self.fileno(), data, flags, self._gr_timeout)

    def sendall(self, data, flags=0, /):
        _sendall(self.fileno(), data, flags, self._gr_timeout)

    def recvfrom(self, bufsize, flags=0, /):
        return self._retry(_READ, _std.recvfrom, bufsize, flags)

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        return self._retry(_READ, _std.recvfrom_into, buffer, nbytes, flags)

    def sendto(self, data, /, *args):
        return self._retry(_WRITE, _std.sendto, data, *args)

    if hasattr(_std, "recvmsg"):
        def recvmsg(self, *args):
            return self._retry(_READ, _std.recvmsg, *args)

        def recvmsg_into(self, *args):
            return self._retry(_READ, _std.recvmsg_into, *args)

        def sendmsg(self, *args):
            return self._retry(_WRITE, _std.sendmsg, *args)

    def _accept(self):
        return self._retry(_READ, _std._accept)

    def accept(self):
        fd, addr = self._accept()
        sock = socket(self.family, self.type, self.proto, fileno=fd)
        # As the stdlib: a listening socket with a timeout hands out blocking sockets when
        # no default timeout is set.
        if _stdsocket.getdefaulttimeout() is None and self.gettimeout():
            sock.setblocking(True)
        return sock, addr

    def connect(self, address, /):
        err = self._connect(address, raise_=True)
        if err:
            raise OSError(err, _os.strerror(err))

    def connect_ex(self, address, /):
        return self._connect(address, raise_=False)

    def _connect(self, address, raise_):
        address = _resolver.resolve_for_connect(self.family, address)
        if self._gr_timeout == 0.0:
            return _std.connect_ex(self, address) if not raise_ else _std.connect(self, address)
        err = _std.connect_ex(self, address)  # resolves the name, then a non-blocking connect
        if err in (_errno.EINPROGRESS, _errno.EAGAIN, _errno.EALREADY, _errno.EINTR):
            try:
                self._wait(_WRITE, self._deadline())
            except TimeoutError:
                if raise_:
                    raise
                return _errno.EWOULDBLOCK  # the stdlib's connect_ex reports a timeout so
            err = _std.getsockopt(self, _stdsocket.SOL_SOCKET, _stdsocket.SO_ERROR)
        return err

    def sendfile(self, file, offset=0, count=None):
        # The stdlib's own loop already waits on EAGAIN (through selectors, with our
        # timeout), so it is cooperative once selectors are patched; use the send() path.
        return self._sendfile_use_send(file, offset, count)

    # -- closing --------------------------------------------------------------------------
    def _real_close(self, _ss=_socket.socket):
        _forget(_std.fileno(self))
        _ss.close(self)

    def detach(self):
        _forget(_std.fileno(self))
        return _std.detach(self)

    def dup(self):
        sock = socket(self.family, self.type, self.proto, fileno=_os.dup(self.fileno()))
        sock.settimeout(self._gr_timeout)
        return sock

    def __del__(self):
        # A socket collected unclosed: the stdlib closes it (ResourceWarning); tell the
        # runtime first, so that no waiter or registration outlives the descriptor.
        fd = _std.fileno(self)
        if fd >= 0:
            _forget(fd)
        _std.__del__(self)


def socketpair(family=None, type=_stdsocket.SOCK_STREAM, proto=0):
    """``socket.socketpair`` returning cooperative sockets."""
    if family is None:
        family = getattr(_stdsocket, "AF_UNIX", _stdsocket.AF_INET)
    a, b = _stdsocket.socketpair(family, type, proto)
    return socket(fileno=a.detach()), socket(fileno=b.detach())


def fromfd(fd, family, type, proto=0):
    """``socket.fromfd`` returning a cooperative socket (of a duplicate of ``fd``)."""
    return socket(family, type, proto, fileno=_os.dup(fd))


def create_connection(address, timeout=_stdsocket._GLOBAL_DEFAULT_TIMEOUT, source_address=None,
                      *, all_errors=False):
    """``socket.create_connection`` with a cooperative socket: the connection attempts park
    the goroutine (and so does the name lookup). Same arguments, timeout and errors."""
    host, port = address
    exceptions = []
    for af, socktype, proto, _canon, sa in getaddrinfo(host, port, 0, _stdsocket.SOCK_STREAM):
        sock = None
        try:
            sock = socket(af, socktype, proto)
            if timeout is not _stdsocket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sa)
            exceptions.clear()  # break reference cycles, as the stdlib does
            return sock
        except OSError as exc:
            if not all_errors:
                exceptions.clear()
            exceptions.append(exc)
            if sock is not None:
                sock.close()
    if len(exceptions):
        try:
            if not all_errors:
                raise exceptions[0]
            raise ExceptionGroup("create_connection failed", exceptions)
        finally:
            exceptions.clear()
    raise OSError("getaddrinfo returns an empty list")


def create_server(address, **kw):
    """``socket.create_server`` (same arguments) returning a cooperative listening socket,
    whose ``accept`` parks the goroutine; made by the stdlib (nothing there blocks), then
    adopted."""
    std = _stdsocket.create_server(address, **kw)
    timeout = std.gettimeout()
    sock = socket(fileno=std.detach())
    sock.settimeout(timeout)
    return sock
