"""goroutines.dump() and stats() (issue 14): the runtime's goroutine dump, where each Python
goroutine shows its Python frames (function names and line numbers) above its native ones;
from the main thread and from inside a goroutine; JSON lines; the stats counts."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap

import goroutines as gr


def parked_in_recv(ch, ready):
    ready.done()
    return ch.recv()  # the line the dump must name


RECV_LINE = parked_in_recv.__code__.co_firstlineno + 2


def _park(n=2):
    ch, ready = gr.Chan(), gr.WaitGroup()
    ready.add(n)
    gs = [gr.go(parked_in_recv, ch, ready) for _ in range(n)]
    ready.wait()
    gr.sleep(0.05)  # let them reach the park after `done`
    return ch, gs


def _release(ch, gs):
    ch.close()
    for g in gs:
        try:
            g.wait()
        except gr.Closed:
            pass


def test_dump_from_main_thread_shows_python_frames():
    ch, gs = _park()
    try:
        text = gr.dump()
    finally:
        _release(ch, gs)
    assert "[chan receive" in text
    assert "Python (most recent call first):" in text
    assert f'line {RECV_LINE} in parked_in_recv' in text, text
    assert text.count(f"line {RECV_LINE} in parked_in_recv") >= 2
    assert "python" in text  # the goroutines' kind


def test_dump_from_inside_a_goroutine_and_to_a_file():
    ch, gs = _park(1)

    def inspector():
        buf = io.StringIO()
        out = gr.dump(file=buf)
        return out, buf.getvalue()

    try:
        out, written = gr.run(inspector)
    finally:
        _release(ch, gs)
    assert out == written
    assert f"line {RECV_LINE} in parked_in_recv" in out
    # The caller's own goroutine: running, with its frames up to the dump() call.
    assert "in inspector" in out
    assert "[running" in out


def test_dump_json_lines():
    ch, gs = _park(1)
    try:
        text = gr.dump(json=True)
    finally:
        _release(ch, gs)
    objs = [json.loads(line) for line in text.splitlines()]
    assert objs[0]["type"] == "dump"
    gor = [o for o in objs if o["type"] == "goroutine" and o["kind"] == "python" and o.get("wait") == "chan receive"]
    assert gor, text
    assert any(f"line {RECV_LINE} in parked_in_recv" in f for g in gor for f in g["lang_frames"])


def test_stats_counts():
    ch, gs = _park(3)
    try:
        s = gr.stats()
    finally:
        _release(ch, gs)
    assert s["waiting"]["chan_recv"] >= 3
    assert set(s["waiting"]) == {"chan_recv", "chan_send", "select", "select_empty", "sleep", "mutex", "waitgroup",
                                 "join", "fd", "rwmutex_read", "rwmutex_write", "cond", "semaphore", "once"}
    assert s["parked"] >= 3
    for k in ("running", "runnable", "sleeping", "blocking", "runq_global", "runq_local", "timers",
              "threads_running", "threads_idle", "threads_blocking", "plain_threads", "plain_waiting"):
        assert k in s and s[k] >= 0


def test_dump_on_sigquit():
    """faulthandler-style: SIGQUIT prints the dump with Python frames; the program goes on."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import goroutines as gr
        from test_dump import _park, _release
        gr.dump_on_signal(signal.SIGQUIT)
        ch, gs = _park(1)
        os.kill(os.getpid(), signal.SIGQUIT)
        gr.sleep(0.3)
        _release(ch, gs)
        print("carried on")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "carried on" in r.stdout
    assert f"line {RECV_LINE} in parked_in_recv" in r.stderr, r.stderr
