"""Document consistency, as a copy editor checks it: one thing written in several forms.

Reads the whole document, without a source: the same name with and without the honorific's
full stop ("Mr Putin" / "Mr. Putin"), two transliterations or diacritic spellings of one name
("Stanovaya" / "Stanovaia"), an exonym beside its endonym ("Kiev" / "Kyiv"), a term hyphenated
and closed ("cease-fire" / "ceasefire"), "U.S." beside "US", thousands separators used for
some numbers and not others, straight beside curly quotes, single beside double quotation marks.

Each inconsistency is reported ONCE: one minor span on the first occurrence of a minority form,
the counts of every form and the other occurrences named in its message, and the majority form
suggested. The rules stay quiet on ordinary variation (plurals, possessives, "Russia" /
"Russian", years), because a false "inconsistency" costs an editor's trust.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..core.result import Span, Suggestion
from ..core.segment import Segment, paragraphs
from ..core.timing import timed
from .consistency_style import (
    Form,
    Inconsistency,
    number_formats,
    position,
    quotation_marks,
    quote_marks,
)

__all__ = ["Form", "Inconsistency", "check_consistency", "find_inconsistencies"]

MAX_NAMED = 8  # sentences named per form in a message; the rest are counted


# ------------------------------------------------------------------------------- the detectors

_HONORIFIC = re.compile(
    r"(?<![\w.])(Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Adm|St)(\.?)[ \u00a0]+"
    r"([A-Z][^\W\d_]*[a-z][^\W\d_]*(?:-[A-Z][^\W\d_]+)?)"
)


def honorifics(text: str) -> list[Inconsistency]:
    """One name with and without its honorific's full stop; then, across names, the few
    written in the document's minority style ("Mr Smith" where every other title has a stop)."""
    by_name: dict[tuple[str, str], list[re.Match[str]]] = {}
    for m in _HONORIFIC.finditer(text):
        by_name.setdefault((m.group(1), m.group(3)), []).append(m)
    found = []
    rest: list[Form] = []
    titles: dict[str, set[str]] = {"dotted": set(), "plain": set()}
    for matches in by_name.values():
        items = [
            Form(m.start(), m.end(), f"{m.group(1)}{m.group(2)} {m.group(3)}") for m in matches
        ]
        if len({o.form for o in items}) > 1:
            found.append(Inconsistency("The name is written", items))
            continue
        for m in matches:
            title, dot, name = m.groups()
            style = "dotted" if dot else "plain"
            titles[style].add(title + dot)
            fix = f"{title} {name}" if dot else f"{title}. {name}"
            rest.append(Form(m.start(), m.end(), style, fix))
    if titles["dotted"] and titles["plain"]:
        labels = {s: f"“{'”, “'.join(sorted(t))}”" for s, t in titles.items()}
        labels = {
            "dotted": f"with a full stop ({labels['dotted']})",
            "plain": f"without ({labels['plain']})",
        }
        found.append(Inconsistency("Honorifics are written", rest, "dotted", labels))
    return found


_CAPITALISED = re.compile(r"(?<![\w'’-])[^\W\d_][^\W\d_'’]*(?:-[^\W\d_]+)*(?![\w-])")
MIN_NAME = 6  # shorter names differ too often by design ("Khan" / "Han", "Smyth" / "Smith")


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def fold_name(word: str) -> str:
    """A name's key under the usual transliteration alternations: diacritics dropped, y/i
    (ya/ia, ey/ei, -iy/-y/-yy), ks/x, kh/h, a leading ye/e ("Yelena" / "Elena")."""
    key = _plain(word).lower().replace("x", "ks").replace("kh", "h").replace("y", "i")
    key = re.sub(r"i+", "i", key)
    return key[1:] if key.startswith("ie") else key


def spellings(text: str) -> list[Inconsistency]:
    """Capitalised words of one key under `fold_name` written in several spellings."""
    by_key: dict[str, list[Form]] = {}
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if not word[0].isupper() or word.isupper() or len(word) < 4:
            continue
        by_key.setdefault(fold_name(word), []).append(Form(m.start(), m.end(), word))
    found = []
    for items in by_key.values():
        forms = {o.form for o in items}
        diacritics_only = len({_plain(f) for f in forms}) == 1
        if len(forms) > 1 and (diacritics_only or min(map(len, forms)) >= MIN_NAME):
            found.append(Inconsistency("The name is written", items))
    return found


