"""The detector's word features and trees over a whole document at once.

`word_features.word_features` + `with_neighbours` + `Detector.predict`, segment by segment, are a
Python loop per word and a dozen small numpy calls per segment; here the same numbers come
from array operations over every word of the document, and the trees walk all its words in one
pass. Each value is computed by the same floating-point operations as the per-segment code (the
sums and means in the same order), so the probabilities are bit-identical (tests hold it).
"""

from __future__ import annotations

import math

import numpy as np

from ..core.segment import Segment
from ..core.timing import stage
from ..models import TokenScores
from .detector import DETECTOR_ALPHA, Detector, load_detector, word_probabilities
from .signals import FUNCTION_WORD_BITS, Word, with_alpha
from .word_features import BASE_FEATURES, NEIGHBOUR_FEATURES, OFFSETS, PUNCT, token_columns

COL = {name: i for i, name in enumerate(BASE_FEATURES)}
Probabilities = list[tuple[np.ndarray, np.ndarray]]


def detector_inputs(
    text: str,
    tokens: TokenScores,
    all_words: list[list[Word]],
    segments: list[Segment],
    reads: bool,
) -> tuple[list[list[Word]] | None, Probabilities]:
    """The detector's words of each segment (anomaly at `DETECTOR_ALPHA`) and their P(any
    error), P(Major error), segment by segment; (None, []) when the detector is not read."""
    if not reads:
        return None, []
    with stage("word mapping"):
        words = [with_alpha(w, DETECTOR_ALPHA) for w in all_words]
    return words, document_probabilities(text, tokens, words, segments)


def document_probabilities(
    text: str,
    tokens: TokenScores,
    words_by_segment: list[list[Word]],
    segments: list[Segment],
    detector: Detector | None = None,
) -> Probabilities:
    """`detector.word_probabilities` of every segment, computed for the document at once."""
    model = detector or load_detector()
    flat = [w for words in words_by_segment for w in words]
    last_char = tokens.ends - 1
    if not flat or np.any(last_char[1:] < last_char[:-1]):  # tokens out of order: per segment
        return [
            word_probabilities(text, tokens, words, seg, model)
            for words, seg in zip(words_by_segment, segments, strict=True)
        ]
    with stage("features"):
        first, last = _token_ranges(tokens, flat)
        counts = [len(words) for words in words_by_segment]
        base = document_features(text, tokens, words_by_segment, segments, first, last)
        feats = document_neighbours(base, counts)
        assert tokens.hidden is not None
        hidden = tokens.hidden[last]
    with stage("detector"):
        probs = model.predict(feats, hidden)
    cuts = np.cumsum(counts)[:-1]
    return list(zip(np.split(probs["any"], cuts), np.split(probs["major"], cuts), strict=True))


def _token_ranges(tokens: TokenScores, words: list[Word]) -> tuple[np.ndarray, np.ndarray]:
    """First and last token of each word: those whose last character lies inside it (tokens in
    text order, so a word's tokens are contiguous), or its `first_token` when none does."""
    last_char = tokens.ends - 1
    starts = np.array([w.start for w in words], dtype=np.int64)
    ends = np.array([w.end for w in words], dtype=np.int64)
    lo = np.searchsorted(last_char, starts, side="left")
    hi = np.searchsorted(last_char, ends, side="left")
    own = np.array([w.first_token for w in words], dtype=np.int64)
    empty = hi <= lo
    return np.where(empty, own, lo), np.where(empty, own, hi - 1)


