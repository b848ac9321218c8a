"""Cooperative name resolution (goroutines._resolver, exported by goroutines.socket and
swapped in by patch(socket=True)): a lookup in a goroutine runs on a resolver thread while the
goroutine parks; numeric hosts and plain threads call the stdlib on the caller's thread.

The machine has no DNS, so a test stands a resolver that blocks until released in for the C
library's (`_resolver._std_getaddrinfo`): what is checked is where the lookup ran and that
the goroutines parked meanwhile, not how fast a real DNS answered.
"""

import socket as stdsocket
import threading

import pytest

import goroutines as gr
import goroutines.socket as gsocket
from goroutines import _resolver

LOCAL = stdsocket.getaddrinfo("127.0.0.1", 80, stdsocket.AF_INET, stdsocket.SOCK_STREAM)


class BlockingResolver:
    """Records each call's thread, blocks until released, answers 127.0.0.1."""

    def __init__(self, error=None):
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.threads = []
        self.running = 0
        self.most = 0
        self.error = error

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        with self.lock:
            self.threads.append(threading.current_thread().name)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            assert self.release.wait(30)
            if self.error is not None:
                raise self.error
            return [(af, st, pr, host, (sa[0], port)) for af, st, pr, _c, sa in LOCAL]
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def fake(monkeypatch):
    r = BlockingResolver()
    monkeypatch.setattr(_resolver, "_std_getaddrinfo", r)
    yield r
    r.release.set()


def test_lookups_in_goroutines_park_on_resolver_threads(fake):
    n = 3 * _resolver.MAX_THREADS
    gs = [gr.go(gsocket.getaddrinfo, "host%d.example" % i, 8000 + i) for i in range(n)]
    # Every lookup is handed off: the pool fills up, the rest wait their turn, and the runtime
    # still runs other goroutines (both workers would be held otherwise).
    for _ in range(200):
        if fake.most >= _resolver.MAX_THREADS:
            break
        gr.sleep(0.01)
    assert fake.most == _resolver.MAX_THREADS
    assert _resolver.pool_threads() == _resolver.MAX_THREADS
    assert gr.go(lambda: 42).wait(timeout=10) == 42
    assert all(not g.done() for g in gs)
    fake.release.set()
    for i, g in enumerate(gs):
        infos = g.wait(timeout=30)
        assert infos[0][3] == "host%d.example" % i and infos[0][4] == ("127.0.0.1", 8000 + i)
    assert set(fake.threads) == {"goroutines.resolver"}
    assert len(fake.threads) == n


def test_plain_thread_and_numeric_hosts_resolve_on_the_callers_thread(fake):
    fake.release.set()
    me = threading.current_thread().name
    assert gsocket.getaddrinfo("name.example", 1)[0][4] == ("127.0.0.1", 1)
    assert fake.threads == [me]  # a plain thread: the stdlib's call, here
    for host in ("127.0.0.1", "::1", None, b"10.0.0.1"):
        gr.go(gsocket.getaddrinfo, host, 1).wait(timeout=10)
    # numeric hosts need no lookup: the stdlib's call on the goroutine's own thread
    assert len(fake.threads) == 5 and "goroutines.resolver" not in fake.threads


def test_errors_are_raised_in_the_goroutine(monkeypatch):
    r = BlockingResolver(error=stdsocket.gaierror(stdsocket.EAI_NONAME, "Name or service not known"))
    r.release.set()
    monkeypatch.setattr(_resolver, "_std_getaddrinfo", r)
    with pytest.raises(stdsocket.gaierror) as e:
        gr.go(gsocket.getaddrinfo, "nowhere.example", 80).wait(timeout=10)
    assert e.value.errno == stdsocket.EAI_NONAME
    assert r.threads == ["goroutines.resolver"]


def test_results_match_the_stdlib():
    def body():
        return (gsocket.getaddrinfo("localhost", 80, stdsocket.AF_INET, stdsocket.SOCK_STREAM),
                gsocket.gethostbyname("localhost"), gsocket.gethostbyname_ex("localhost"),
                gsocket.getnameinfo(("127.0.0.1", 80), stdsocket.NI_NUMERICHOST | stdsocket.NI_NUMERICSERV))
    got = gr.go(body).wait(timeout=30)
    assert got[0] == stdsocket.getaddrinfo("localhost", 80, stdsocket.AF_INET, stdsocket.SOCK_STREAM)
    assert isinstance(got[0][0][0], stdsocket.AddressFamily)
    assert got[1] == stdsocket.gethostbyname("localhost")
    assert got[2] == stdsocket.gethostbyname_ex("localhost")
    assert got[3] == ("127.0.0.1", "80")


def test_connect_by_name_from_a_goroutine(fake):
    fake.release.set()
    srv = stdsocket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]

    def client():
        with gsocket.socket() as s:
            s.settimeout(10)
            s.connect(("server.example", port))  # looked up by the (stand-in) resolver
            s.sendall(b"hi")
        with gsocket.create_connection(("server.example", port), timeout=10) as s:
            s.sendall(b"yo")
        return True

    g = gr.go(client)
    got = []
    for _ in range(2):
        c, _a = srv.accept()
        got.append(c.recv(2))
        c.close()
    assert g.wait(timeout=30) is True
    srv.close()
    assert got == [b"hi", b"yo"]
    assert fake.threads == ["goroutines.resolver"] * 2


def test_patch_swaps_the_lookups_and_unpatch_restores_them():
    orig = stdsocket.getaddrinfo, stdsocket.gethostbyname, stdsocket.getnameinfo
    gr.patch(socket=True, time=False, select=False, ssl=False)
    try:
        assert stdsocket.getaddrinfo is gsocket.getaddrinfo
        assert stdsocket.gethostbyname is gsocket.gethostbyname
        # the stdlib's own helpers now look up cooperatively, in a goroutine or not
        assert gr.go(stdsocket.getaddrinfo, "localhost", 80).wait(timeout=30)
        assert stdsocket.getaddrinfo("localhost", 80)
    finally:
        gr.unpatch()
    assert (stdsocket.getaddrinfo, stdsocket.gethostbyname, stdsocket.getnameinfo) == orig


def test_idle_resolver_threads_exit(monkeypatch):
    monkeypatch.setattr(_resolver, "IDLE_SECONDS", 0.05)
    pool = _resolver._Pool()
    assert pool.submit(lambda: 7, ()).recv() == (True, 7)
    for _ in range(400):
        if pool.threads() == 0:
            break
        gr.sleep(0.01)
    assert pool.threads() == 0
    assert pool.submit(lambda: 8, ()).recv() == (True, 8)  # a new thread starts on demand
