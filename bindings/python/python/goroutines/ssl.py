"""Cooperative TLS: ``goroutines.ssl.SSLSocket`` is ``ssl.SSLSocket`` over a cooperative socket
(``goroutines.socket.socket``): the handshake, reads and writes park the calling goroutine
while OpenSSL waits for the network, instead of holding its worker thread. Timeouts,
non-blocking mode and exceptions are the ``ssl`` module's (``SSLWantReadError`` in
non-blocking mode, ``TimeoutError`` on expiry); on a plain thread it blocks as the stdlib's.

Use ``goroutines.ssl.SSLContext`` (an ``ssl.SSLContext`` whose ``wrap_socket`` makes these),
or ``goroutines.patch()`` (``ssl=True``), which points every ``ssl.SSLContext`` at this class,
so ``urllib.request``/``http.client`` HTTPS is cooperative too.
"""

from __future__ import annotations

import ssl as _ssl

from . import socket as _gsocket

__all__ = ["SSLSocket", "SSLContext"]

_READ, _WRITE = 1, 2


class SSLSocket(_ssl.SSLSocket, _gsocket.socket):
    """``ssl.SSLSocket`` whose TLS I/O parks the goroutine (see the module doc)."""

    def _tls(self, fn, *args):
        """`fn(*args)` on the non-blocking descriptor, waiting for what OpenSSL wants
        (readable or writable) after each want-read/want-write, until the timeout."""
        if self._gr_timeout == 0.0:
            return fn(*args)
        deadline = self._deadline()
        while True:
            try:
                return fn(*args)
            except _ssl.SSLWantReadError:
                events = _READ
            except _ssl.SSLWantWriteError:
                events = _WRITE
            self._wait(events, deadline)

    def do_handshake(self, block=False):
        return self._tls(_ssl.SSLSocket.do_handshake, self, block)

    def read(self, len=1024, buffer=None):
        return self._tls(_ssl.SSLSocket.read, self, len, buffer)

    def write(self, data):
        return self._tls(_ssl.SSLSocket.write, self, data)

    def send(self, data, flags=0):
        if self._sslobj is None:
            return _gsocket.socket.send(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to send() on %s" % self.__class__)
        self._checkClosed()
        return self._tls(self._sslobj.write, data)

    def unwrap(self):
        return self._tls(_ssl.SSLSocket.unwrap, self)


class SSLContext(_ssl.SSLContext):
    """``ssl.SSLContext`` whose ``wrap_socket`` returns a cooperative ``SSLSocket``."""

    sslsocket_class = SSLSocket
