"""Train the learned word-level detector on annotated evidence, and cross-fit it.

The detector's inputs are kept per word in the evidence (`Evidence.word_feats`, `word_hidden`),
so training is a scikit-learn fit over arrays: two HistGradientBoosting heads (P(any error),
P(Major)) over the word features plus a PCA of the hidden states, exported to the plain arrays
`scoring.detector` reads. `cross_fit` gives every training row probabilities from a detector
that never saw its source document, which is what the sentence combiner must be fitted on: the
shipped detector has seen the train rows, so its probabilities there are too good to learn from.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import atomic_write
from ..scoring import Scorer
from ..scoring.detector import HEADS, Detector, trees_from
from .evidence import (
    Evidence,
    attach_probabilities,
    detector_inputs,
    document_folds,
    evidence_cache,
)


@dataclass(frozen=True)
class DetectorSettings:
    """The knobs of a fit (the defaults are the shipped artefact's)."""

    pca: int = 32
    trees: int = 200
    learning_rate: float = 0.15
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    max_depth: int = 8
    l2: float = 1.0
    seed: int = 13


def word_table(evidence: list[Evidence]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word features, hidden states (float32), any-error and Major labels of every word."""
    rows, feats, hidden = detector_inputs(evidence)
    labels = [e.word_labels() for e in rows]
    return (
        feats.astype(np.float64),
        hidden,
        np.concatenate([y[0] for y in labels]),
        np.concatenate([y[1] for y in labels]),
    )


def export_trees(clf: Any) -> dict[str, np.ndarray]:
    """A fitted binary HistGradientBoostingClassifier as padded node arrays (`Trees`)."""
    predictors = [p[0] for p in clf._predictors]
    size, count = max(len(p.nodes) for p in predictors), len(predictors)
    arrays: dict[str, np.ndarray] = {
        "feature": np.zeros((count, size), np.int32),
        "threshold": np.zeros((count, size), np.float64),
        "left": np.zeros((count, size), np.int32),
        "right": np.zeros((count, size), np.int32),
        "leaf": np.ones((count, size), bool),
        "value": np.zeros((count, size), np.float64),
    }
    depth = 0
    for i, predictor in enumerate(predictors):
        nodes = predictor.nodes
        n = len(nodes)
        arrays["feature"][i, :n] = nodes["feature_idx"]
        arrays["threshold"][i, :n] = nodes["num_threshold"]
        arrays["left"][i, :n] = nodes["left"]
        arrays["right"][i, :n] = nodes["right"]
        arrays["leaf"][i, :n] = nodes["is_leaf"].astype(bool)
        arrays["value"][i, :n] = nodes["value"]
        depth = max(depth, int(nodes["depth"].max()))
    arrays["baseline"] = np.array([float(np.ravel(clf._baseline_prediction)[0])])
    arrays["depth"] = np.array([depth])
    return arrays


def boosted_trees(settings: DetectorSettings) -> Any:
    """An unfitted head: scikit-learn's HistGradientBoostingClassifier with `settings`."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=settings.trees,
        learning_rate=settings.learning_rate,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        max_depth=settings.max_depth,
        l2_regularization=settings.l2,
        early_stopping=False,
        random_state=settings.seed,
    )


def fit_detector(
    evidence: list[Evidence],
    settings: DetectorSettings = DetectorSettings(),
    thresholds: dict[str, float] | None = None,
) -> tuple[Detector, dict[str, np.ndarray]]:
    """A detector trained on every word of `evidence`, and its arrays (for `detector.npz`)."""
    feats, hidden, y_any, y_major = word_table(evidence)
    mean = hidden.mean(0).astype(np.float64)
    rng = np.random.default_rng(settings.seed)
    sample = hidden[rng.choice(len(hidden), min(len(hidden), 50_000), replace=False)] - mean
    components = np.linalg.svd(sample, full_matrices=False)[2][: settings.pca]
    design = np.hstack([feats, (hidden - mean) @ components.T])
    flat: dict[str, np.ndarray] = {"pca_mean": mean, "pca_components": components}
    heads = {}
    for head, labels in zip(HEADS, (y_any, y_major), strict=True):
        clf = boosted_trees(settings).fit(design, labels)
        arrays = export_trees(clf)
        heads[head] = trees_from(arrays)
        flat |= {f"{head}.{k}": v for k, v in arrays.items()}
    meta = {
        "thresholds": thresholds or {"any": 0.2, "major": 0.1},
        "train_words": int(len(design)),
        "positive": {"any": float(y_any.mean()), "major": float(y_major.mean())},
    }
    return Detector(mean, components, heads, meta), flat


def both_classes(evidence: list[Evidence]) -> bool:
    """Whether both heads have positive and negative words to learn from."""
    labels = [e.word_labels() for e in evidence if e.word_feats is not None]
    return all(len({int(v) for y in labels for v in y[head]}) == 2 for head in range(2))


def cached_cross_fit(scorer: Scorer, path: str | Path, evidence: list[Evidence]) -> None:
    """`cross_fit` of the evidence `cached_extract` read from `path`, cached beside it (keyed by
    the detector settings too)."""
    settings = DetectorSettings()
    key = hashlib.sha256(repr(settings).encode()).hexdigest()[:8]
    cache = evidence_cache(scorer, path, "document", 1.0).with_suffix(f".crossfit-{key}.pkl")
    if cache.exists():
        with cache.open("rb") as handle:
            probabilities: list[tuple[np.ndarray | None, np.ndarray | None]] = pickle.load(handle)
        if len(probabilities) == len(evidence):
            for e, (p_any, p_major) in zip(evidence, probabilities, strict=True):
                e.p_any, e.p_major = p_any, p_major
            return
    cross_fit(evidence, settings=settings)
    atomic_write(cache, pickle.dumps([(e.p_any, e.p_major) for e in evidence]))


def cross_fit(
    evidence: list[Evidence], folds: int = 5, settings: DetectorSettings = DetectorSettings()
) -> None:
    """Set every row's `p_any`/`p_major` from a detector trained on the other folds (folds split
    by source document, so no translation of a document is judged by a detector that read it)."""
    folds_of = document_folds(evidence, folds, settings.seed)
    for k in range(folds):
        held = [e for e, f in zip(evidence, folds_of, strict=True) if f == k]
        rest = [e for e, f in zip(evidence, folds_of, strict=True) if f != k]
        if not held or not both_classes(rest):
            continue  # a tiny corpus: these rows keep the shipped detector's probabilities
        detector, _ = fit_detector(rest, settings)
        attach_probabilities(held, detector)