#: Current name first, then the exonyms and older spellings it replaced. Left out on purpose:
#: Peking, Bombay, Madras, Calcutta (kept in institutions' names: "Peking University").
EXONYMS: tuple[tuple[str, ...], ...] = (
    ("Türkiye", "Turkey"),
    ("Kyiv", "Kiev"),
    ("Myanmar", "Burma"),
    ("Kharkiv", "Kharkov"),
    ("Odesa", "Odessa"),
    ("Lviv", "Lvov"),
    ("Luhansk", "Lugansk"),
    ("Donbas", "Donbass"),
    ("Mykolaiv", "Nikolaev", "Nikolayev"),
    ("Zaporizhzhia", "Zaporozhye"),
    ("Chernihiv", "Chernigov"),
    ("Belarus", "Byelorussia", "Belorussia"),
    ("Moldova", "Moldavia"),
    ("Czechia", "Czech Republic"),
    ("Eswatini", "Swaziland"),
    ("Sri Lanka", "Ceylon"),
    ("Chisinau", "Kishinev"),
    ("Almaty", "Alma-Ata"),
    ("Côte d’Ivoire", "Ivory Coast"),
    ("Cabo Verde", "Cape Verde"),
    ("Timor-Leste", "East Timor"),
)
_EXONYM_RE = [
    (names, re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in names)))
    for names in EXONYMS
]


def exonyms(text: str) -> list[Inconsistency]:
    """A place written both as it now calls itself and by an exonym from `EXONYMS`."""
    found = []
    for names, pattern in _EXONYM_RE:
        items = [Form(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]
        if len({o.form for o in items}) > 1:
            found.append(Inconsistency("The place name is written", items, names[0]))
    return found


_HYPHENATED = re.compile(r"(?<![\w-])[^\W\d_]+(?:-[^\W\d_]+)+(?![\w-])")
_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?![\w-])")
#: Hyphenated and closed forms that mean different things ("re-sign" / "resign").
DISTINCT_COMPOUNDS = frozenset(
    "resign recover reform recreation repress release recount retreat recollect remark resent "
    "resolve reserve react coop unionized represent restrain reside research".split()
)
#: Closed compounds whose open form is only a spelling variant ("cease fire" is also a verb).
OPEN_VARIANTS = {"website": "web site", "database": "data base", "healthcare": "health care"}


def _fix_case(form: str, like: str) -> str:
    """`form` with the first letter's case of `like` ("Ceasefire" where a sentence starts)."""
    head = form[:1].upper() if like[:1].isupper() else form[:1].lower()
    return head + form[1:]


def compounds(text: str) -> list[Inconsistency]:
    """A term both hyphenated and closed ("e-mail" / "email"), or, for a few, open."""
    by_key: dict[str, list[Form]] = {}
    for m in _HYPHENATED.finditer(text):
        key = m.group().lower().replace("-", "")
        by_key.setdefault(key, []).append(Form(m.start(), m.end(), m.group().lower()))
    for closed, spaced in OPEN_VARIANTS.items():
        pattern = rf"(?<![\w-]){spaced.replace(' ', r'[ ]')}(?![\w-])"
        for m in re.finditer(pattern, text, re.IGNORECASE):
            by_key.setdefault(closed, []).append(Form(m.start(), m.end(), m.group().lower()))
    wanted = set(by_key) - DISTINCT_COMPOUNDS
    for m in _WORD.finditer(text):
        if m.group().lower() in wanted:
            by_key[m.group().lower()].append(Form(m.start(), m.end(), m.group().lower()))
    found = []
    for key in sorted(wanted):
        items = by_key[key]
        if len({o.form for o in items}) > 1:
            labels = {
                o.form: f"“{text[o.start : o.end]}”"
                for o in sorted(items, key=position, reverse=True)
            }
            found.append(Inconsistency("The term is written", items, labels=labels))
    return found


_DOTTED = re.compile(r"(?<![\w.])((?:[A-Z]\.){2,4})")
_BARE = re.compile(r"(?<![\w.])[A-Z]{2,4}(?!\w|\.[A-Za-z])")


