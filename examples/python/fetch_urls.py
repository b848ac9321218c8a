"""200 concurrent fetches with unmodified urllib.request, under goroutines.patch(): the
standard library's sockets park the goroutine instead of its thread. The example starts its
own local http.server (threads, unpatched: it was made before patch()) and ends by itself."""
import http.server
import threading
import time

import goroutines as gr

N = 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.05)  # a slow backend: 50 ms per page (the server's own threads)
        body = f"page {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = N  # every client connects at once
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"

gr.init(workers=2)
gr.patch()  # socket, time.sleep, select: cooperative inside goroutines

import urllib.request  # noqa: E402 (imported late on purpose: patch() covers it either way)


def fetch(i):
    with urllib.request.urlopen(f"{base}/{i}", timeout=30) as r:
        body = r.read()
    assert body == f"page /{i}".encode(), body
    return len(body)


def main():
    t0 = time.monotonic()
    sizes = [g.wait() for g in [gr.go(fetch, i) for i in range(N)]]
    took = time.monotonic() - t0
    print(f"{len(sizes)} pages, {sum(sizes)} bytes, in {took:.2f} s "
          f"(one at a time: at least {N * 0.05:.0f} s); runtime threads: {gr.stats()['threads']}")


gr.run(main)
gr.unpatch()
server.shutdown()
server.server_close()
