"""Untranslated check: source-script text left in the English target."""

from __future__ import annotations

import re

from ..core.language import (
    CYRILLIC,
    GERMAN_CHARS,
    GERMAN_FUNCTION_WORDS,
    HAN,
    HANGUL,
    KANA,
    lang_code,
    source_language,
)
from ..core.result import Span

_CJK_RUN_RE = re.compile(
    f"[{HAN}{KANA}{HANGUL}]+(?:[\\s\u3000-\u303f\uff00-\uffef]*[{HAN}{KANA}{HANGUL}]+)*"
)
_CYRILLIC_RUN_RE = re.compile(f"[{CYRILLIC}]+(?:[\\s\\-]+[{CYRILLIC}]+)*")
_WORD_RE = re.compile(r"[^\W\d_]+")


def _untranslated_span(target: str, start: int, end: int, offset: int, what: str) -> Span:
    return Span(
        offset + start,
        offset + end,
        target[start:end],
        "major",
        "untranslated",
        f"Untranslated {what} text left in the English translation.",
    )


def _german_copies(target: str, source: str) -> list[tuple[int, int]]:
    """German words copied from the source: conservative, since names are copied legitimately.

    Flags (a) lowercase words with umlauts/ß found verbatim in the source ("für", "größer") and
    (b) runs of 3+ words copied in order from the source that contain a German function word.
    Capitalised single words (Müller, Düsseldorf) are left alone: they are usually names.
    """
    src_words = [m.group() for m in _WORD_RE.finditer(source)]
    src_vocab = set(src_words)
    src_bigrams = set(zip(src_words, src_words[1:], strict=False))
    tokens = list(_WORD_RE.finditer(target))
    found: list[tuple[int, int]] = []
    for tok in tokens:
        word = tok.group()
        if word.islower() and any(c in GERMAN_CHARS for c in word) and word in src_vocab:
            found.append((tok.start(), tok.end()))
    i = 0
    while i < len(tokens):
        j = i
        while j + 1 < len(tokens) and (tokens[j].group(), tokens[j + 1].group()) in src_bigrams:
            j += 1
        run = tokens[i : j + 1]
        if len(run) >= 3 and any(t.group().lower() in GERMAN_FUNCTION_WORDS for t in run):
            found.append((run[0].start(), run[-1].end()))
        i = j + 1
    return _merge_ranges(found)


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def check_untranslated(
    target: str, source: str | None = None, source_lang: str | None = None, offset: int = 0
) -> list[Span]:
    """Source-script text left in the English target.

    CJK and Cyrillic runs are flagged whatever the source (they never belong in English news
    text); German copies need the source and are only looked for when it is German.
    """
    spans = [
        _untranslated_span(target, m.start(), m.end(), offset, "Chinese/Japanese/Korean")
        for m in _CJK_RUN_RE.finditer(target)
    ]
    spans += [
        _untranslated_span(target, m.start(), m.end(), offset, "Cyrillic")
        for m in _CYRILLIC_RUN_RE.finditer(target)
    ]
    lang = source_language(source, source_lang) if source else lang_code(source_lang)
    if source and lang == "de":
        for start, end in _german_copies(target, source):
            spans.append(_untranslated_span(target, start, end, offset, "German"))
    return sorted(spans, key=lambda s: s.start)
