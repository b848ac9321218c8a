from typing import Any, Callable, ParamSpec, TextIO, TypeVar

from ._goroutines import (
    CLOSED as CLOSED,
    Cancelled as Cancelled,
    Chan as Chan,
    Closed as Closed,
    Error as Error,
    Goroutine as Goroutine,
    GoroutineError as GoroutineError,
    Mutex as Mutex,
    StateError as StateError,
    WaitGroup as WaitGroup,
    WouldBlock as WouldBlock,
    go as go,
    in_goroutine as in_goroutine,
    init as init,
    select as select,
    self_id as self_id,
    sleep as sleep,
    stats as stats,
    version as version,
    yield_ as yield_,
)

_R = TypeVar("_R")
_P = ParamSpec("_P")

__all__ = [
    "CLOSED", "Cancelled", "Chan", "Closed", "Error", "Goroutine", "GoroutineError", "Mutex",
    "StateError", "WaitGroup", "WouldBlock", "dump", "dump_on_signal", "go", "go_native", "in_goroutine", "init", "run",
    "select", "self_id", "sleep", "stats", "to_thread", "version", "yield_",
]

def go_native(fn: object, arg: object = None) -> Goroutine[None]: ...
def run(main: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
def to_thread(fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
def dump(file: TextIO | None = None, *, json: bool = False, all_frames: bool = False) -> str: ...
def dump_on_signal(signum: int | None = None, file: TextIO | None = None) -> Any: ...
