"""Type stubs for goroutines.aio, the asyncio bridge."""

import asyncio
from typing import Any, Coroutine, TypeVar

from ._goroutines import Goroutine

_T = TypeVar("_T")

__all__ = ["run", "wait"]

async def wait(g: Goroutine[_T]) -> _T:
    """Await goroutine `g`: its result, or its exception re-raised, without blocking the loop."""

def run(coro: Coroutine[Any, Any, _T], loop: asyncio.AbstractEventLoop, *, timeout: float | None = None) -> _T:
    """Run `coro` on the running `loop` and wait for its result (parks a goroutine)."""
