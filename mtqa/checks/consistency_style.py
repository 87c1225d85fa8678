"""Consistency of typography across a document: thousands separators and quote marks.

The forms and findings that `consistency` reports are defined here too (`Form`,
`Inconsistency`), so that both modules build the same objects.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.headline import headline_paragraphs
from ..core.segment import Segment


@dataclass(frozen=True)
class Form:
    """One occurrence: `document[start:end]`, the form it is written in, and its fix (None:
    the majority form's own text)."""

    start: int
    end: int
    form: str
    fix: str | None = None


@dataclass
class Inconsistency:
    """One thing written in several forms; `prefer` breaks a tie (else: the first written)."""

    topic: str  # "The name is written", ... (starts the message)
    occurrences: list[Form]
    prefer: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # form -> how the message shows it

    def counts(self) -> dict[str, int]:
        """Occurrences per form, in order of first appearance."""
        tally: dict[str, int] = {}
        for item in sorted(self.occurrences, key=lambda o: o.start):
            tally[item.form] = tally.get(item.form, 0) + 1
        return tally

    @property
    def majority(self) -> str:
        """The form written most often (ties: `prefer`, else the first written)."""
        counts = self.counts()
        order = list(counts)
        return max(order, key=lambda f: (counts[f], f == self.prefer, -order.index(f)))

    def minority(self) -> list[Form]:
        """The occurrences to change, in document order."""
        return sorted((o for o in self.occurrences if o.form != self.majority), key=position)

    def label(self, form: str) -> str:
        return self.labels.get(form, f"“{form}”")


def position(item: Form) -> tuple[int, int]:
    return (item.start, item.end)


# ------------------------------------------------------------------------------- numbers

_NUMBER = re.compile(r"(?<![\w.,:/#\-–])(\d{1,3}(?:,\d{3})+|\d{4,})(\.\d+)?(?![\w:/\-–]|[.,]\d)")
_CURRENCY = re.compile(r"[$€£¥₽]\s?$|\b(?:US|USD|EUR|GBP|Rs)\s?$")
#: Words after a four-digit number that make it a quantity, not a year ("1827 square miles").
_UNIT_AFTER = re.compile(
    r"\s+(?:square|sq|cubic|km|kilometres|kilometers|miles|metres|meters|feet|acres|hectares|"
    r"tons|tonnes|kg|kilograms|barrels|people|persons|troops|soldiers|civilians|residents|"
    r"workers|children|dollars|euros|pounds|rubles|roubles|yuan|yen|points|cases|deaths|votes|"
    r"percent|per cent)\b"
)
_YEAR_BEFORE = re.compile(
    r"\b(?:in|since|until|till|by|from|before|after|during|the|of|January|February|March|April|"
    r"May|June|July|August|September|October|November|December|\d{1,2},?)\s+$"
)
MAX_PLAIN_DIGITS = 7  # longer digit strings without separators are codes and IDs


def _is_quantity(text: str, m: re.Match[str]) -> bool:
    """A plain four-digit number from 1000 to 2100 counts only where it is plainly a quantity:
    after a currency sign, or before a unit and not after a year's preposition or month."""
    before = text[max(0, m.start() - 12) : m.start()]
    if _CURRENCY.search(before):
        return True
    return bool(_UNIT_AFTER.match(text, m.end())) and not _YEAR_BEFORE.search(before)


def number_formats(text: str) -> list[Inconsistency]:
    """Thousands separators used for some numbers and not for others of the same size.

    Four-digit numbers and longer ones are judged apart: "1827" beside "18,270" is a house
    style (separators from five digits on), "1827" beside "1,500" is not. Years are no numbers.
    """
    classes: dict[int, list[Form]] = {4: [], 5: []}
    for m in _NUMBER.finditer(text):
        digits = m.group(1).replace(",", "")
        separated = "," in m.group(1)
        if not separated and len(digits) > MAX_PLAIN_DIGITS:
            continue
        if not separated and len(digits) == 4 and 1000 <= int(digits) <= 2100:
            if not _is_quantity(text, m):
                continue
        fix = (digits if separated else f"{int(digits):,}") + (m.group(2) or "")
        size = 4 if len(digits) == 4 else 5
        form = "separated" if separated else "plain"
        classes[size].append(Form(m.start(), m.end(), form, fix))
    found = []
    for size, items in classes.items():
        if len({o.form for o in items}) > 1:
            example = {o.form: text[o.start : o.end] for o in reversed(items)}
            labels = {
                "separated": f"with a separator (“{example['separated']}”)",
                "plain": f"without (“{example['plain']}”)",
            }
            topic = "Four-digit numbers are" if size == 4 else "Numbers of five digits or more are"
            found.append(Inconsistency(f"{topic} written", items, "separated", labels))
    return found


# ------------------------------------------------------------------------------- quotes

_STRAIGHT = "\"'"
_CURLY = "“”‘’"
_OPENING_CONTEXT = " \t\n([{—–“‘\u00a0"


def _curly_for(text: str, i: int) -> str:
    """The curly mark a straight one at `i` stands for: opening after a space, else closing."""
    opening = i == 0 or text[i - 1] in _OPENING_CONTEXT
    if text[i] == '"':
        return "“" if opening else "”"
    follows = text[i + 1 : i + 2]
    return "‘" if opening and follows.isalpha() else "’"


def quote_marks(text: str) -> list[Inconsistency]:
    """Straight quote marks and apostrophes beside curly ones (a prime, 5'10", is left out)."""
    items = []
    for i, ch in enumerate(text):
        if ch in _STRAIGHT and not (i and text[i - 1].isdigit()):
            items.append(Form(i, i + 1, "straight", _curly_for(text, i)))
        elif ch in _CURLY:
            items.append(Form(i, i + 1, "curly", "'" if ch in "‘’" else '"'))
    used = {
        style: "".join(sorted({text[o.start] for o in items if o.form == style}))
        for style in ("straight", "curly")
    }
    if not (used["straight"] and used["curly"]):
        return []
    labels = {style: f"{style} ({' '.join(chars)})" for style, chars in used.items()}
    return [Inconsistency("Quote marks and apostrophes are written", items, "curly", labels)]


_TO_DOUBLE = {"‘": "“", "’": "”", "'": '"'}
_TO_SINGLE = {"“": "‘", "”": "’", '"': "'"}


def _top_level(text: str, start: int, end: int) -> list[tuple[str, int, int | None]]:
    """(kind, opener, closer or None) of each quotation not nested in another, one paragraph.

    A single mark opens a quotation at a word's start; it closes one only before a non-letter,
    so apostrophes (don’t, Ukraine's) neither open nor close.
    """
    stack: list[str] = []
    found: list[tuple[str, int, int | None]] = []
    for i in range(start, end):
        ch, prev = text[i], text[i - 1] if i > start else " "
        nxt = text[i + 1] if i + 1 < end else " "
        if ch == "”" or (ch == '"' and "d" in stack):
            while stack and stack.pop() != "d":
                pass
            closing = not stack
        elif ch in '“"':
            if not stack:
                found.append(("double", i, None))
            stack.append("d")
            continue
        elif ch in "‘'" and prev in _OPENING_CONTEXT and nxt.isalpha():
            if not stack:
                found.append(("single", i, None))
            stack.append("s")
            continue
        elif ch in "’'" and "s" in stack and not nxt.isalpha() and not prev.isspace():
            while stack and stack.pop() != "s":
                pass
            closing = not stack
        else:
            continue
        if closing and found and found[-1][2] is None:
            found[-1] = (found[-1][0], found[-1][1], i)
    return found


def quotation_marks(
    text: str, segments: Sequence[Segment], paragraph_spans: Sequence[tuple[int, int]]
) -> list[Inconsistency]:
    """Single quotation marks for some top-level quotations and double for others.

    Title lines are left out: headlines quote with single marks by convention.
    """
    titles = headline_paragraphs(text, segments)
    ordered = sorted(segments, key=lambda s: s.start)
    starts = [s.start for s in ordered]
    items = []
    for number, (start, end) in enumerate(paragraph_spans):
        if number in titles:
            continue
        for kind, opener, closer in _top_level(text, start, end):
            swap = _TO_SINGLE if kind == "double" else _TO_DOUBLE
            at = bisect.bisect_right(starts, opener) - 1
            segment_end = ordered[at].end if at >= 0 else -1
            if closer is not None and closer < segment_end:
                quoted = text[opener : closer + 1]
                fix = (
                    swap.get(quoted[0], quoted[0]) + quoted[1:-1] + swap.get(quoted[-1], quoted[-1])
                )
                items.append(Form(opener, closer + 1, kind, fix))
            else:
                items.append(Form(opener, opener + 1, kind, swap.get(text[opener], text[opener])))
    if len({o.form for o in items}) < 2:
        return []
    labels = {"double": "double marks (“…”)", "single": "single marks (‘…’)"}
    return [Inconsistency("Top-level quotations are marked", items, "double", labels)]
