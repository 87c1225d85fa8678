"""Which lines of a news document are titles: headline, subhead, byline or dateline.

English headline grammar (dropped articles and copulas, present tense for past events, no final
full stop) is not a fluency error, so the scorer judges these lines as headlines, not as prose.
A title line is a paragraph (one line: `segment.paragraphs`) that is either the document's
first line or a short line without final punctuation in title case or headline style.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .segment import Segment, paragraphs

#: Words title case leaves in lowercase ("Russia Asks for Miles in Conversation").
SMALL_WORDS = frozenset(
    "a an and as at but by en for from if in into nor of off on onto or over per so than the "
    "to up upon via vs with yet".split()
)
#: A lowercase line ending on one of these was cut off mid-sentence, not written as a title.
_DANGLING = frozenset("a an and but of or that the to which who with for".split())
#: Verbs of reported prose that headline style avoids ("says" is headline style, "said" not).
_PROSE_VERBS = frozenset("said told added was were had".split())
#: Abbreviations whose full stop is not final punctuation ("Putin Meets Envoys From the U.S.").
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Z]\.){2,}|\b(?:Inc|Jr|Sr|Co|Ltd|Corp|St)\.)$")
_WORD = re.compile(r"[^\W\d_](?:[\w'’.-]*\w)?")
_OPENERS = "\"'“‘([«"
_CLOSERS = "\"'”’)]»"

MAX_WORDS_FIRST = 30  # a first line this long is a lede sentence, not a title
MAX_WORDS_TITLE = 20  # a title-case line mid-document (subhead, byline, caption credit)
MAX_WORDS_HEADLINE = 14  # a sentence-case line without final punctuation
TITLE_CASE_SHARE = 0.8  # capitalised share of the words title case capitalises


def is_title_case(words: Sequence[str]) -> bool:
    """Most words that title case capitalises are capitalised (small words may be either).

    The first word is left out (every sentence capitalises it); all-caps counts as title case.
    """
    content = [w for w in words[1:] if w.lower() not in SMALL_WORDS]
    if not content:
        return len(words) > 0 and words[0][:1].isupper() and len(words) <= 3
    capitalised = sum(1 for w in content if w[:1].isupper())
    return capitalised >= TITLE_CASE_SHARE * len(content)


def _final_mark(line: str) -> str:
    """The line's last character that is not a closing quote or bracket ("" for none)."""
    body = line.rstrip(_CLOSERS + " ")
    if body.endswith(".") and _ABBREVIATION.search(body):
        return ""  # "the U.S." ends on an abbreviation, not on a full stop
    return body[-1:] if body and not body[-1].isalnum() else ""


def is_title_line(line: str, *, first: bool = False, sentences: int = 1) -> bool:
    """Is this line (one paragraph) a title: a headline, subhead, byline or dateline?

    `first`: it is the document's first line and more text follows; `sentences`: how many
    sentences the splitter found in it (a sentence-case line of several is prose that lost its
    final full stop, not a headline).
    """
    line = line.strip()
    words = _WORD.findall(line)
    head = line.lstrip(_OPENERS)[:1]
    if not words or not (head.isupper() or head.isdigit()):
        return False
    mark = _final_mark(line)
    if mark in (".", ",", ";", ":", "…"):
        return False  # a full stop ends prose; a comma or colon leads into more prose
    title = is_title_case(words)
    if first:  # a question or exclamation is a headline here too; a lede ends on a stop
        return len(words) <= MAX_WORDS_FIRST
    if title:
        return len(words) <= MAX_WORDS_TITLE
    if mark or sentences > 1 or len(words) > MAX_WORDS_HEADLINE:
        return False
    if words[-1] in _DANGLING or any(w.lower() in _PROSE_VERBS for w in words):
        return False
    return True


def headline_paragraphs(text: str, segments: Sequence[Segment]) -> set[int]:
    """The paragraph numbers (`Segment.paragraph`) of the document's title lines."""
    spans = paragraphs(text)
    counts: dict[int, int] = {}
    for segment in segments:
        counts[segment.paragraph] = counts.get(segment.paragraph, 0) + 1
    found = set()
    for number, (start, end) in enumerate(spans):
        first = number == 0 and len(spans) > 1
        if is_title_line(text[start:end], first=first, sentences=counts.get(number, 1)):
            found.add(number)
    return found


def headline_segments(text: str, segments: Sequence[Segment]) -> set[int]:
    """The indexes (`Segment.index`) of the segments that lie on a title line."""
    titles = headline_paragraphs(text, segments)
    return {segment.index for segment in segments if segment.paragraph in titles}


def is_headline(segment: Segment, text: str, segments: Sequence[Segment]) -> bool:
    """Is this segment (of `segments`, split from `text`) on a title line?"""
    return segment.index in headline_segments(text, segments)