def document_features(
    text: str,
    scores: TokenScores,
    words_by_segment: list[list[Word]],
    segments: list[Segment],
    first: np.ndarray,
    last: np.ndarray,
) -> np.ndarray:
    """`word_features.word_features` (no source) of every word of the document, stacked."""
    flat = [w for words in words_by_segment for w in words]
    n = len(flat)
    out = np.zeros((n, len(BASE_FEATURES)), dtype=np.float32)
    bits, top_bits, gap, ent, resid = token_columns(scores)
    k = scores.top_ids.shape[1]
    n_tok = len(scores)
    size = last - first + 1
    hits = scores.top_ids[first] == scores.ids[first][:, None]
    rank = np.where(hits.any(1), hits.argmax(1), k)
    log_rank = np.array([math.log1p(r) for r in range(k + 1)])
    most = bits[first].copy()
    for step in range(1, int(size.max()) if n else 1):
        most = np.maximum(most, bits[np.minimum(first + step, last)])
    mean_gap = gap[first].copy()
    for i in np.nonzero(size > 1)[0]:
        mean_gap[i] = gap[first[i] : last[i] + 1].mean()
    after = [last + 1, last + 2, last + 3]
    n_after = np.clip(n_tok - (last + 1), 0, 3)

    def following(values: np.ndarray) -> np.ndarray:
        """Sum of the (up to 3) following tokens' values, added in order as numpy sums them."""
        total = np.where(n_after >= 1, values[np.minimum(after[0], n_tok - 1)], 0.0)
        for j in (1, 2):
            more = total + values[np.minimum(after[j], n_tok - 1)]
            total = np.where(n_after > j, more, total)
        return total

    col = out.T  # a view: col[COL[name]] is that feature's column
    col[COL["surprisal"]] = [w.surprisal for w in flat]
    col[COL["first_bits"]] = bits[first]
    col[COL["max_tok_bits"]] = most
    col[COL["n_subwords"]] = size
    unigram = np.array([w.unigram for w in flat])
    col[COL["unigram"]] = unigram
    col[COL["anomaly"]] = [w.anomaly for w in flat]
    col[COL["entropy"]] = ent[first]
    col[COL["top1_bits"]] = top_bits[first]
    col[COL["gap_first"]] = gap[first]
    col[COL["log_rank"]] = log_rank[rank]
    col[COL["in_topk"]] = rank < k
    col[COL["resid_mass"]] = resid[first]
    col[COL["mean_gap"]] = mean_gap
    col[COL["next1_bits"]] = np.where(n_after > 0, bits[np.minimum(after[0], n_tok - 1)], 0.0)
    col[COL["next3_bits"]] = following(bits)
    col[COL["next3_gap"]] = following(gap)
    kinds = [w.kind for w in flat]
    for kind in ("lower", "name", "number", "initial"):
        col[COL[f"kind_{kind}"]] = [k_ == kind for k_ in kinds]
    col[COL["function_word"]] = unigram < FUNCTION_WORD_BITS
    col[COL["n_chars"]] = [len(w.text) for w in flat]
    col[COL["all_caps"]] = [w.text.isupper() and len(w.text) > 1 for w in flat]
    col[COL["has_joiner"]] = [any(c in w.text for c in "-'’.") for w in flat]
    row = 0
    for words, seg in zip(words_by_segment, segments, strict=True):
        m = len(words)
        if not m:
            continue
        part = out[row : row + m]
        _segment_columns(text, words, seg, part)
        row += m
    return out


def _segment_columns(text: str, words: list[Word], seg: Segment, part: np.ndarray) -> None:
    """The features that depend on the word's place in its segment."""
    m = len(words)
    surprisals = np.array([w.surprisal for w in words], dtype=np.float32)
    seg_mean = float(surprisals.mean())
    seg_std = float(surprisals.std()) + 1.0
    col = part.T
    col[COL["rel_pos"]] = np.arange(m) / max(1, m - 1)
    col[COL["is_last"], m - 1] = 1.0
    col[COL["punct_after"]] = [w.end < seg.end and text[w.end] in PUNCT for w in words]
    col[COL["punct_before"]] = [
        w.start - 1 >= seg.start and text[w.start - 1] in PUNCT for w in words
    ]
    col[COL["seg_log_words"]] = math.log1p(m)
    col[COL["seg_mean_surprisal"]] = seg_mean
    col[COL["surprisal_z"]] = (np.array([w.surprisal for w in words]) - seg_mean) / seg_std
    seen: set[str] = set()
    earlier, previous = np.zeros(m), np.zeros(m)
    prev_lower = None
    for i, w in enumerate(words):
        lower = w.text.lower()
        earlier[i] = lower in seen and w.unigram >= FUNCTION_WORD_BITS
        previous[i] = lower == prev_lower
        seen.add(lower)
        prev_lower = lower
    col[COL["repeat_earlier"]] = earlier
    col[COL["repeat_prev"]] = previous


def document_neighbours(base: np.ndarray, counts: list[int]) -> np.ndarray:
    """`word_features.with_neighbours` of each segment's rows of `base`, stacked."""
    n = base.shape[0]
    seg_of = np.repeat(np.arange(len(counts)), counts)
    begin = np.repeat(np.cumsum([0, *counts[:-1]]), counts)
    end = begin + np.repeat(counts, counts)
    cols = [COL[name] for name in NEIGHBOUR_FEATURES]
    sub = base[:, cols]
    parts = [base]
    for off in OFFSETS:
        src = np.arange(n) + off
        ok = (src >= begin) & (src < end)
        shifted = np.zeros_like(sub)
        shifted[ok] = sub[src[ok]]
        parts += [shifted, ok[:, None].astype(np.float32)]
    below = np.zeros((n, 3), dtype=np.float32)
    if n:
        starts = np.flatnonzero(np.asarray(counts) > 0)
        offsets = np.cumsum([0, *counts[:-1]])[starts]
        for j, name in enumerate(("surprisal", "anomaly", "gap_first")):
            column = base[:, COL[name]]
            worst = np.maximum.reduceat(column, offsets)
            position = np.searchsorted(starts, seg_of)
            below[:, j] = column - worst[position]
    parts.append(below)
    return np.hstack(parts).astype(np.float32)
