from types import TracebackType
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
    wait_readable as wait_readable,
    wait_writable as wait_writable,
    yield_ as yield_,
)

_R = TypeVar("_R")
_P = ParamSpec("_P")

__all__ = [
    "CLOSED", "Cancelled", "Chan", "Closed", "Error", "Goroutine", "GoroutineError", "Mutex",
    "StateError", "WaitGroup", "WouldBlock", "dump", "dump_on_signal", "go", "go_native", "in_goroutine", "init", "run",
    "patch", "select", "self_id", "sleep", "stall_warnings", "stats", "to_thread", "unpatch", "version",
    "wait_readable", "wait_writable", "yield_",
]

def go_native(fn: object, arg: object = None) -> Goroutine[None]: ...
def run(main: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
def to_thread(fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
def dump(file: TextIO | None = None, *, json: bool = False, all_frames: bool = False) -> str: ...
def dump_on_signal(signum: int | None = None, file: TextIO | None = None) -> Any: ...

# ---------------------------------------------------------------- issue 15: the toolbox
# (Kept in a block of their own.)
from ._goroutines import (
    Cond as Cond,
    Context as Context,
    DeadlineExceeded as DeadlineExceeded,
    Once as Once,
    RWLocker as RWLocker,
    RWMutex as RWMutex,
    Semaphore as Semaphore,
    Ticker as Ticker,
    Timer as Timer,
    after as after,
    current_context as current_context,
    monotonic as monotonic,
    with_cancel as with_cancel,
    with_timeout as with_timeout,
)

__all__ += [
    "Cond", "Context", "DeadlineExceeded", "Group", "Once", "RWLocker", "RWMutex", "Semaphore",
    "Ticker", "Timer", "after", "current_context", "monotonic", "with_cancel", "with_timeout",
]

class Group:
    def __init__(self, limit: int | None = None, parent: Context | None = None) -> None: ...
    @property
    def context(self) -> Context: ...
    def cancel(self) -> None: ...
    def go(self, fn: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> Goroutine[_R]: ...
    def __enter__(self) -> Group: ...
    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool: ...
def patch(socket: bool = True, time: bool = True, select: bool = True, ssl: bool = True) -> None: ...
def unpatch() -> None: ...
def stall_warnings(threshold: float | None = 0.1) -> None: ...