def _shouting(text: str, start: int) -> bool:
    """Is the line around `start` mostly capitals (a headline in caps writes "US")?"""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    words = re.findall(r"[^\W\d_]{2,}", text[line_start : len(text) if line_end < 0 else line_end])
    return sum(w.isupper() for w in words) * 2 > len(words)


def abbreviations(text: str) -> list[Inconsistency]:
    """An initialism written with and without full stops ("U.S." / "US")."""
    dotted: dict[str, list[Form]] = {}
    for m in _DOTTED.finditer(text):
        dotted.setdefault(m.group().replace(".", ""), []).append(
            Form(m.start(), m.end(), m.group())
        )
    found = []
    bare: dict[str, list[Form]] = {}
    for m in _BARE.finditer(text):
        if m.group() in dotted and not _shouting(text, m.start()):
            bare.setdefault(m.group(), []).append(Form(m.start(), m.end(), m.group()))
    for letters, items in sorted(bare.items()):
        found.append(Inconsistency("The abbreviation is written", dotted[letters] + items))
    return found


# ------------------------------------------------------------------------------- the report

_DETECTORS = (honorifics, spellings, exonyms, compounds, abbreviations)


def find_inconsistencies(text: str, segments: Sequence[Segment]) -> list[Inconsistency]:
    """Every inconsistency in the document, in order of its first minority occurrence."""
    found: list[Inconsistency] = []
    for detect in _DETECTORS:
        found += detect(text)
    found += number_formats(text)
    found += quote_marks(text)
    found += quotation_marks(text, segments, paragraphs(text))
    return sorted(found, key=lambda inc: position(inc.minority()[0]))


class _Sentences:
    """Document offset -> the sentence number an editor sees (1-based, as the CLI prints)."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = sorted(segments, key=lambda s: s.start)
        self.starts = [s.start for s in self.segments]

    def holding(self, start: int, end: int) -> Segment | None:
        i = bisect.bisect_right(self.starts, start) - 1
        segment = self.segments[i] if i >= 0 else None
        return segment if segment is not None and end <= segment.end else None

    def number(self, offset: int) -> int:
        i = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        return self.segments[i].index + 1 if self.segments else 0


def _where(numbers: Iterable[int], here: int) -> str:
    others = sorted(set(numbers) - {here})
    shown = ", ".join(map(str, others[:MAX_NAMED]))
    more = f" and {len(others) - MAX_NAMED} more" if len(others) > MAX_NAMED else ""
    listed = f"sentence{'s' if len(others) > 1 else ''} {shown}{more}" if others else ""
    return ", ".join(part for part in ("here" if here in numbers else "", listed) if part)


def _message(inc: Inconsistency, here: int, sentences: _Sentences) -> str:
    counts = inc.counts()
    parts = []
    for form, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        numbers = [sentences.number(o.start) for o in inc.occurrences if o.form == form]
        parts.append(f"{inc.label(form)} {n}× ({_where(numbers, here)})")
    majority = inc.label(inc.majority)
    tie = sorted(counts.values())[-1] == sorted(counts.values())[-2]
    advice = f"Use one form throughout; {'suggested' if tie else 'most often'}: {majority}."
    return f"{inc.topic} in {len(counts)} forms: {'; '.join(parts)}. {advice}"


@timed("checks")
def check_consistency(text: str, segments: list[Segment]) -> list[Span]:
    """One minor `consistency` span per inconsistency, on its first minority occurrence that
    lies within one sentence; the message counts every form and names where each occurs."""
    sentences = _Sentences(segments)
    spans = []
    for inc in find_inconsistencies(text, segments):
        placed = [o for o in inc.minority() if sentences.holding(o.start, o.end)]
        if not placed:
            continue
        item = placed[0]
        fix = item.fix if item.fix is not None else _majority_text(inc, item, text)
        here = sentences.number(item.start)
        spans.append(
            Span(
                item.start,
                item.end,
                text[item.start : item.end],
                "minor",
                "consistency",
                _message(inc, here, sentences),
                suggested=[Suggestion(fix, by="check")],
            )
        )
    return spans


def _majority_text(inc: Inconsistency, item: Form, text: str) -> str:
    """The majority form as written, in the occurrence's case ("Ceasefire" at a start)."""
    first = next(o for o in sorted(inc.occurrences, key=position) if o.form == inc.majority)
    return _fix_case(text[first.start : first.end], text[item.start : item.end])
