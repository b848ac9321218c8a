"""Issue 13, item 5: Ctrl-C and interpreter exit with goroutines parked on sockets."""

import signal
import subprocess
import sys
import textwrap
import time

from conftest import python_cmd, run_script


def start(code):
    return subprocess.Popen(python_cmd("-c", textwrap.dedent(code)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def interrupt_when_ready(p, timeout=30):
    """Waits for the child's "ready" line, sends SIGINT, returns (seconds to exit, out, err)."""
    line = p.stdout.readline()
    assert line.strip() == "ready", (line, p.stderr.read() if p.poll() is not None else "")
    time.sleep(0.2)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=timeout)
    return time.monotonic() - t0, out, err


def test_ctrl_c_interrupts_run_while_goroutines_wait_on_sockets():
    p = start("""
        import goroutines as gr
        from goroutines import socket as gsocket
        gr.init(workers=2)
        def main():
            pairs = [gsocket.socketpair() for _ in range(50)]
            for a, b in pairs:
                gr.go(b.recv, 10)          # parked on sockets nobody writes to
            a, b = gsocket.socketpair()
            print("ready", flush=True)
            b.recv(10)                      # main itself parked on a socket
        try:
            gr.run(main)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise
    """)
    took, out, err = interrupt_when_ready(p)
    assert "interrupted" in out
    assert p.returncode != 0 and "KeyboardInterrupt" in err
    assert took < 10


def test_ctrl_c_interrupts_a_plain_thread_blocked_in_socket_and_wait_readable():
    for call in ("b.recv(10)", "gr.wait_readable(b)", "b.accept()"):
        p = start("""
            import goroutines as gr
            from goroutines import socket as gsocket
            a, b = gsocket.socketpair()
            if "accept" in %r:
                b = gsocket.create_server(("127.0.0.1", 0))
            print("ready", flush=True)
            try:
                %s
            except KeyboardInterrupt:
                print("interrupted", flush=True)
        """ % (call, call))
        took, out, err = interrupt_when_ready(p)
        assert "interrupted" in out, (call, out, err)
        assert p.returncode == 0 and took < 10, (call, err)


def test_exit_does_not_hang_on_goroutines_parked_on_sockets():
    t0 = time.monotonic()
    r = run_script("""
        import goroutines as gr
        from goroutines import socket as gsocket
        gr.init(workers=2)
        keep = []
        def park_some():
            for _ in range(100):
                a, b = gsocket.socketpair()
                keep.append((a, b))
                gr.go(b.recv, 10)
            gr.go(gr.wait_readable, keep[0][0])
        gr.run(park_some)
        print("main done", flush=True)
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "main done" in r.stdout
    assert time.monotonic() - t0 < 30
