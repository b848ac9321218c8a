"""Issue 13, item 2: cooperative TLS (goroutines.ssl): handshake, reads and writes park the
goroutine; timeouts and errors are the ssl module's; patch() covers every SSLContext."""

import shutil
import ssl
import subprocess
import time

import pytest

import goroutines as gr
from goroutines import socket as gsocket
from goroutines import ssl as gssl


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    server = gssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = gssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cert)
    return server, client


def tls_echo_server(server_ctx, n):
    srv = gsocket.create_server(("127.0.0.1", 0), backlog=n)

    def handle(c):
        with server_ctx.wrap_socket(c, server_side=True) as s:
            while data := s.recv(65536):
                s.sendall(data)

    def serve():
        for _ in range(n):
            gr.go(handle, srv.accept()[0])
        srv.close()
    return srv.getsockname(), gr.go(serve)


def test_tls_echo_between_goroutines(certs):
    server_ctx, client_ctx = certs
    n = 20

    def client(addr, i):
        with client_ctx.wrap_socket(gsocket.create_connection(addr), server_hostname="localhost") as c:
            assert isinstance(c, gssl.SSLSocket) and c.version() in ("TLSv1.2", "TLSv1.3")
            msg = b"%d:" % i + b"x" * 100_000
            c.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += c.recv(65536)
            return got == msg

    def main():
        addr, server = tls_echo_server(server_ctx, n)
        ok = [g.wait(timeout=60) for g in [gr.go(client, addr, i) for i in range(n)]]
        server.wait(timeout=10)
        return all(ok)
    assert gr.run(main)


def test_handshake_parks_and_times_out(certs):
    """A peer that never answers the handshake: the client's handshake parks (other
    goroutines run meanwhile on 2 workers) and raises TimeoutError at its timeout."""
    _, client_ctx = certs

    def main():
        srv = gsocket.create_server(("127.0.0.1", 0))
        raw = gsocket.create_connection(srv.getsockname())
        raw.settimeout(0.3)
        ticks = []

        def ticker():
            for _ in range(10):
                gr.sleep(0.01)
                ticks.append(1)
        gs = [gr.go(ticker) for _ in range(8)]
        t0 = time.monotonic()
        try:
            client_ctx.wrap_socket(raw, server_hostname="localhost")
        except TimeoutError:
            took = time.monotonic() - t0
        for g in gs:
            g.wait()
        srv.close()
        raw.close()
        return took, len(ticks)
    took, ticks = gr.go(main).wait(timeout=30)
    assert took >= 0.3 and ticks == 80


def test_non_blocking_tls_raises_want_read(certs):
    server_ctx, client_ctx = certs

    def main():
        addr, server = tls_echo_server(server_ctx, 1)
        c = client_ctx.wrap_socket(gsocket.create_connection(addr), server_hostname="localhost")
        c.setblocking(False)
        try:
            c.recv(10)
        except ssl.SSLWantReadError:
            got = "want read"
        c.setblocking(True)
        c.sendall(b"ok")
        echoed = c.recv(10)
        c.close()
        server.wait(timeout=10)
        return got, echoed
    assert gr.run(main) == ("want read", b"ok")


def test_patch_makes_every_context_cooperative(certs):
    server_ctx, _ = certs
    plain = ssl.create_default_context()  # made before patch(): covered all the same
    gr.patch(socket=False, time=False, select=False)
    try:
        assert ssl.SSLContext.sslsocket_class is gssl.SSLSocket
        plain.check_hostname = False
        plain.verify_mode = ssl.CERT_NONE

        def main():
            addr, server = tls_echo_server(server_ctx, 1)
            with plain.wrap_socket(gsocket.create_connection(addr)) as c:
                c.sendall(b"via patch")
                kind = type(c)
                data = c.recv(100)
            server.wait(timeout=10)
            return kind, data
        assert gr.run(main) == (gssl.SSLSocket, b"via patch")
    finally:
        gr.unpatch()
    assert ssl.SSLContext.sslsocket_class is ssl.SSLSocket
