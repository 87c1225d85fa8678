"""Number check: target numbers the source does not contain, source numbers the target
never expresses (values compared with unit scaling)."""

from __future__ import annotations

import math

from ..core.result import Span
from .numbers_en import NumberMention, target_numbers
from .numbers_source import source_numbers


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _matches(values: tuple[float, ...], pool: list[float]) -> bool:
    return any(_close(v, p) for v in values for p in pool)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def _describe(mentions: list[NumberMention]) -> str:
    strong = [m for m in mentions if m.strong]
    if not strong:
        return "the source has no numbers"
    shown = []
    for m in strong[:6]:
        value = _fmt(m.values[0])
        shown.append(
            m.text if m.text.replace(",", "") == value.replace(",", "") else f"{m.text} = {value}"
        )
    return "the source has " + ", ".join(shown)


def check_numbers(
    target: str, source: str, source_lang: str | None = None, offset: int = 0
) -> list[Span]:
    """Flag target numbers (as values, with unit scaling) that the source does not contain.

    Only strong target mentions (digits, "two million") are flagged; the source pool includes
    every reading of every source mention, weak ones too, so ambiguity never raises a flag.
    """
    src = source_numbers(source, source_lang)
    pool = [v for m in src for v in m.values]
    spans = []
    for m in target_numbers(target):
        if not m.strong or _matches(m.values, pool):
            continue
        message = f"Number '{m.text}' does not match any number in the source; {_describe(src)}."
        spans.append(
            Span(
                offset + m.start,
                offset + m.end,
                target[m.start : m.end],
                "major",
                "number",
                message,
            )
        )
    return spans


def missing_source_numbers(source: str, target: str, source_lang: str | None = None) -> list[str]:
    """Source numbers (strong ones, as written in the source) that the target never expresses.

    A missing number has no place in the target to point at, so it is a sentence-level reason
    (omission) rather than a span.
    """
    pool = [v for m in target_numbers(target) for v in m.values]
    missing: list[str] = []
    for m in source_numbers(source, source_lang):
        if m.strong and not _matches(m.values, pool) and m.text not in missing:
            missing.append(m.text)
    return missing
