"""A goroutine-per-connection TCP echo server and its clients, in pure Python, with
goroutines.socket: Go's `net.Listen` / `Accept` / `go handle(conn)` loop. Each blocking socket
call parks only its goroutine, so 200 connections need a handful of OS threads.
Ends by itself: the clients check every byte, then the listener is closed."""
import random

import goroutines as gr
from goroutines import socket as gsocket

CLIENTS, MESSAGES = 200, 20


def handle(conn):
    with conn:
        while True:
            data = conn.recv(4096)
            if not data:
                return  # the client closed its end
            conn.sendall(data)


def serve(listener):
    while True:
        try:
            conn, _addr = listener.accept()
        except OSError:
            return  # closed: no more connections
        gr.go(handle, conn)


def client(addr, seed):
    rng = random.Random(seed)
    with gsocket.create_connection(addr, timeout=30) as c:
        for _ in range(MESSAGES):
            msg = rng.randbytes(rng.randint(1, 2048))
            c.sendall(msg)
            got = bytearray()
            while len(got) < len(msg):
                got += c.recv(4096)
            assert got == msg, "echo mismatch"
    return len(msg)


def main():
    listener = gsocket.create_server(("127.0.0.1", 0), backlog=CLIENTS)
    server = gr.go(serve, listener)
    clients = [gr.go(client, listener.getsockname(), i) for i in range(CLIENTS)]
    for g in clients:
        g.wait()
    threads = gr.stats()["threads"]
    listener.close()  # wakes the accept loop (OSError), which returns
    server.wait()
    print(f"{CLIENTS} clients x {MESSAGES} messages echoed and checked; "
          f"{threads} OS threads in the runtime ({gr.stats()['workers']} workers)")


gr.init(workers=2)
gr.run(main)
