"""Text -> paragraphs -> sentences, each with character offsets into the original text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

from .timing import timed

_PARAGRAPH_BREAK = re.compile(r"\n")
_NON_SPACE = re.compile(r"\S")


@dataclass(frozen=True)
class Segment:
    """One sentence: `text == document[start:end]`, with its paragraph number."""

    index: int
    start: int
    end: int
    text: str
    paragraph: int


@lru_cache(maxsize=8)
def segmenter(language: str) -> pysbd.Segmenter:
    """A pysbd sentence splitter for a language, kept as-is (`clean=False`: offsets hold)."""
    return pysbd.Segmenter(language=language, clean=False)


@timed("segmentation")
def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line: news text puts one paragraph (or title) per line."""
    spans = []
    pos = 0
    for piece in _PARAGRAPH_BREAK.split(text):
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        pos += len(piece) + 1
    return spans


@timed("segmentation")
def split_sentences(text: str, language: str = "en") -> list[Segment]:
    """Split a document into sentences with pysbd, paragraph by paragraph, keeping offsets.

    pysbd returns the sentence strings; we locate each one in its paragraph from a moving
    cursor, so offsets are exact even when a sentence repeats.
    """
    splitter = segmenter(language)
    segments: list[Segment] = []
    for para_no, (p_start, p_end) in enumerate(paragraphs(text)):
        cursor = p_start
        for piece in splitter.segment(text[p_start:p_end]):
            piece = piece.strip()
            if not piece:
                continue
            found = text.find(piece, cursor, p_end)
            if found < 0:  # pysbd altered the text; fall back to the rest of the paragraph
                found = cursor + _first_non_space(text[cursor:p_end])
                piece = text[found:p_end].strip()
            end = found + len(piece)
            segments.append(Segment(len(segments), found, end, piece, para_no))
            cursor = end
    return segments


def _first_non_space(text: str) -> int:
    match = _NON_SPACE.search(text)
    return match.start() if match else 0
