"""Punctuation check: unbalanced brackets and quotation marks."""

from __future__ import annotations

from ..core.result import Span
from ..core.timing import timed

_BRACKETS = {")": "(", "]": "[", "}": "{", "）": "（", "】": "【"}
_OPEN_BRACKETS = set(_BRACKETS.values())
# opener -> closers it accepts. „ (German) closes with “ (or ”); “ opens in English.
_QUOTE_PAIRS = {"“": "”", "„": "“”", "«": "»", "「": "」", "『": "』"}
_QUOTE_CLOSERS = set("”»」』")


def _punct_span(text: str, i: int, offset: int, message: str) -> Span:
    return Span(offset + i, offset + i + 1, text[i], "minor", "punctuation", message)


def _check_brackets(text: str, offset: int) -> list[Span]:
    stack: list[int] = []
    spans = []
    for i, ch in enumerate(text):
        if ch in _OPEN_BRACKETS:
            stack.append(i)
        elif ch in _BRACKETS:
            if stack and text[stack[-1]] == _BRACKETS[ch]:
                stack.pop()
            else:
                spans.append(
                    _punct_span(text, i, offset, f"Closing '{ch}' without an opening one.")
                )
    spans += [_punct_span(text, i, offset, f"Unclosed '{text[i]}'.") for i in stack]
    return spans


@timed("checks")
def check_quotes(text: str, offset: int = 0) -> list[Span]:
    """Unbalanced double quotes: curly “ ”, «», „“, 「」 and an odd number of straight ".

    Single quotes are ignored: ’ is overwhelmingly an apostrophe (don’t, Ukraine’s).
    Quotations often span sentences in news paragraphs, so run this on a whole paragraph when
    you have one (see `run_checks(..., quotes=False)`).
    """
    stack: list[int] = []
    spans = []
    straight: list[int] = []
    for i, ch in enumerate(text):
        if ch == '"':
            straight.append(i)
            continue
        top = text[stack[-1]] if stack else None
        if top is not None and ch in _QUOTE_PAIRS[top]:
            stack.pop()
        elif ch in _QUOTE_PAIRS:
            stack.append(i)
        elif ch in _QUOTE_CLOSERS:
            spans.append(
                _punct_span(text, i, offset, f"Closing quote '{ch}' without an opening one.")
            )
    spans += [_punct_span(text, i, offset, f"Unclosed quote '{text[i]}'.") for i in stack]
    if len(straight) % 2:
        spans.append(_punct_span(text, straight[-1], offset, 'Odd number of straight quotes (").'))
    return spans


def check_punctuation(
    text: str, offset: int = 0, quotes: bool = True, source: str | None = None
) -> list[Span]:
    """Unbalanced brackets (and, with `quotes`, unbalanced quotes) in one sentence.

    With a source, a kind of imbalance the source shares is not flagged: a segment cut
    mid-quotation (common in WMT data) is unbalanced on both sides, and faithfully so.
    """
    spans = []
    if source is None or not _check_brackets(source, 0):
        spans += _check_brackets(text, offset)
    if quotes and (source is None or not check_quotes(source)):
        spans += check_quotes(text, offset)
    return sorted(spans, key=lambda s: s.start)
