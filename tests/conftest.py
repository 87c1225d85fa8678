"""Shared fixtures: the real model is loaded once per test session.

Every test that uses one of them, or runs the command line in a fresh process, is marked
`model` here, so `make test-fast` (`-m "not model and not browser"`) leaves out what is slow
without each file having to remember it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import cli_run
import pytest

from mtqa import DocumentResult, Scorer

DATA = Path(__file__).parent / "data"
MODEL_FIXTURES = {"scorer", "seed_result"}  # and every fixture that asks for one of them
CLI_HELPERS = (cli_run.mtqa,)


def _codes(code: CodeType) -> list[CodeType]:
    """`code` and the code of every function, lambda and comprehension nested in it."""
    nested = [c for c in code.co_consts if isinstance(c, CodeType)]
    return [code, *(inner for c in nested for inner in _codes(c))]


def _runs_the_cli(func: Callable[..., Any], seen: set[Callable[..., Any]]) -> bool:
    """Whether `func`, or a function of its own module that it calls, starts the command line
    in a fresh process: through tests/cli_run.py, or naming `mtqa.cli` to a subprocess."""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or func in seen:
        return False
    seen.add(func)
    for part in _codes(code):
        words = [c for c in part.co_consts if isinstance(c, str)]
        if {"-m", "mtqa.cli"} <= set(words) or any("-m mtqa.cli" in w for w in words):
            return True  # `python -m mtqa.cli ...` as a subprocess
        for name in part.co_names:
            used = func.__globals__.get(name)
            if any(used is helper for helper in CLI_HELPERS):
                return True
            if (
                inspect.isfunction(used)
                and used.__module__ == func.__module__
                and _runs_the_cli(used, seen)
            ):
                return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixtures = item._fixtureinfo.name2fixturedefs
        funcs = [item.obj, *(d.func for defs in fixtures.values() for d in defs)]
        seen: set[Callable[..., Any]] = set()
        if MODEL_FIXTURES & set(item.fixturenames) or any(_runs_the_cli(f, seen) for f in funcs):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed_article.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    # fp32 on the CPU on every machine: the calibrated numbers the tests compare with (a GPU
    # machine would otherwise pick CUDA and bf16; tests/test_device.py loads that one itself).
    return Scorer.load(device="cpu")


@pytest.fixture(scope="session")
def seed_result(scorer: Scorer, seed_text: str) -> DocumentResult:
    return scorer.score(seed_text, doc_id="seed_article.txt")
