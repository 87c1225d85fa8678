"""Repetition check: the same word twice in a row."""

from __future__ import annotations

import re

from ..core.result import Span

# "had had", "that that" and "taken in in" are grammatical English: flagging them is noise
# (on train.jsonl every "in in" hit was a correct phrasal verb).
_LEGIT_REPEATS = frozenset({"had", "that", "in"})
_REPEAT_RE = re.compile(r"\b([^\W\d_]+)\s+(?=(\1)\b)", re.IGNORECASE)


def check_repetition(target: str, offset: int = 0) -> list[Span]:
    """The same word twice in a row ("the the"): a classic MT/decoder glitch. Span = 2nd copy."""
    spans = []
    for m in _REPEAT_RE.finditer(target):
        first = m.group(1)
        if first.lower() in _LEGIT_REPEATS or (first.istitle() and m.group(2).istitle()):
            continue  # "Li Li", "Ni Ni", "Bora Bora": names, not stutters
        start, end = m.start(2), m.end(2)
        spans.append(
            Span(
                offset + start,
                offset + end,
                target[start:end],
                "minor",
                "repetition",
                f"Repeated word '{target[start:end]}'.",
            )
        )
    return spans
