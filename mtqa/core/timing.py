"""A light timer registry for profiling the pipeline's stages (benchmarks/speed.py --only
profile, benchmarks/batch.py --profile): off by default, and then nearly free (one flag test).

`stage(name)` is a context manager; `timed(name)` decorates a function. Stages nest: each adds
only its own (exclusive) time, so a suggestion read inside the judgement counts once, as the
suggestion's. Threads keep their own stack; the totals are shared.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_ON = False
_LOCK = threading.Lock()
_TOTALS: dict[str, float] = {}
_CALLS: dict[str, int] = {}
_LOCAL = threading.local()


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NULL = _Null()


class _Stage:
    __slots__ = ("name", "start", "inner")

    def __init__(self, name: str) -> None:
        self.name = name
        self.start = 0.0
        self.inner = 0.0  # time spent in stages nested inside this one

    def __enter__(self) -> None:
        stack = getattr(_LOCAL, "stack", None)
        if stack is None:
            stack = _LOCAL.stack = []
        stack.append(self)
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.start
        stack = _LOCAL.stack
        stack.pop()
        if stack:
            stack[-1].inner += elapsed
        with _LOCK:
            _TOTALS[self.name] = _TOTALS.get(self.name, 0.0) + elapsed - self.inner
            _CALLS[self.name] = _CALLS.get(self.name, 0) + 1


def stage(name: str) -> Any:
    """Time the block as stage `name` when profiling is on; a shared no-op otherwise."""
    return _Stage(name) if _ON else _NULL


def timed(name: str) -> Callable[[F], F]:
    """Decorator: the function's calls count as stage `name` when profiling is on."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not _ON:
                return fn(*args, **kwargs)
            with _Stage(name):
                return fn(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def enable(on: bool = True) -> None:
    """Turn profiling on (and clear the totals) or off."""
    global _ON
    reset()
    _ON = on


def enabled() -> bool:
    return _ON


def reset() -> None:
    with _LOCK:
        _TOTALS.clear()
        _CALLS.clear()


def totals() -> dict[str, tuple[float, int]]:
    """Seconds and calls of each stage so far."""
    with _LOCK:
        return {name: (seconds, _CALLS[name]) for name, seconds in _TOTALS.items()}
