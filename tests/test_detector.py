"""The learned span detector: a pickle-free artefact, deterministic, spans that index the text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtqa import DocumentResult, Scorer
from mtqa.core.errors import ModelError
from mtqa.core.segment import split_sentences
from mtqa.scoring.detector import (
    DEFAULT_PATH,
    DETECTOR_ALPHA,
    load_detector,
    spans_from_probs,
    word_probabilities,
)
from mtqa.scoring.signals import words_of


def test_adjacent_words_merge_and_at_most_three_spans_best_first() -> None:
    starts = np.array([0, 4, 8, 12, 16, 20, 24, 28])
    ends = starts + 3
    p_any = np.array([0.9, 0.5, 0.0, 0.3, 0.0, 0.6, 0.0, 0.25])
    p_major = np.array([0.05, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    spans = spans_from_probs(starts, ends, p_any, p_major, 0.2, 0.1)
    assert [(s.start, s.end) for s in spans] == [(0, 7), (20, 23), (12, 15)]
    assert spans[0].severity == "major" and spans[1].severity == "minor"


def test_predictions_are_deterministic(scorer: Scorer, seed_text: str) -> None:
    segments = split_sentences(seed_text)[:6]
    tokens, _ = scorer.analyse(seed_text, segments, keep_hidden=True)
    words = words_of(seed_text, tokens, segments, DETECTOR_ALPHA)
    pairs = list(zip(words, segments, strict=True))
    first = [word_probabilities(seed_text, tokens, w, s) for w, s in pairs]
    again = [word_probabilities(seed_text, tokens, w, s) for w, s in pairs]
    for (a1, m1), (a2, m2) in zip(first, again, strict=True):
        assert np.array_equal(a1, a2) and np.array_equal(m1, m2)
        assert ((0 <= a1) & (a1 <= 1)).all() and ((0 <= m1) & (m1 <= 1)).all()


def test_default_spans_come_from_the_detector(seed_result: DocumentResult) -> None:
    flagged = seed_result.flagged
    assert flagged
    learned = [s for sent in flagged for s in sent.spans if s.probability is not None]
    assert learned, "the default config should show the detector's spans"
    for sent in flagged:
        assert len([s for s in sent.spans if s.probability is not None]) <= 3
    for span in learned:
        assert seed_result.text[span.start : span.end] == span.text
        assert 0.0 < span.probability <= 1.0 and "likely wrong" in span.message


def test_a_damaged_artefact_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "detector"
    broken.with_suffix(".npz").write_bytes(DEFAULT_PATH.with_suffix(".npz").read_bytes()[:5000])
    broken.with_suffix(".json").write_text(DEFAULT_PATH.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="missing or damaged"):
        load_detector(broken)
    with pytest.raises(ModelError, match="missing or damaged"):
        load_detector(tmp_path / "nothing")
