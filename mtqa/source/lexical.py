"""Dictionary evidence for one (Chinese source, English target) sentence pair: CC-CEDICT's
glosses of the source words against the target's words.

- `omission`: neighbouring source content words none of whose glosses any target word covers
  (one such word is usually a free rendering; a run of them, a dropped clause);
- `addition`: neighbouring target content words that no gloss of any source word or character
  supports (an added clause);
- `name`: a source name whose dictionary form (or a Chinese person's pinyin) the target does not
  write; it points at the capitalised target phrase most like it, or at a name CEDICT gives
  to a headword the source does not have ("Hu Jintao" for 习近平).

Each finding names the source words it rests on (offsets into the source sentence) and, where
it points at target words, their offsets into the target, so a report can show both sides. As
spans they are minor checks (`CHECK_REASONS`): shown to the editor, never flagging a sentence.
The knobs (`LexicalParams`) were chosen on MQM train (`benchmarks/dictionary.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from ..core.frequency import zipf_frequency
from ..core.language import detect_script
from ..core.result import NAME_MESSAGE, Span
from . import coverage
from .coverage import Coverage, gloss_texts, support, supported
from .dictionary import (
    STOPWORDS,
    Lexicon,
    SourceWord,
    TargetWord,
    is_content,
    is_content_english,
    load_lexicon,
    segment_source,
    target_words,
)
from .names import SourceName, best_match, source_names, writes

T = TypeVar("T")

__all__ = [
    "LEXICAL_REASONS",
    "LexicalFinding",
    "LexicalParams",
    "dictionary_spans",
    "lexical_findings",
]

#: Span reasons by finding kind (the first two are reasons of their own, apart from the
#: aligner's sentence-level "omission"/"addition", which are major and flag).
LEXICAL_REASONS = {"omission": "missing-word", "addition": "added-word", "name": "name"}
#: Titles and honorifics, never a name's rendering (as in `mtqa.scoring.names`).
TITLES = frozenset(
    "mr mrs ms miss dr prof sir president vice prime minister premier secretary chairman "
    "general governor mayor ambassador spokesman spokeswoman state foreign".split()
)


@dataclass(frozen=True)
class LexicalParams:
    """What the dictionary checks report (tuned on MQM train: `benchmarks/dictionary.py`)."""

    omission_pos: frozenset[str] = frozenset({"v", "vn", "n", "a", "an", "ad", "nz", "l", "i"})
    omission_min_chars: int = 2
    omission_min_run: int = 3  # neighbouring uncovered content words that make a finding
    max_omissions: int = 1  # a sentence (the longest source words first)
    max_uncovered_share: float = 1.0  # more uncovered than this: a paraphrase, say nothing
    addition_min_run: int = 4  # neighbouring unsupported target content words: a finding
    addition_max_zipf: float = 0.0  # a single unsupported word this rare is one too (0: none)
    max_additions: int = 1
    name_near: float = 0.5  # a capitalised phrase this alike to the expected form is its rendering
    name_loose: float = 0.6  # a foreign name's pinyin this alike to a target phrase is matched
    names_absent: bool = False  # also report a sure name the English does not write at all


@dataclass(frozen=True)
class LexicalFinding:
    """One piece of dictionary evidence about a sentence pair."""

    kind: str  # "omission", "addition" or "name"
    source_words: tuple[SourceWord, ...]  # what it rests on (offsets into the source)
    target: tuple[int, int] | None  # the target words it points at (offsets), if any
    expected: tuple[str, ...]  # the glosses or name forms the target was checked for
    message: str

    @property
    def reason(self) -> str:
        return LEXICAL_REASONS[self.kind]

    def to_span(self, target: str, offset: int = 0) -> Span:
        """As a minor span in document offsets (the whole sentence where it points at none)."""
        if self.target is not None:
            start, end = self.target
        else:
            start = len(target) - len(target.lstrip())
            end = len(target.rstrip())
        return Span(
            offset + start, offset + end, target[start:end], "minor", self.reason, self.message
        )


def _quoted(items: Sequence[str], limit: int = 3) -> str:
    return ", ".join(f"“{item}”" for item in items[:limit])


def _omissions(
    words: Sequence[SourceWord],
    names: Sequence[SourceName],
    target: Coverage,
    lexicon: Lexicon,
    params: LexicalParams,
) -> list[LexicalFinding]:
    in_names = {(w.start, w.end) for n in names for w in n.words}
    judged: list[tuple[SourceWord, bool]] = []
    for k, word in enumerate(words):
        if not is_content(word) or (word.start, word.end) in in_names:
            continue
        covered = coverage.covered(word.text, target, lexicon)
        if covered is False:  # jieba cut a compound: 国家/主席 is 国家主席 "president"
            joins = [words[j : j + 2] for j in (k - 1, k) if 0 <= j and j + 1 < len(words)]
            covered = any(
                a.end == b.start and coverage.covered(a.text + b.text, target, lexicon)
                for a, b in joins
            )
        if covered is not None:
            judged.append((word, covered))
    uncovered = [w for w, covered in judged if not covered]
    if not judged or len(uncovered) > params.max_uncovered_share * len(judged):
        return []
    runs = _uncovered_runs(judged, params)
    runs.sort(key=lambda run: (-len(run), -sum(len(w.text) for w in run), run[0].start))
    out = []
    for run in sorted(runs[: params.max_omissions], key=lambda run: run[0].start):
        glosses = [(w.text, gloss_texts(w.text, lexicon)) for w in run]
        said = "; ".join(f"{text} ({_quoted(g, 2)})" if g else text for text, g in glosses)
        out.append(
            LexicalFinding(
                "omission",
                tuple(run),
                None,
                tuple(g[0] for _, g in glosses if g),
                f"possible omission: nothing in the English translates {said}",
            )
        )
    return out


def _uncovered_runs(
    judged: Sequence[tuple[SourceWord, bool]], params: LexicalParams
) -> list[list[SourceWord]]:
    """Neighbouring uncovered content words (a covered one ends a run; function words and
    one-character words do not): a dropped clause leaves several, a paraphrase one."""
    kept = [(w, c) for w, c in judged if len(w.text) >= params.omission_min_chars]
    runs = _runs([w for w, _ in kept], [c or w.pos not in params.omission_pos for w, c in kept])
    return [run for run in runs if len(run) >= params.omission_min_run]


def _runs(items: Sequence[T], breaks: Sequence[bool]) -> list[list[T]]:
    """The maximal runs of neighbouring items whose `breaks` is False."""
    runs: list[list[T]] = []
    current: list[T] = []
    for item, stop in zip(items, breaks, strict=True):
        if stop:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(item)
    if current:
        runs.append(current)
    return runs


def _additions(
    target: Sequence[TargetWord], support: Coverage, lexicon: Lexicon, params: LexicalParams
) -> list[LexicalFinding]:
    """Runs of neighbouring target content words that nothing in the source supports (an
    added clause leaves several; a free rendering one), and single words rarer than
    `addition_max_zipf` that nothing supports."""
    content = [w for w in target if is_content_english(w.text) and w.text.isalpha()]
    # A capitalised word breaks a run too: names are the name check's.
    runs = _runs(content, [w.capitalised or supported(w, support, lexicon) for w in content])
    found = [
        run
        for run in runs
        if len(run) >= params.addition_min_run
        or any(zipf_frequency(w.text.lower()) <= params.addition_max_zipf for w in run)
    ]
    found.sort(key=lambda run: (-len(run), min(zipf_frequency(w.text.lower()) for w in run)))
    out = []
    for run in sorted(found[: params.max_additions], key=lambda run: run[0].start):
        said = _quoted([w.text for w in run], 4)
        out.append(
            LexicalFinding(
                "addition",
                (),
                (run[0].start, run[-1].end),
                (),
                f"possible addition: no word of the source means {said}",
            )
        )
    return out


def _name_findings(
    names: Sequence[SourceName],
    target: Sequence[TargetWord],
    whole: Sequence[TargetWord],
    support: Coverage,
    source: str,
    lexicon: Lexicon,
    params: LexicalParams,
) -> list[LexicalFinding]:
    """Sure names the target does not write, pointing at the capitalised phrase most like
    them among the words that nothing else in the source accounts for (not "President" for
    主席, not "Beijing" for 北京)."""
    unmatched = []
    said = Coverage(whole, lexicon)
    for name in names:
        if not name.person and any(said.covers(g) for g in lexicon.gloss_stems(name.text[-1])):
            continue  # a place or body rendered by its head: 大桥 "bridge", 陕北 "northern"
        loose = params.name_loose if name.foreign or not name.sure else 1.0
        if not writes(name.forms, whole, loose, name.person):
            unmatched.append(name)
    matched = [n for n in names if n not in unmatched]
    usable = {
        k
        for k, w in enumerate(target)
        if w.capitalised
        and w.text.lower().rstrip(".") not in TITLES | STOPWORDS
        and not support.covers(frozenset({w.stem}))
        and not any(writes(n.forms, [w]) for n in matched)
    }
    out: list[LexicalFinding] = []
    taken: set[int] = set()
    for name in unmatched:
        if not name.sure:
            continue
        score, where = best_match(name.forms, target, usable)
        expected = f"{NAME_MESSAGE}: {name.text} is usually written “{name.forms[0]}”"
        if where is None or score < params.name_near:  # another name the dictionary knows
            where = _other_name(target, usable, source, lexicon)
        if where is not None and where[0] not in taken:
            first, last = target[where[0]], target[where[1]]
            taken.add(where[0])
            out.append(
                LexicalFinding("name", name.words, (first.start, last.end), name.forms, expected)
            )
        elif params.names_absent:
            message = f"{expected}, and the English does not write it"
            out.append(LexicalFinding("name", name.words, None, name.forms, message))
    return out


def _other_name(
    target: Sequence[TargetWord], usable: set[int], source: str, lexicon: Lexicon
) -> tuple[int, int] | None:
    """The longest run of usable capitalised target words that CEDICT gives to a headword the
    source does not have ("Hu Jintao" where the source has 习近平), as a word range."""
    best: tuple[int, int] | None = None
    for i in sorted(usable):
        for j in range(i + 1, min(len(target), i + 4)):
            if j not in usable:
                break
            text = " ".join(w.text for w in target[i : j + 1])
            heads = lexicon.named(text)
            if heads and not any(h in source for h in heads):
                if best is None or j - i > best[1] - best[0]:
                    best = (i, j)
    return best


def lexical_findings(
    source: str,
    target: str,
    params: LexicalParams | None = None,
    *,
    context: str | None = None,
) -> list[LexicalFinding]:
    """The dictionary's findings on one sentence pair (none unless the source is Chinese):
    names, then omissions, then additions. Deterministic.

    `context`: the whole translation of `source` where `target` is only part of it (a source
    sentence split over two target sentences): what the source says is looked for there,
    and only `target`'s own words are pointed at.
    """
    params = params or LexicalParams()
    if not source.strip() or not target.strip() or detect_script(source) != "zh":
        return []
    lexicon = load_lexicon()
    read = _read_source(source)
    tgt = target_words(target, lexicon)
    whole = tgt if context is None else target_words(context, lexicon)
    support = read.support_besides_names
    out = _name_findings(read.names, tgt, whole, support, source, lexicon, params)
    out += _omissions(read.words, read.names, Coverage(whole, lexicon), lexicon, params)
    out += _additions(tgt, read.support, lexicon, params)
    return out


@dataclass(frozen=True)
class _Reading:
    """What the checks need from one source sentence (read once: MQM repeats each source
    for every system)."""

    words: tuple[SourceWord, ...]
    names: tuple[SourceName, ...]
    support: Coverage  # every stem a source word or character allows
    support_besides_names: Coverage  # the same from the words outside its names


@lru_cache(maxsize=4096)
def _read_source(source: str) -> _Reading:
    lexicon = load_lexicon()
    words = segment_source(source)
    names = tuple(source_names(words, lexicon))
    in_names = {(w.start, w.end) for n in names for w in n.words}
    others = [w for w in words if (w.start, w.end) not in in_names]
    return _Reading(words, names, support(source, words, lexicon), support("", others, lexicon))


def dictionary_spans(
    source: str,
    target: str,
    offset: int = 0,
    params: LexicalParams | None = None,
    *,
    context: str | None = None,
    omissions: bool = True,
) -> list[Span]:
    """`lexical_findings` as minor spans on the target (document offsets: `offset` added);
    `omissions` False leaves those out (shown once per split sentence, on its first part)."""
    found = lexical_findings(source, target, params, context=context)
    return [f.to_span(target, offset) for f in found if omissions or f.kind != "omission"]
