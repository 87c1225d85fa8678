"""Names and titles are checks, not mistranslations, when only the English is read.

About 30% of MQM's Major spans are names (a mistransliterated name is zh->en's commonest error),
and raters judge a name against the source. Reading the English alone, the learned detector
therefore raises every rare capitalised word: "V. Putin", "Türkiye", "Ms. Stanovaya", all spelled
right. A span made only of names, titles, honorifics or initials is not shown as
`mistranslation`/`fluency`; it becomes a minor `name` finding ("check this name against the
source") only where the document itself gives evidence:
- the same entity written two ways (the consistency check found a variant of it), or
- a name the document mentions once and the model's vocabulary does not know.
A `name` finding never flags a sentence on its own, except where other systems' translations
of the same sentence are given (`batch --peers`): a name that most of them write otherwise is
evidence an editor can check in the English, and it flags as the risk says.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..core.result import NAME_MESSAGE, Span
from .signals import MIN_FREQ, WORD, unigram_bits

#: Honorifics and titles that stand before a name ("Mr. Putin", "Vice President JD Vance").
HONORIFICS = frozenset(
    "mr mrs ms miss mx dr prof sir dame lord lady gen lt col maj capt sgt adm sen rep gov "
    "st fr rev hon".split()
)
TITLES = frozenset(
    "president vice prime minister secretary chancellor premier king queen prince princess "
    "emperor general senator governor mayor chairman chairwoman chair ambassador deputy "
    "foreign defense defence interior finance director speaker pope cardinal bishop judge "
    "justice commander chief spokesman spokeswoman envoy".split()
)
#: Lowercase particles inside multi-word names ("Charles de Gaulle", "Mohammed bin Salman").
PARTICLES = frozenset("of de du da la le van von der den bin al el".split())
#: A word wordfreq does not know at all (its frequency is at the floor).
UNKNOWN_BITS = -math.log2(MIN_FREQ) - 0.01
#: A sentence's first word is a name when English rarely uses it in lowercase ("Tatiana").
RARE_AS_WORD_BITS = 18.0
#: Peers' evidence on a name needs at least this many other translations (as the peer pass).
MIN_PEERS = 2
_INITIAL = re.compile(r"^[A-Z]$")


def capitalised_mid_sentence(text: str, sentence_starts: Iterable[int]) -> frozenset[str]:
    """Words the document writes capitalised where a sentence does not start: its names."""
    starts = set(sentence_starts)
    out = set()
    for match in WORD.finditer(text):
        word = match.group()
        if word[:1].isupper() and match.start() not in starts and not _follows_opener(text, match):
            out.add(word)
    return frozenset(out)


def _follows_opener(text: str, match: re.Match[str]) -> bool:
    """A word right after an opening quote or a colon starts a quoted sentence."""
    before = text[: match.start()].rstrip()
    straight = before.endswith(('"', "'")) and len(before) == match.start()  # "Word, not " Word
    return straight or before.endswith(("“", "‘", ":", "—", "–"))


def is_name_word(word: str, initial: bool, names: frozenset[str]) -> bool:
    """A capitalised name, title, honorific or initial (a sentence's first word only where the
    document writes it capitalised elsewhere too, or it is a title or honorific)."""
    lower = word.lower().rstrip(".")
    if lower in HONORIFICS or (word[:1].isupper() and lower in TITLES):
        return True
    if _INITIAL.match(word) or (word.isupper() and len(word) <= 5):
        return True  # "V", "JD", "EU", "NATO"
    if not word[:1].isupper():
        return False
    if not initial:
        return True
    stem = word.split("’")[0].split("'")[0]
    return stem in names or unigram_bits(stem.lower()) >= RARE_AS_WORD_BITS


def is_name_span(
    span_text: str, span_start: int, sentence_start: int, names: frozenset[str]
) -> bool:
    """Is every word of the span a name word (lowercase particles allowed between them)?"""
    words = list(WORD.finditer(span_text))
    if not words:
        return False
    for i, match in enumerate(words):
        word = match.group()
        if word in PARTICLES and 0 < i < len(words) - 1:
            continue
        initial = span_start + match.start() == sentence_start
        if not is_name_word(word, initial, names):
            return False
    return True


def name_findings(
    spans: list[Span],
    sentence_start: int,
    names: frozenset[str],
    mentions: Counter[str],
    variants: frozenset[str],
    peers: Sequence[str] = (),
) -> tuple[list[Span], bool]:
    """The spans with name-only model spans turned into `name` findings or dropped, and
    whether any model span was a name without the peers' evidence (such a sentence is not
    flagged for it alone). `mentions`: how often the document writes each word; `variants`:
    the words the consistency check found written in more than one form; `peers`: the other
    systems' translations of the sentence."""
    out: list[Span] = []
    had_name = False
    peer_words = [frozenset(m.group() for m in WORD.finditer(p)) for p in peers]
    for span in spans:
        if span.reason not in ("mistranslation", "fluency") or not is_name_span(
            span.text, span.start, sentence_start, names
        ):
            out.append(span)
            continue
        why = _peer_evidence(span.text, peer_words)
        had_name = had_name or why is None
        why = why or _name_evidence(span.text, mentions, variants)
        if why is not None:
            out.append(
                replace(
                    span,
                    reason="name",
                    severity="minor",
                    message=f"{NAME_MESSAGE}: {why}",
                    suggested=[],
                )
            )
    return out, had_name


def _core_words(text: str) -> list[str]:
    """The span's name words proper: no honorifics, titles or initials."""
    words = [m.group() for m in WORD.finditer(text)]
    return [
        w
        for w in words
        if w.lower().rstrip(".") not in HONORIFICS | TITLES and not _INITIAL.match(w)
    ]


def _peer_evidence(text: str, peer_words: Sequence[frozenset[str]]) -> str | None:
    """ "only 2 of the 11 other translations write “Stanovaia”", where fewer than half of at
    least MIN_PEERS other translations write one of the span's name words; else None."""
    if len(peer_words) < MIN_PEERS:
        return None
    for word in _core_words(text):
        support = sum(word in words for words in peer_words)
        if 2 * support < len(peer_words):
            some = "none" if support == 0 else f"only {support}"
            return f"{some} of the {len(peer_words)} other translations write “{word}”"
    return None


def _name_evidence(text: str, mentions: Counter[str], variants: frozenset[str]) -> str | None:
    """Why the English itself casts doubt on this name, or None."""
    core = _core_words(text)
    varied = [w for w in core if w in variants]
    if varied:
        return f"the document writes “{varied[0]}” in more than one form"
    unknown = [w for w in core if mentions[w] <= 1 and unigram_bits(w.lower()) >= UNKNOWN_BITS]
    if unknown and len(unknown) == len(core):
        return f"“{unknown[0]}” appears only once and is unknown to the model"
    return None


def document_mentions(text: str) -> Counter[str]:
    """How often the document writes each word, as written."""
    return Counter(m.group() for m in WORD.finditer(text))


__all__ = [
    "NAME_MESSAGE",
    "capitalised_mid_sentence",
    "document_mentions",
    "is_name_span",
    "is_name_word",
    "name_findings",
]
