"""Stacked or clashing modals: "we will intend to end them", "they can able to", "will can".

English allows one modal auxiliary per verb phrase; lossy MT stacks a future or ability marker
on a verb that already carries it (Chinese 将/会/能 + 打算/要). The check is a rule on the target
alone, in LanguageTool's manner: a modal followed by another modal, by "able to" without "be",
or by a verb of intention that takes its own infinitive.
"""

from __future__ import annotations

import re

from ..core.result import Span, fixes

MODALS = "will|would|shall|should|can|could|may|might|must"
_STACKED = re.compile(
    rf"\b(?P<first>{MODALS})(?:\s+not)?\s+(?P<second>(?:{MODALS}|intend|able)\b(?:\s+to\b)?)",
    re.IGNORECASE,
)


def check_modals(target: str, offset: int = 0) -> list[Span]:
    """One minor `grammar` span per stacked modal, suggesting the phrase without the first."""
    spans = []
    for match in _STACKED.finditer(target):
        second = match.group("second")
        if second.lower().startswith(("able", "intend")) and not second.lower().endswith("to"):
            continue  # "will intend" with no infinitive, "can able" alone: not this pattern
        start, end = match.start(), match.end()
        phrase = target[start:end]
        spans.append(
            Span(
                offset + start,
                offset + end,
                phrase,
                "minor",
                "grammar",
                f"“{match.group('first')}” and “{second.split()[0]}” stack two modals: keep one",
                suggested=fixes(second),
            )
        )
    return spans
