"""The editor's view of a document: what the English alone gives away, sentence by sentence.

The learned detector learned what MQM raters mark, names included; an editor without the source
needs something else. Per document this module gathers what the document itself says (its
names and how often it writes each word, the words the consistency check found in two forms,
its title lines), and per sentence it
- turns name-only model spans into `name` checks or drops them (`names.py`),
- drops a model span that covers a headline from end to end (headline grammar is not an error),
- adds the words the context makes unlikely that the detector left out ("oddity" spans:
  rarity-adjusted surprisal, as SLOR, confirmed by the detector's own probability).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.headline import headline_segments
from ..core.result import Span, Suggestion
from ..core.segment import Segment
from ..core.timing import timed
from .judge import in_place
from .messages import model_message
from .names import capitalised_mid_sentence, document_mentions, name_findings
from .signals import FUNCTION_WORD_BITS, WORD, Word

#: An oddity span: a lowercase content word this many bits more surprising than its rarity
#: explains (surprisal - 0.5 x unigram bits, the detector's own discount) ...
ODD_BITS = 8.5
#: ... that the detector also doubts (P(any error) at least this), at most this many a sentence.
ODD_PROBABILITY = 0.2
MAX_ODD_SPANS = 2
#: A model span over this share of a title line's characters judges its headline grammar.
HEADLINE_COVER = 0.6
MODEL_REASONS = ("mistranslation", "fluency")
#: A model span less likely than this is not shown (a Major-head span on an ordinary word,
#: "far from defeating": a one-in-seven guess costs the editor more than it finds).
MIN_SHOWN = 0.2
#: At most this many model spans a sentence, the likeliest: an editor reads three, not six.
MAX_MODEL_SPANS = 3


@dataclass
class DocumentView:
    """What the document says about itself, read once before its sentences are judged."""

    names: frozenset[str] = frozenset()
    mentions: Counter[str] = field(default_factory=Counter)
    variants: frozenset[str] = frozenset()
    titles: frozenset[int] = frozenset()

    @classmethod
    def read(
        cls, text: str, segments: Sequence[Segment], document_checks: Sequence[Span] = ()
    ) -> DocumentView:
        variants: set[str] = set()
        for span in document_checks:  # the words that differ between a form and the majority's
            written = {m.group() for m in WORD.finditer(span.text)}
            for fix in span.suggested:
                wanted = {m.group() for m in WORD.finditer(fix.text)}
                variants |= written ^ wanted
        return cls(
            names=capitalised_mid_sentence(text, [s.start for s in segments]),
            mentions=document_mentions(text),
            variants=frozenset(variants),
            titles=frozenset(headline_segments(text, segments)),
        )


@dataclass
class Reviewed:
    spans: list[Span]
    names_only: bool  # every model span of the sentence was a name: not flagged for it alone
    title: bool  # a headline, subhead or byline: not judged as prose

    def by_risk(self, strict: bool) -> bool:
        """May the calibrated risk flag the sentence? Not a title's; not one whose only model
        evidence is names, unless the preset is strict."""
        return not self.title and (strict or not self.names_only)


@timed("judgement")
def review_sentence(
    seg: Segment,
    spans: list[Span],
    view: DocumentView,
    oddities: Sequence[Span],
    peers: Sequence[str] = (),
) -> Reviewed:
    """One sentence's spans as an editor should see them (see the module docstring);
    `peers`: the other systems' translations of it, evidence on its names."""
    title = seg.index in view.titles
    if title:
        width = max(1, len(seg.text.strip()))
        spans = [
            s for s in spans if s.reason not in MODEL_REASONS or s.length < HEADLINE_COVER * width
        ]
    spans, had_name = name_findings(
        spans, seg.start, view.names, view.mentions, view.variants, peers
    )
    said = [s for s in spans if s.reason == "consistency"]  # says more than a name check
    spans = [s for s in spans if s.reason != "name" or not _overlaps(s, said)]
    if not title:
        spans += [s for s in oddities if not _overlaps(s, spans)]
    model = sorted(
        (s for s in spans if s.reason in MODEL_REASONS and (s.probability or 1.0) >= MIN_SHOWN),
        key=_likelier_first,
    )
    spans = [s for s in spans if s.reason not in MODEL_REASONS] + model[:MAX_MODEL_SPANS]
    names_only = had_name and not model
    return Reviewed(sorted(spans, key=lambda s: (s.start, s.end)), names_only, title)


def review_alone(
    target: str,
    spans: list[Span],
    oddities: Sequence[Span] = (),
    peers: Sequence[str] = (),
    strict: bool = False,
) -> tuple[list[Span], bool]:
    """`review_sentence` for a segment judged without its document (an MQM row, a batch
    record re-judged with its peers): the spans to show, and whether the risk may flag it."""
    view = DocumentView(
        names=capitalised_mid_sentence(target, [0]), mentions=document_mentions(target)
    )
    seen = review_sentence(Segment(0, 0, len(target), target, 0), spans, view, oddities, peers)
    return seen.spans, seen.by_risk(strict)


@timed("judgement")
def oddity_spans(
    text: str,
    words: list[Word],
    p_any: np.ndarray,
    suggest: Callable[[Word], list[Suggestion]] | None = None,
) -> list[Span]:
    """Lowercase content words the context makes unlikely (`words` with the detector's
    rarity discount, `p_any` the detector's probabilities), the most anomalous first."""
    picked = [
        i
        for i, w in enumerate(words)
        if w.kind == "lower"
        and w.unigram >= FUNCTION_WORD_BITS
        and w.anomaly >= ODD_BITS
        and p_any[i] >= ODD_PROBABILITY
    ]
    picked.sort(key=lambda i: -words[i].anomaly)
    out = []
    for i in picked[:MAX_ODD_SPANS]:
        word = words[i]
        probability = float(p_any[i])
        suggested = in_place(suggest(word), word.text, 0, len(word.text)) if suggest else []
        out.append(
            Span(
                start=word.start,
                end=word.end,
                text=text[word.start : word.end],
                severity="minor",
                reason="mistranslation",
                message=model_message(probability, True, word.text, word.surprisal, suggested),
                suggested=suggested,
                surprisal=round(word.anomaly, 3),
                probability=round(probability, 3),
            )
        )
    return out


def _likelier_first(span: Span) -> tuple[float, int]:
    return (-(span.probability or 0.0), span.start)


def _overlaps(span: Span, others: Sequence[Span]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in others)
