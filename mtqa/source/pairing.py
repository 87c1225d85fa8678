"""Pair target sentences with their source: by aligning the two documents (`pair_document`)
or as given (batch rows, `given_pairs`); sentence-level findings from the pairing
(`source_spans`): the QA checks run with the source, additions and omissions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import run_checks
from ..core.language import source_language
from ..core.result import Span
from ..core.segment import Segment
from ..core.timing import timed
from .align import align_sentences, join_sentences
from .encoder import EmbedFn, embed, memo_embed, pair_cosines
from .lexical import dictionary_spans
from .split import split_source

_QUOTE_LIMIT = 300


@dataclass
class SourcePair:
    """The source counterpart of one target sentence.

    `kind`: "1-1", "2-1" (two source sentences joined into `source`), "1-2" (the source sentence
    was split across two target sentences; `bead_target` then holds both joined), "0-1" (no
    source: a possible addition; `source` is None), "given" (batch pairing) or "none" (a batch
    row without a source).
    """

    index: int  # target segment index
    source: str | None
    similarity: float  # encoder cosine of `source` and the target (of the whole bead for 1-2)
    kind: str
    source_indices: tuple[int, ...] = ()  # indices into the split source (document pairing)
    bead_target: str | None = None  # all target sentences of a 1-2 bead, joined

    @property
    def is_addition(self) -> bool:
        return self.kind == "0-1"


@dataclass
class OmittedSentence:
    """A source sentence that nothing in the target translates (a possible omission)."""

    source_index: int  # index into the split source
    start: int  # character offsets into the source document
    end: int
    text: str
    near: int  # target segment index the finding is shown on (-1: the target has no sentences)


@timed("source")
def pair_document(
    source_text: str,
    target_segments: Sequence[Segment],
    lang: str | None = None,
    embed_fn: EmbedFn | None = None,
) -> tuple[list[SourcePair], list[OmittedSentence]]:
    """Align a source document with the target's sentences.

    Returns one `SourcePair` per target segment (in order) and the source sentences left
    unaligned. `lang` is the source language (guessed from the script when None); `embed_fn`
    replaces the multilingual encoder (tests).
    """
    lang = source_language(source_text, lang)
    sents = split_source(source_text, lang)
    targets = [seg.text for seg in target_segments]
    encode = memo_embed(embed_fn or embed)
    beads = align_sentences([s for _, _, s in sents], targets, embed=encode)
    pairs: dict[int, SourcePair] = {}
    omitted_beads: list[tuple[int, int]] = []  # (bead number, source index)
    for number, bead in enumerate(beads):
        if bead.is_omission:
            omitted_beads += [(number, i) for i in bead.source_indices]
            continue
        if bead.is_addition:
            for j in bead.target_indices:
                pairs[j] = SourcePair(j, None, 0.0, "0-1")
            continue
        source = join_sentences([sents[i][2] for i in bead.source_indices])
        joined = join_sentences([targets[j] for j in bead.target_indices])
        for j in bead.target_indices:
            pairs[j] = SourcePair(
                index=j,
                source=source,
                similarity=round(float(bead.similarity), 6),
                kind=bead.kind,
                source_indices=tuple(bead.source_indices),
                bead_target=joined if len(bead.target_indices) > 1 else None,
            )
    omitted = []
    for number, i in omitted_beads:
        start, end, text = sents[i]
        near = _nearest_target(beads, number, text, targets, encode)
        omitted.append(OmittedSentence(i, start, end, text, near))
    return [pairs[j] for j in range(len(targets))], omitted


def _nearest_target(
    beads: Sequence[Any], number: int, text: str, targets: list[str], encode: EmbedFn
) -> int:
    """The target sentence just before or just after an omitted source sentence, whichever the
    encoder finds closer to it (before on a tie): where a reviewer would look for it."""
    before = next(
        (b.target_indices[-1] for b in reversed(beads[:number]) if b.target_indices), None
    )
    after = next((b.target_indices[0] for b in beads[number + 1 :] if b.target_indices), None)
    candidates = [j for j in (before, after) if j is not None]
    if not candidates:
        return -1
    if len(candidates) == 1:
        return candidates[0]
    vectors = encode([text] + [targets[j] for j in candidates])
    cosines = vectors[1:] @ vectors[0]
    return candidates[int(np.argmax(cosines))]


@timed("source")
def given_pairs(
    sources: Sequence[str | None],
    target_segments: Sequence[Segment],
    embed_fn: EmbedFn | None = None,
) -> list[SourcePair]:
    """Pairs for batch input, where each target row comes with its own source (or None)."""
    if len(sources) != len(target_segments):
        raise ValueError(f"{len(sources)} sources for {len(target_segments)} target segments")
    have = [i for i, s in enumerate(sources) if s and s.strip()]
    cosines = pair_cosines(
        [str(sources[i]) for i in have], [target_segments[i].text for i in have], embed_fn
    )
    similarity = dict(zip(have, cosines.tolist(), strict=True))
    return [
        SourcePair(i, sources[i], round(similarity[i], 6), "given")
        if i in similarity
        else SourcePair(i, None, 0.0, "none")
        for i in range(len(target_segments))
    ]


def _whole_sentence(seg: Segment) -> tuple[int, int, str]:
    lead = len(seg.text) - len(seg.text.lstrip())
    text = seg.text.strip()
    return seg.start + lead, seg.start + lead + len(text), text


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1].rstrip() + "…"


@timed("source")
def source_spans(
    target_segments: Sequence[Segment],
    pairs: Sequence[SourcePair],
    omitted: Sequence[OmittedSentence] = (),
    lang: str | None = None,
) -> list[list[Span]]:
    """Spans for each target segment (in document offsets), sorted by position.

    Per segment: every deterministic check run with its source (this REPLACES the target-only
    `run_checks(seg.text, offset=seg.start, quotes=False)` call: the target-side checks are
    included; quotes stay per paragraph), for a Chinese source the dictionary's minor checks
    (`lexical.dictionary_spans`: names, missing and added words), an "addition" span on a
    sentence with no source, and an "omission" span on the sentence nearest to each omitted
    source sentence, quoting it.
    """
    if len(pairs) != len(target_segments):
        raise ValueError(f"{len(pairs)} pairs for {len(target_segments)} target segments")
    out: list[list[Span]] = []
    for seg, pair in zip(target_segments, pairs, strict=True):
        source = pair.source if pair.source and pair.source.strip() else None
        spans = run_checks(seg.text, source, lang, seg.start, quotes=False)
        if source is not None and source_language(source, lang) == "zh":
            split = pair.bead_target
            first = split is None or split.startswith(seg.text.strip())
            spans += dictionary_spans(source, seg.text, seg.start, context=split, omissions=first)
        if pair.bead_target is not None:
            # Half of a split source sentence is naturally "too short": judge length on the bead.
            spans = [s for s in spans if s.reason != "length"]
        if pair.is_addition:
            start, end, text = _whole_sentence(seg)
            if text:
                spans.append(
                    Span(
                        start,
                        end,
                        text,
                        "major",
                        "addition",
                        "Nothing in the source corresponds to this sentence: possible addition.",
                    )
                )
        out.append(spans)
    for gap in omitted:
        if not 0 <= gap.near < len(target_segments):
            continue
        start, end, text = _whole_sentence(target_segments[gap.near])
        if not text:
            continue
        message = (
            "A source sentence next to this one has no translation (possible omission): "
            f"“{_quote(gap.text)}”"
        )
        out[gap.near].append(Span(start, end, text, "major", "omission", message))
    for spans in out:
        spans.sort(key=lambda s: (s.start, s.end))
    return out
