"""Shared setup: a 2-worker runtime for the in-process tests, helpers for subprocess ones."""

import os
import subprocess
import sys
import textwrap

import pytest

import goroutines as gr

WORKERS = 2
gr.init(workers=WORKERS)


def python_cmd(*args):
    """The interpreter running the suite, with the same -X dev setting."""
    cmd = [sys.executable]
    if sys.flags.dev_mode:
        cmd += ["-X", "dev"]
    return cmd + list(args)


def run_script(code, *, env=None, timeout=60, **kw):
    """Runs `code` in a fresh interpreter; returns the CompletedProcess."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(
        python_cmd("-c", textwrap.dedent(code)),
        env=e,
        timeout=timeout,
        capture_output=True,
        text=True,
        **kw,
    )


@pytest.fixture(scope="session")
def testlib():
    """The C test library (tests/c/grpytest.c) linked with -lgr, built by python.mk."""
    import ctypes

    path = os.environ.get("GR_PYTEST_LIB")
    if not path or not os.path.exists(path):
        pytest.skip("GR_PYTEST_LIB not built (run through `make test-python`)")
    return ctypes.CDLL(path)
