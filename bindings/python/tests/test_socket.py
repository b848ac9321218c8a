"""goroutines.socket (issue 13, item 2) and wait_readable/wait_writable (item 1).

The socket tests are one suite run three ways: the stdlib's socket on a plain thread (the
reference), goroutines.socket on a plain thread, and goroutines.socket inside a goroutine.
Each must give the stdlib's results: the same values, the same exceptions, timeouts that
raise TimeoutError after (never before) their time.
"""

import errno
import os
import socket as stdsocket
import threading
import time

import pytest

import goroutines as gr
import goroutines.socket as gsocket

MODES = ["stdlib", "thread", "goroutine"]


def run_in(mode, fn, *args):
    """fn(sockmod, *args) on a plain thread (stdlib or cooperative socket) or in a goroutine."""
    if mode == "goroutine":
        return gr.go(fn, gsocket, *args).wait(timeout=30)
    mod = stdsocket if mode == "stdlib" else gsocket
    out = {}

    def body():
        try:
            out["v"] = fn(mod, *args)
        except BaseException as e:  # re-raised below
            out["e"] = e
    t = threading.Thread(target=body)
    t.start()
    t.join(30)
    assert not t.is_alive()
    if "e" in out:
        raise out["e"]
    return out["v"]


def make_pair(mod):
    """A connected TCP pair over loopback, both of mod's socket class."""
    srv = mod.create_server(("127.0.0.1", 0))
    a = mod.create_connection(srv.getsockname())
    b, _ = srv.accept()
    srv.close()
    return a, b


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def test_is_a_drop_in_subclass():
    s = gsocket.socket()
    try:
        assert isinstance(s, stdsocket.socket)
        assert s.family == stdsocket.AF_INET and s.type == stdsocket.SOCK_STREAM
        assert s.gettimeout() is None and s.getblocking() and s.timeout is None
        assert "goroutines.socket.socket" in repr(s)
    finally:
        s.close()
    assert s.fileno() == -1


def test_echo_and_eof(mode):
    def body(mod):
        a, b = make_pair(mod)
        with a, b:
            a.sendall(b"hello" * 1000)
            got = b""
            while len(got) < 5000:
                got += b.recv(4096)
            buf = bytearray(10)
            a.send(b"xyz")
            n = b.recv_into(buf)
            a.shutdown(stdsocket.SHUT_WR)
            eof = b.recv(10)
            return got == b"hello" * 1000, bytes(buf[:n]), eof
    assert run_in(mode, body) == (True, b"xyz", b"")


def test_recv_timeout_raises_timeout_error_not_before(mode):
    def body(mod):
        a, b = make_pair(mod)
        with a, b:
            b.settimeout(0.2)
            t0 = time.monotonic()
            try:
                b.recv(10)
            except TimeoutError as e:  # socket.timeout is TimeoutError (3.10+)
                return type(e), str(e), time.monotonic() - t0
            return None
    kind, msg, took = run_in(mode, body)
    assert kind is stdsocket.timeout and msg == "timed out"
    assert took >= 0.2


def test_non_blocking_mode_as_the_stdlib(mode):
    def body(mod):
        a, b = make_pair(mod)
        with a, b:
            b.setblocking(False)
            res = [b.gettimeout(), b.getblocking()]
            for call in (lambda: b.recv(10), lambda: b.recv_into(bytearray(4)), lambda: b.recvfrom(10)):
                try:
                    call()
                except BlockingIOError as e:
                    res.append(e.errno)
            b.settimeout(0)
            res.append(b.gettimeout())
            a.send(b"x")
            time.sleep(0.05)
            res.append(b.recv(10))
            b.settimeout(None)
            res.append((b.gettimeout(), b.getblocking()))
            return res
    assert run_in(mode, body) == [0.0, False, errno.EAGAIN, errno.EAGAIN, errno.EAGAIN, 0.0, b"x", (None, True)]


def test_settimeout_validates_as_the_stdlib(mode):
    def body(mod):
        s = mod.socket()
        with s:
            out = []
            for bad in (-1, "x"):
                try:
                    s.settimeout(bad)
                except (ValueError, TypeError) as e:
                    out.append(type(e))
            s.settimeout(2)
            out.append(s.gettimeout())
            return out
    assert run_in(mode, body) == [ValueError, TypeError, 2.0]


def test_sendall_to_a_peer_that_stops_reading_times_out(mode):
    def body(mod):
        a, b = make_pair(mod)
        with a, b:
            a.settimeout(0.3)
            t0 = time.monotonic()
            try:
                a.sendall(b"x" * (64 << 20))
            except TimeoutError:
                return time.monotonic() - t0
            return None
    took = run_in(mode, body)
    assert took is not None and took >= 0.3


