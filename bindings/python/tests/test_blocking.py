"""Issue 13, item 0: no program-wide hang from one blocking call, and the stall warning.

Each scenario runs in a fresh interpreter with a deadline: a hang fails the test instead of
hanging the suite.
"""

import time

import pytest

from conftest import run_script

REPRO = """
import socket, time
import goroutines as gr
gr.init(workers=2)
if {patched}:
    gr.patch()

def main():
    a, b = socket.socketpair()
    g = gr.go(lambda: b.recv(10))      # blocks: nobody has sent yet
    gr.sleep(0.01)                     # main must wake from this
    c, d = socket.socketpair()
    d.settimeout(2.0)
    t0 = time.monotonic()
    try:
        d.recv(10)
        outcome = "data?"
    except socket.timeout:
        outcome = "timed out"
    took = time.monotonic() - t0
    a.send(b"bye")
    return outcome, took, g.wait(timeout=10)

outcome, took, got = gr.run(main)
print(outcome, round(took, 2), got, sep="|")
"""


@pytest.mark.parametrize("patched", [False, True], ids=["plain", "patched"])
def test_issue_reproduction_finishes_on_time(patched):
    t0 = time.monotonic()
    r = run_script(REPRO.format(patched=patched), timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    outcome, recv_took, got = r.stdout.strip().split("|")
    assert outcome == "timed out" and got == "b'bye'"
    assert 2.0 <= float(recv_took) < 10.0  # its own timeout, never before
    assert took < 30


STALL = """
import time, threading
import goroutines as gr
gr.init(workers=2)
gr.stall_warnings(0.1)

def victim():
    gr.sleep(0.05)        # pinned to the blocker's thread once it has run
    return "victim ran"

def blocker_holds_the_thread():
    started = gr.Chan(1)
    def v():
        started.send(True)
        return victim()
    h = gr.go(v)          # starts on this goroutine's worker (and stays there)
    started.recv()
    time.sleep(0.6)       # a blocking foreign call: the victim's wake waits behind it
    return h.wait()

print(gr.run(lambda: gr.go(blocker_holds_the_thread).wait()))
"""


def test_stall_warning_names_the_goroutine_and_its_frame():
    r = run_script(STALL, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "victim ran" in r.stdout
    err = r.stderr
    assert "has held worker thread" in err and "in a blocking call" in err, err
    assert "blocker_holds_the_thread" in err  # its Python frame
    assert "goroutines.patch()" in err and "to_thread" in err
    assert err.count("has held worker thread") == 1  # once per stall


def test_no_stall_warning_for_cooperative_waits():
    r = run_script("""
        import goroutines as gr
        gr.init(workers=2)
        gr.stall_warnings(0.05)
        def main():
            gs = [gr.go(gr.sleep, 0.2) for _ in range(50)]
            for g in gs:
                g.wait()
            return "done"
        print(gr.run(main))
    """, timeout=60)
    assert r.returncode == 0 and "done" in r.stdout
    assert "has held worker thread" not in r.stderr, r.stderr


def test_main_of_run_has_its_own_thread():
    r = run_script("""
        import goroutines as gr, threading
        gr.init(workers=2)
        def main():
            mine = threading.get_ident()
            others = {gr.go(threading.get_ident).wait() for _ in range(20)}
            return mine not in others
        print(gr.run(main))
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
