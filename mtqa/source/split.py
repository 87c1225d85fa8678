"""Source documents -> sentences with offsets: Chinese by its sentence punctuation, other
languages with pysbd per line."""

from __future__ import annotations

import re

from ..core.language import source_language
from ..core.segment import segmenter

# A Chinese sentence ends at 。！？ (or ASCII !?), taking any closing quotes/brackets with it.
_ZH_SENTENCE_RE = re.compile(r"[^\n]*?(?:[。！？!?]+[”’」』）)\]】\"']*|(?=\n)|\Z)")
_PYSBD_LANGS = {"ru", "de", "en", "fr", "es", "it", "pl", "bg", "nl", "da", "el", "fa", "ja"}


def _strip_span(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """Trim whitespace off a span; None when nothing is left."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    return start + left, start + right, piece[left:right]


def _split_zh(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _ZH_SENTENCE_RE.finditer(text):
        span = _strip_span(text, m.start(), m.end())
        if span:
            out.append(span)
    return out


def _split_pysbd(text: str, lang: str) -> list[tuple[int, int, str]]:
    """pysbd per line; offsets recomputed by searching forward (pysbd's char_span can drift)."""
    out: list[tuple[int, int, str]] = []
    line_start = 0
    for line in text.split("\n"):
        cursor = line_start
        for sent in segmenter(lang).segment(line) if line.strip() else []:
            piece = sent.strip()
            if not piece:
                continue
            found = text.find(piece, cursor)
            if found < 0:  # should not happen with clean=False; keep going without it
                continue
            out.append((found, found + len(piece), piece))
            cursor = found + len(piece)
        line_start += len(line) + 1
    return out


# "Дж. Байден", "В. Путин": pysbd ends a sentence at an initial; such splits are undone.
_INITIAL_END_RE = re.compile(r"(?:^|\s)[A-ZА-ЯЁ][a-zа-яё]?\.$")


def _merge_initials(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for span in spans:
        prev = out[-1] if out else None
        joinable = prev is not None and "\n" not in text[prev[1] : span[0]]
        if (
            prev is not None
            and joinable
            and _INITIAL_END_RE.search(prev[2])
            and span[2][:1].isupper()
        ):
            out[-1] = (prev[0], span[1], text[prev[0] : span[1]])
        else:
            out.append(span)
    return out


def split_source(text: str, lang: str | None = None) -> list[tuple[int, int, str]]:
    """Split a source document into sentences: (start, end, text) with text == source[start:end].

    zh: on 。！？ (closing quotes stay with their sentence) and newlines; ru/de/others: pysbd
    per line. The language is detected from the script when not given.
    """
    lang = source_language(text, lang)
    if lang == "zh":
        return _split_zh(text)
    return _merge_initials(text, _split_pysbd(text, lang if lang in _PYSBD_LANGS else "en"))
