"""The .pyi stubs match the runtime (mypy's stubtest), as STYLE.md asks of PyO3 projects, and
their generics do what users rely on (mypy --strict over tests/typing/check_types.py)."""

import os
import subprocess
import sys

import pytest

import goroutines as gr

CHECK_TYPES = os.path.join(os.path.dirname(__file__), "typing", "check_types.py")
CHECK_TOOLBOX = os.path.join(os.path.dirname(__file__), "typing", "check_toolbox_types.py")
CRAWLER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "python", "crawler.py")


def test_stubtest():
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "goroutines"], capture_output=True,
                       text=True, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_generics(tmp_path):
    """go(square, "not an int") is rejected, go(square, 3).wait() is an int, Chan[int].recv()
    is an int: each expectation in check_types.py is an assert_type or a `type: ignore[code]`
    that --strict reports once it is no longer needed."""
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path),
                        CHECK_TYPES], capture_output=True, text=True, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr


def test_generic_classes_subscript_at_runtime():
    ch = gr.Chan[int](2)
    assert type(ch) is gr.Chan and ch.cap == 2
    ch.send(7)
    assert ch.recv() == 7
    assert gr.Chan[int] == gr.Chan[int] and gr.Chan[int] != gr.Chan[str]
    assert repr(gr.Goroutine[str]) == "goroutines.Goroutine[str]"
    assert gr.go(lambda: 5).wait() == 5


def test_cancelled_family():
    """Cancelled (a cancelled Context) is an Error; DeadlineExceeded (its deadline) is both a
    Cancelled and a TimeoutError, so `except TimeoutError` catches a context's deadline too."""
    assert issubclass(gr.Cancelled, gr.Error)
    assert issubclass(gr.DeadlineExceeded, gr.Cancelled) and issubclass(gr.DeadlineExceeded, TimeoutError)


def test_mypy_toolbox(tmp_path):
    """The toolbox's stubs (tests/typing/check_toolbox_types.py, and a real program using
    them: examples/python/crawler.py) under --strict."""
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), CHECK_TOOLBOX,
                        os.path.abspath(CRAWLER)],
                       capture_output=True, text=True, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr
