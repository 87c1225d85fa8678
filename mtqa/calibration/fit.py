"""Fit how signals combine, on human MQM annotations, and choose flag thresholds.

`mtqa calibrate` reads MQM-style JSONL sets (`target`, `spans` with severity, `mqm`, and `doc`/
`doc_seg_id`/`system` to rebuild documents), scores every target in its document context,
fits a logistic model of "has a Major error" on the train split (features standardised, L2,
fixed seed), picks thresholds on the dev split, and writes the result as a versioned config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..core.config import Config
from ..scoring import FEATURES, Scorer, peer_feature_names, risk
from ..scoring.detector import DETECTOR_FEATURES
from ..source import SOURCE_FEATURES
from .agreement import span_prf
from .detector_fit import cached_cross_fit
from .evidence import (
    Evidence,
    attach_peer_features,
    attach_source_features,
    cached_extract,
    document_folds,
    feature_matrix,
    features_for,
    judge_evidence,
    prepare_evidence,
)

DEFAULT_FEATURES = FEATURES + DETECTOR_FEATURES


def reads_detector(names: tuple[str, ...] | list[str]) -> bool:
    return any(name in DETECTOR_FEATURES for name in names)


@dataclass
class Fit:
    """A fitted combiner: standardisation and weights (features, then the optional head)."""

    features: list[str]
    means: list[float]
    scales: list[float]
    weights: list[float]
    intercept: float
    hidden_means: list[float] = field(default_factory=list)
    hidden_scales: list[float] = field(default_factory=list)
    hidden_weights: list[float] = field(default_factory=list)


def _design(
    evidence: list[Evidence], config: Config, names: tuple[str, ...], head: bool
) -> np.ndarray:
    x = feature_matrix(evidence, config, names)
    if head:
        dim = max(e.hidden_mean.shape[0] for e in evidence)
        hidden = [
            e.hidden_mean if e.hidden_mean.shape[0] == dim else np.zeros(dim) for e in evidence
        ]
        x = np.hstack([x, np.stack(hidden).astype(np.float64)])
    return x


def fit_logistic(
    evidence: list[Evidence],
    config: Config,
    names: tuple[str, ...],
    seed: int = 13,
    head: bool = False,
    strength: float = 1.0,
) -> Fit:
    """L2 logistic regression of "has a Major error" on standardised features (and, with
    `head`, the sentence's mean hidden state: a learned head over the language model)."""
    from sklearn.linear_model import LogisticRegression

    x = _design(evidence, config, names, head)
    y = np.array([e.major for e in evidence], dtype=int)
    means = x.mean(0)
    scales = x.std(0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=strength, max_iter=5000, random_state=seed)
    model.fit((x - means) / scales, y)
    weights = model.coef_[0]
    k = len(names)
    r = lambda v: [round(float(x), 6) for x in v]  # noqa: E731
    return Fit(
        features=list(names),
        means=r(means[:k]),
        scales=r(scales[:k]),
        weights=r(weights[:k]),
        intercept=round(float(model.intercept_[0]), 6),
        hidden_means=r(means[k:]),
        hidden_scales=r(scales[k:]),
        hidden_weights=r(weights[k:]),
    )


def predict(fit: Fit, evidence: list[Evidence], config: Config) -> np.ndarray:
    """Logits of the fitted model on evidence rows."""
    head = bool(fit.hidden_weights)
    x = _design(evidence, config, tuple(fit.features), head)
    means = np.array(fit.means + fit.hidden_means)
    scales = np.array(fit.scales + fit.hidden_scales)
    weights = np.array(fit.weights + fit.hidden_weights)
    return np.asarray(((x - means) / scales) @ weights + fit.intercept)


def apply_fit(config: Config, fit: Fit) -> Config:
    return replace(
        config,
        features=fit.features,
        means=fit.means,
        scales=fit.scales,
        weights=fit.weights,
        intercept=fit.intercept,
        hidden_means=fit.hidden_means,
        hidden_scales=fit.hidden_scales,
        hidden_weights=fit.hidden_weights,
    )


ALPHAS = (0.0, 0.15, 0.3, 0.5, 0.75)


PRECISION_TARGETS = {"strict": 0.6, "standard": 0.7, "lenient": 0.8}


def cv_auroc(
    evidence: list[Evidence],
    config: Config,
    names: tuple[str, ...],
    seed: int,
    head: bool = False,
    strength: float = 1.0,
) -> float:
    """5-fold cross-validated AUROC on the training rows, folds split by source document."""
    from sklearn.metrics import roc_auc_score

    folds = document_folds(evidence, 5, seed)
    logits = np.zeros(len(evidence))
    for k in range(5):
        test_idx = np.where(folds == k)[0]
        train = [e for e, f in zip(evidence, folds, strict=True) if f != k]
        if test_idx.size == 0 or len({e.major for e in train}) < 2:
            continue  # a tiny corpus can leave a fold empty or one-sided
        fit = fit_logistic(train, config, names, seed, head, strength)
        logits[test_idx] = predict(fit, [evidence[i] for i in test_idx], config)
    return float(roc_auc_score([e.major for e in evidence], logits))


def choose_thresholds(risks: np.ndarray, major: np.ndarray) -> dict[str, float]:
    """Per preset, the lowest risk threshold whose dev precision for Major errors reaches the
    preset's target; where none does, the most precise threshold flagging >= 5% of rows."""
    order = np.argsort(-risks)
    sorted_risk, hits = risks[order], major[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    min_count = max(1, int(0.05 * len(hits)))
    out = {}
    for preset, target in PRECISION_TARGETS.items():
        ok = np.where(precision[min_count - 1 :] >= target)[0]
        if ok.size:
            cut = ok.max() + min_count - 1
        else:
            cut = int(np.argmax(precision[min_count - 1 :])) + min_count - 1
        out[preset] = round(float(sorted_risk[cut]), 6)
    return out


SPAN_THRESHOLDS = (4.0, 6.0, 8.0, 10.0, 12.0)


def choose_span_threshold(
    evidence: list[Evidence], config: Config, seed: int, rows: int = 2500
) -> tuple[float, dict[str, float]]:
    """The most precise (highest) word-anomaly threshold whose Major-span F1 on a train sample
    is at least that of marking every whole segment; else the best F1. Neighbouring words join
    a span at half the threshold."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(evidence), size=min(rows, len(evidence)), replace=False)
    sample = [evidence[i] for i in sorted(picked)]
    gold = [[(s["start"], s["end"]) for s in e.spans if s["severity"] == "Major"] for e in sample]
    baseline = span_prf([[(0, len(e.target))] for e in sample], gold)["f1"]
    standard = config.threshold("standard")
    grid = {}
    for value in SPAN_THRESHOLDS:
        cfg = replace(config, anomaly_threshold=value, phrase_threshold=value / 2)
        predicted = [judge_evidence(e, cfg, standard)[2] for e in sample]
        grid[str(value)] = round(span_prf(predicted, gold)["f1"], 4)
    beating = [float(v) for v, f1 in grid.items() if f1 >= baseline]
    best = max(beating) if beating else float(max(grid, key=lambda v: grid[v]))
    grid["whole_segment_baseline"] = round(baseline, 4)
    return best, grid


def calibrate(
    scorer: Scorer,
    train_path: str | Path,
    dev_path: str | Path,
    names: tuple[str, ...] = DEFAULT_FEATURES,
    seed: int = 13,
    log: Callable[[str], None] = print,
    with_source: bool = False,
) -> Config:
    """The whole procedure: evidence, alpha by CV on train, fit on train, thresholds on dev.

    `with_source` adds the source-aware `src_` features (the "source" config, used when a
    source is given)."""
    log("scoring train split (cached after the first run)…")
    train = cached_extract(scorer, train_path)
    if reads_detector(names):
        log("cross-fitting the span detector on train (cached after the first run)…")
        cached_cross_fit(scorer, train_path, train)
    log("scoring dev split…")
    dev = cached_extract(scorer, dev_path)
    if with_source:
        log("reading the sources (multilingual encoder, cached)…")
        attach_source_features(train, train_path)
        attach_source_features(dev, dev_path)
        names = tuple(names) + SOURCE_FEATURES
    base = scorer.config
    cv = {a: cv_auroc(train, replace(base, alpha=a), names, seed) for a in ALPHAS}
    for a, auc in cv.items():
        log(f"alpha {a:.2f}: train 5-fold AUROC {auc:.4f}")
    alpha = max(cv, key=lambda a: cv[a])
    config = apply_fit(
        replace(base, alpha=alpha), fit_logistic(train, replace(base, alpha=alpha), names, seed)
    )
    dev_risk = np.array([risk(features_for(e, config), config) for e in dev])
    thresholds = choose_thresholds(dev_risk, np.array([e.major for e in dev]))
    config = replace(config, thresholds=thresholds, major_risk=thresholds["lenient"])
    span_grid: dict[str, float] = {}
    span_threshold = config.anomaly_threshold
    if config.span_model != "detector":  # the detector's spans have their own thresholds
        span_threshold, span_grid = choose_span_threshold(train, config, seed)
        log(f"span threshold {span_threshold} bits (train span F1 by threshold: {span_grid})")
    return replace(
        config,
        name="source" if with_source else config.name,
        anomaly_threshold=span_threshold,
        phrase_threshold=span_threshold / 2,
        calibration={
            "method": "L2 logistic regression (C=1) of 'has a Major error' on standardised "
            "features (det_: the span detector's, cross-fitted in 5 document folds on train); "
            "alpha by 5-fold document-split CV AUROC on train; thresholds on dev "
            "as the lowest risk reaching the preset's precision for Major errors",
            "precision_targets": PRECISION_TARGETS,
            "train": {"file": Path(train_path).name, "rows": len(train)},
            "dev": {"file": Path(dev_path).name, "rows": len(dev)},
            "seed": seed,
            "cv_auroc_by_alpha": {str(a): round(v, 4) for a, v in cv.items()},
            "span_f1_by_threshold": span_grid,
            "model": scorer.lm.name,
            "model_hash": scorer.lm.file_hash,
        },
    )


def calibrate_peers(
    scorer: Scorer,
    train_path: str | Path,
    dev_path: str | Path,
    seed: int = 13,
    log: Callable[[str], None] = print,
) -> Config:
    """Fit the peer-aware companion (`<base>-peers`) of the scorer's calibrated config: the
    base features plus `rel_`/`peer_` features, fitted on train, thresholds on dev."""
    base = scorer.config
    splits = []
    for label, path in (("train", train_path), ("dev", dev_path)):
        log(f"scoring the {label} split (cached after the first run)…")
        evidence = cached_extract(scorer, path)
        if label == "train" and reads_detector(base.features):
            cached_cross_fit(scorer, path, evidence)
        evidence = prepare_evidence(base, evidence, path)
        log(f"comparing each {label} translation with its peers…")
        splits.append(attach_peer_features(evidence, base))
    train, dev = splits
    names = tuple(base.features) + peer_feature_names(base.features)
    config = apply_fit(
        replace(base, name=f"{base.name}-peers"), fit_logistic(train, base, names, seed)
    )
    dev_risk = np.array([risk(features_for(e, config), config) for e in dev])
    thresholds = choose_thresholds(dev_risk, np.array([e.major for e in dev]))
    return replace(
        config,
        thresholds=thresholds,
        major_risk=thresholds["lenient"],
        calibration={
            "method": f"the '{base.name}' config's features plus each feature minus its item's "
            "mean (rel_) and agreement with the other systems' translations (peer_); "
            "L2 logistic regression (C=1) of 'has a Major error' on train; thresholds on dev "
            "as the lowest risk reaching the preset's precision for Major errors",
            "base": base.name,
            "base_hash": base.digest(),
            "precision_targets": PRECISION_TARGETS,
            "train": {"file": Path(train_path).name, "rows": len(train)},
            "dev": {"file": Path(dev_path).name, "rows": len(dev)},
            "seed": seed,
            "model": scorer.lm.name,
            "model_hash": scorer.lm.file_hash,
        },
    )
