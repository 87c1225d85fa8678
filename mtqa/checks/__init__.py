"""Deterministic translation QA checks, in the spirit of Okapi CheckMate and Xbench.

Each check is a small function returning `Span`s on the TARGET text; `offset` is added to every
span so a sentence's spans land in document coordinates (`document[offset+s:offset+e]`).
The checks are rules, not models: they are cheap, explainable and tuned to stay quiet on
ordinary news text (false positives cost reviewer trust more than the odd miss).

Checks: numbers (source-aware), untranslated source-script text, repeated words, stacked
modals, unbalanced brackets/quotes, and length ratio (source-aware). `run_checks` runs them all.
"""

from __future__ import annotations

from ..core.language import lang_code, source_language
from ..core.result import Span
from ..core.timing import timed
from .length import check_length, expected_length, length_z
from .modals import check_modals
from .numbers import check_numbers, missing_source_numbers
from .numbers_en import NumberMention, target_numbers
from .numbers_source import source_numbers
from .punctuation import check_punctuation, check_quotes
from .repetition import check_repetition
from .untranslated import check_untranslated

__all__ = [
    "CHECKS",
    "NumberMention",
    "check_length",
    "check_modals",
    "check_numbers",
    "check_punctuation",
    "check_quotes",
    "check_repetition",
    "check_untranslated",
    "expected_length",
    "length_z",
    "missing_source_numbers",
    "run_checks",
    "source_numbers",
    "target_numbers",
]

#: The families of checks, by the reason their spans carry; whether each needs the source.
CHECKS = {
    "untranslated": (check_untranslated, False),
    "repetition": (check_repetition, False),
    "grammar": (check_modals, False),
    "punctuation": (check_punctuation, False),
    "number": (check_numbers, True),
    "length": (check_length, True),
}


@timed("checks")
def run_checks(
    target: str,
    source: str | None = None,
    source_lang: str | None = None,
    offset: int = 0,
    *,
    quotes: bool = True,
) -> list[Span]:
    """Run every deterministic check on one target sentence; spans sorted by position.

    Without a source only target-side checks run (untranslated script, repetition,
    punctuation). Pass `quotes=False` when you run `check_quotes` on the whole paragraph
    instead: a quotation opened in one sentence and closed in the next is normal in news.
    """
    lang = source_language(source, source_lang) if source else lang_code(source_lang)
    spans = check_untranslated(target, source, lang, offset)
    spans += check_repetition(target, offset)
    spans += check_modals(target, offset)
    spans += check_punctuation(target, offset, quotes=quotes, source=source)
    if source:
        spans += check_numbers(target, source, lang, offset)
        spans += check_length(target, source, lang, offset)
    return sorted(spans, key=lambda s: (s.start, s.end))
