"""Source-aware features for the calibrated combiner (names start with `src_`): encoder cosine,
length against what the source predicts, number mismatches, untranslated text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..checks import check_numbers, check_untranslated, length_z, missing_source_numbers
from ..core.language import source_language
from ..core.segment import Segment
from ..core.timing import timed
from .encoder import EmbedFn, pair_cosines
from .pairing import SourcePair

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
        cosine = float(pair_cosines([source], [whole])[0])
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


@timed("source")
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
    cosines = pair_cosines([sources[i] for i in have], [targets[i] for i in have], embed_fn)
    cosine_of = dict(zip(have, cosines.tolist(), strict=True))
    out = np.zeros((len(rows), len(SOURCE_FEATURES)), dtype=np.float64)
    for i, (source, target) in enumerate(zip(sources, targets, strict=True)):
        if i in cosine_of:
            feats = source_features(source, target, None, cosine_of[i])
            out[i] = [feats[name] for name in SOURCE_FEATURES]
    return out
