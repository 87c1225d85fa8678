"""The learned span detector: a pickle-free artefact, deterministic, spans that index the text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mtqa import DocumentResult, Scorer
from mtqa.calibration.detector_fit import DetectorSettings, cross_fit, fit_detector, word_table
from mtqa.calibration.evidence import Evidence, attach_probabilities, extract
from mtqa.calibration.mqm import load_rows, mqm_documents
from mtqa.core.errors import ModelError
from mtqa.core.segment import split_sentences
from mtqa.scoring import join_segments
from mtqa.scoring.detector import (
    DEFAULT_PATH,
    DETECTOR_ALPHA,
    detector_features,
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
        assert 0.0 < span.probability <= 1.0
        assert span.message.startswith("likely " if span.probability >= 0.5 else "possible ")
        assert "is unusual here" in span.message or "reviewers often mark" in span.message


def test_a_damaged_artefact_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "detector"
    broken.with_suffix(".npz").write_bytes(DEFAULT_PATH.with_suffix(".npz").read_bytes()[:5000])
    broken.with_suffix(".json").write_text(DEFAULT_PATH.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="missing or damaged"):
        load_detector(broken)
    with pytest.raises(ModelError, match="missing or damaged"):
        load_detector(tmp_path / "nothing")


SAMPLE = Path(__file__).parent / "data" / "mqm_small.jsonl"


@pytest.fixture(scope="module")
def sample_evidence(scorer: Scorer) -> list[Evidence]:
    evidence = extract(scorer, load_rows(SAMPLE))
    attach_probabilities(evidence, load_detector())
    return evidence


def test_training_from_a_tiny_fixture_is_deterministic(sample_evidence: list[Evidence]) -> None:
    settings = DetectorSettings(pca=4, trees=15, min_samples_leaf=10)
    first, arrays = fit_detector(sample_evidence, settings)
    again, arrays_again = fit_detector(sample_evidence, settings)
    assert arrays.keys() == arrays_again.keys()
    assert all(np.array_equal(arrays[k], arrays_again[k]) for k in arrays)
    feats, hidden, y_any, _ = word_table(sample_evidence)
    p = first.predict(feats, hidden)
    assert np.array_equal(p["any"], again.predict(feats, hidden)["any"])
    assert ((0 < p["any"]) & (p["any"] < 1)).all()
    # It learned something from its own words: errors score higher than the rest.
    assert p["any"][y_any == 1].mean() > p["any"][y_any == 0].mean()


def test_evidence_probabilities_are_those_of_scoring(
    scorer: Scorer, sample_evidence: list[Evidence]
) -> None:
    """Calibration measures the probabilities `mtqa score` computes. The evidence keeps hidden
    states as float16 (a third of train's cache), so a word near a tree's split can move a
    little; on average they agree to rounding."""
    rows = load_rows(SAMPLE)
    by_id = {e.row_id: e for e in sample_evidence}
    differences = []
    for group in list(mqm_documents(rows))[:3]:
        targets = [str(r["target"]) for r in group]
        segments = join_segments(targets)
        text = "\n".join(targets)
        tokens, _ = scorer.analyse(text, segments, keep_hidden=True)
        words = words_of(text, tokens, segments, DETECTOR_ALPHA)
        for row, seg, seg_words in zip(group, segments, words, strict=True):
            p_any, p_major = word_probabilities(text, tokens, seg_words, seg)
            e = by_id[str(row["id"])]
            assert e.p_any is not None and e.p_major is not None
            differences += [np.abs(p_any - e.p_any), np.abs(p_major - e.p_major)]
    both = np.concatenate(differences)
    assert both.size > 50
    assert both.max() < 0.05 and both.mean() < 1e-3


def test_cross_fit_never_judges_a_row_with_a_detector_that_read_its_document(
    sample_evidence: list[Evidence], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtqa.calibration import detector_fit

    seen: list[set[str]] = []
    real = detector_fit.fit_detector

    def recording(evidence: list[Evidence], settings: DetectorSettings) -> tuple:
        seen.append({e.item.split("|")[1] for e in evidence})
        return real(evidence, DetectorSettings(pca=4, trees=5, min_samples_leaf=10))

    rows = [replace(e) for e in sample_evidence]
    before = [e.p_any.copy() for e in rows if e.p_any is not None]
    monkeypatch.setattr(detector_fit, "fit_detector", recording)
    cross_fit(rows, folds=2)  # the fixture has two source documents
    assert len(seen) == 2
    docs = {e.item.split("|")[1] for e in rows}
    assert all(0 < len(trained) < len(docs) for trained in seen)
    assert set().union(*(docs - trained for trained in seen)) == docs  # each doc held out once
    after = [e.p_any for e in rows if e.p_any is not None]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_expected_penalty_weighs_major_five_and_minor_one() -> None:
    features = detector_features(np.array([0.5, 1.0, 0.0]), np.array([0.5, 0.0, 0.0]))
    assert features["det_penalty"] == pytest.approx(5 * 0.5 + 1.0)
    assert features["det_max_any"] == 1.0 and features["det_max_major"] == 0.5
    assert detector_features(np.zeros(0), np.zeros(0))["det_penalty"] == 0.0
