"""The detector over a whole document at once gives the per-segment numbers bit for bit, and
the stage timers cost nothing when off."""

from __future__ import annotations

import numpy as np

from mtqa import Scorer
from mtqa.core import timing
from mtqa.core.segment import Segment, split_sentences
from mtqa.models import TokenScores
from mtqa.scoring import join_segments
from mtqa.scoring.detector import DETECTOR_ALPHA, Trees, load_detector, word_probabilities
from mtqa.scoring.signals import words_of
from mtqa.scoring.word_batch import document_probabilities


def _same_as_per_segment(text: str, tokens: TokenScores, segments: list[Segment]) -> None:
    words = words_of(text, tokens, segments, DETECTOR_ALPHA)
    batched = document_probabilities(text, tokens, words, segments)
    assert len(batched) == len(segments)
    for (any_b, major_b), w, seg in zip(batched, words, segments, strict=True):
        any_s, major_s = word_probabilities(text, tokens, w, seg)
        assert any_b.dtype == any_s.dtype and any_b.shape == any_s.shape
        assert np.array_equal(any_b, any_s) and np.array_equal(major_b, major_s)


def test_document_probabilities_equal_the_per_segment_ones(scorer: Scorer, seed_text: str) -> None:
    segments = split_sentences(seed_text)
    tokens, _ = scorer.analyse(seed_text, segments, keep_hidden=True)
    _same_as_per_segment(seed_text, tokens, segments)


def _synthetic(text: str, seed: int) -> TokenScores:
    """Tokens of 1-4 characters over `text` (spaces lead a token), random evidence."""
    rng = np.random.default_rng(seed)
    starts, ends, pos = [], [], 0
    while pos < len(text):
        step = int(rng.integers(1, 5))
        starts.append(pos)
        ends.append(min(len(text), pos + step))
        pos += step
    n, k = len(starts), 5
    top = -np.sort(rng.exponential(3.0, (n, k)), axis=1).astype(np.float32)
    ids = rng.integers(0, 50, n)
    top_ids = rng.integers(0, 50, (n, k))
    top_ids[::3, 0] = ids[::3]  # some tokens are the favourite
    logprob = np.where(rng.random(n) < 0.1, 0.0, top[:, 0] - rng.exponential(4.0, n))
    width = load_detector().pca_mean.shape[0]
    return TokenScores(
        ids.astype(np.int64),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        logprob.astype(np.float32),
        top_ids.astype(np.int64),
        top,
        rng.standard_normal((n, width)).astype(np.float32),
    )


def test_synthetic_documents_with_empty_and_long_segments() -> None:
    lines = [
        "The the cat sat on the mat, and the mat sat on the cat.",
        "",
        "...",
        "A 1,234.5 km-long road; it's CLOSED! Really? Yes.",
        "word " * 40 + "end",
        "x",
    ]
    text = "\n".join(lines)
    segments = join_segments(lines)
    for seed in range(5):
        _same_as_per_segment(text, _synthetic(text, seed), segments)


def test_timers_are_off_by_default_and_count_exclusive_time() -> None:
    assert not timing.enabled()
    assert timing.stage("x") is timing.stage("y")  # the shared no-op
    timing.enable()
    try:
        with timing.stage("outer"), timing.stage("inner"):
            pass
        totals = timing.totals()
    finally:
        timing.enable(False)
    assert set(totals) == {"outer", "inner"} and totals["outer"][1] == 1
    assert timing.totals() == {}


def _raw_walking_every_tree_every_step(trees: Trees, x: np.ndarray) -> np.ndarray:
    """The trees as they were walked before 0.11 (every walk, every step): the reference."""
    n, t = x.shape[0], trees.feature.shape[0]
    feat, thr, lf, rt, val, off, leaf = trees._flat
    xf = np.ascontiguousarray(x, dtype=np.float64).ravel()
    base = (np.arange(n, dtype=np.int64) * x.shape[1])[:, None]
    node = np.broadcast_to(off, (n, t)).copy()
    for step in range(trees.depth):
        node = np.where(xf[base + feat[node]] <= thr[node], lf[node], rt[node])
        if step >= 3 and leaf[node].all():
            break
    return trees.baseline + val[node].sum(1)


def test_trees_walked_in_lockstep_give_the_reference_sums() -> None:
    detector = load_detector()
    rng = np.random.default_rng(1)
    width = next(iter(detector.heads.values())).feature.max() + 1
    for n in (1, 2, 7, 300):
        x = rng.standard_normal((n, int(width))) * 3
        x[rng.random(x.shape) < 0.05] = np.nan
        x[rng.random(x.shape) < 0.02] = np.inf
        x[rng.random(x.shape) < 0.02] = -np.inf
        for trees in detector.heads.values():
            for j in range(x.shape[1]):  # some values exactly on a split of their feature
                splits = trees.threshold[~trees.leaf & (trees.feature == j)]
                on_split = rng.random(n) < 0.3
                if splits.size and on_split.any():
                    x[on_split, j] = rng.choice(splits, int(on_split.sum()))
            before = trees._flat[5].copy()
            assert np.array_equal(trees.raw(x), _raw_walking_every_tree_every_step(trees, x))
            assert np.array_equal(trees._flat[5], before)  # the roots are never written