def test_accept_timeout_and_connect_refused(mode):
    def body(mod):
        srv = mod.create_server(("127.0.0.1", 0))
        port = srv.getsockname()[1]
        with srv:
            srv.settimeout(0.1)
            try:
                srv.accept()
            except TimeoutError:
                timed_out = True
        try:
            mod.create_connection(("127.0.0.1", port), timeout=2)
        except ConnectionRefusedError as e:
            return timed_out, e.errno
        return timed_out, None
    assert run_in(mode, body) == (True, errno.ECONNREFUSED)


def test_accepted_socket_inherits_blocking_as_the_stdlib(mode):
    def body(mod):
        srv = mod.create_server(("127.0.0.1", 0))
        with srv:
            srv.settimeout(5)
            c = mod.create_connection(srv.getsockname())
            s, addr = srv.accept()
            with c, s:
                return s.gettimeout(), addr[0], type(s).__module__
    timeout, host, modname = run_in(mode, body)
    assert timeout is None and host == "127.0.0.1"
    assert modname == ("socket" if mode == "stdlib" else "goroutines.socket")


def test_udp_sendto_recvfrom(mode):
    def body(mod):
        a = mod.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
        b = mod.socket(stdsocket.AF_INET, stdsocket.SOCK_DGRAM)
        with a, b:
            b.bind(("127.0.0.1", 0))
            b.settimeout(5)
            a.sendto(b"dgram", b.getsockname())
            data, addr = b.recvfrom(100)
            return data, addr[1] == a.getsockname()[1]
    assert run_in(mode, body) == (b"dgram", True)


def test_makefile_streams(mode):
    def body(mod):
        a, b = make_pair(mod)
        with a, b:
            w = a.makefile("wb")
            r = b.makefile("rb")
            w.write(b"line one\nline two\n")
            w.flush()
            lines = [r.readline(), r.readline()]
            w.close()
            a.close()
            lines.append(r.read())
            r.close()
            return lines
    assert run_in(mode, body) == [b"line one\n", b"line two\n", b""]


def test_closed_socket_raises_ebadf(mode):
    def body(mod):
        s = mod.socket()
        s.close()
        try:
            s.recv(1)
        except OSError as e:
            return e.errno
    assert run_in(mode, body) == errno.EBADF


def test_socketpair_fromfd_dup():
    a, b = gsocket.socketpair()
    with a, b:
        assert isinstance(a, gsocket.socket)
        c = a.dup()
        d = gsocket.fromfd(b.fileno(), b.family, b.type)
        with c, d:
            c.sendall(b"via dup")
            assert d.recv(100) == b"via dup"


def test_close_wakes_a_goroutine_waiting_in_recv():
    a, b = gsocket.socketpair()
    started = gr.Chan(1)

    def reader():
        started.send(True)
        try:
            b.recv(10)
        except OSError as e:
            return e.errno
    g = gr.go(reader)
    started.recv()
    gr.sleep(0.05)
    b.close()
    assert g.wait(timeout=5) == errno.EBADF
    a.close()


def test_wait_readable_writable_goroutine_and_thread():
    r, w = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            gr.wait_readable(r, timeout=0.05)
        gr.wait_writable(w, timeout=1)

        def waiter():
            gr.wait_readable(r)
            return os.read(r, 10)
        g = gr.go(waiter)
        gr.sleep(0.02)
        assert not g.done()
        os.write(w, b"ping")
        assert g.wait(timeout=5) == b"ping"

        class F:
            def fileno(self):
                return r
        with pytest.raises(TimeoutError):
            gr.go(gr.wait_readable, F(), timeout=0.05).wait(timeout=5)
        os.write(w, b"x")
        gr.wait_readable(F(), timeout=1)  # plain thread
        with pytest.raises(ValueError):
            gr.wait_readable(-1)
    finally:
        os.close(r)
        os.close(w)


def test_wait_readable_parks_only_the_goroutine():
    """100 goroutines waiting on pipes with 2 workers: all wait at once, no thread each."""
    pipes = [os.pipe() for _ in range(100)]
    try:
        before = gr.stats()["threads"]
        gs = [gr.go(gr.wait_readable, r, timeout=10) for r, _ in pipes]
        gr.sleep(0.1)
        assert not any(g.done() for g in gs)
        assert gr.stats()["threads"] <= max(before, gr.stats()["workers"] + 4)
        for _, w in pipes:
            os.write(w, b"!")
        for g in gs:
            g.wait(timeout=10)
    finally:
        for r, w in pipes:
            os.close(r)
            os.close(w)
