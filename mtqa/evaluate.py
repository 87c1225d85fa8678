"""Agreement with human MQM judgements: segment correlations, flag precision, span overlap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau, pearsonr
from sklearn.metrics import roc_auc_score


@dataclass
class Judged:
    """One evaluated segment: a quality score (higher = better) and predicted error spans."""

    score: float
    flagged: bool
    spans: list[tuple[int, int]]


def kendall(scores: Sequence[float], mqm: Sequence[float]) -> float:
    """Kendall tau-b between quality scores and -MQM (higher = agrees with humans)."""
    tau = kendalltau(scores, -np.asarray(mqm, dtype=float)).statistic
    return float(tau) if np.isfinite(tau) else 0.0


def item_grouped_kendall(
    scores: Sequence[float], mqm: Sequence[float], items: Sequence[str]
) -> float:
    """Mean within-item tau: can the score order translations of the same source sentence?"""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[item].append(index)
    taus = []
    for members in groups.values():
        if len(members) < 2:
            continue
        s = [scores[i] for i in members]
        m = [mqm[i] for i in members]
        if len(set(m)) < 2 or len(set(s)) < 2:
            continue
        taus.append(kendall(s, m))
    return float(np.mean(taus)) if taus else 0.0


def pearson(scores: Sequence[float], mqm: Sequence[float]) -> float:
    if len(set(scores)) < 2:
        return 0.0
    return float(pearsonr(scores, -np.asarray(mqm, dtype=float)).statistic)


def auroc(scores: Sequence[float], major: Sequence[bool]) -> float:
    """AUROC of (1 - score) for "has a Major error"."""
    if len(set(major)) < 2:
        return float("nan")
    return float(roc_auc_score(list(major), -np.asarray(scores, dtype=float)))


def flag_precision_recall(flagged: Sequence[bool], major: Sequence[bool]) -> dict[str, float]:
    tp = sum(f and m for f, m in zip(flagged, major, strict=True))
    n_flag, n_major = sum(flagged), sum(major)
    return {
        "precision": tp / n_flag if n_flag else 0.0,
        "recall": tp / n_major if n_major else 0.0,
        "share_flagged": n_flag / len(flagged) if flagged else 0.0,
    }


def span_prf(
    predicted: Sequence[Sequence[tuple[int, int]]], gold: Sequence[Sequence[tuple[int, int]]]
) -> dict[str, float]:
    """Character-level precision/recall/F1, micro-averaged over segments."""
    tp = n_pred = n_gold = 0
    for pred_spans, gold_spans in zip(predicted, gold, strict=True):
        pred_chars = {c for start, end in pred_spans for c in range(start, end)}
        gold_chars = {c for start, end in gold_spans for c in range(start, end)}
        tp += len(pred_chars & gold_chars)
        n_pred += len(pred_chars)
        n_gold += len(gold_chars)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def segment_metrics(
    scores: Sequence[float], mqm: Sequence[float], major: Sequence[bool], items: Sequence[str]
) -> dict[str, float]:
    return {
        "kendall": kendall(scores, mqm),
        "item_kendall": item_grouped_kendall(scores, mqm, items),
        "pearson": pearson(scores, mqm),
        "auroc_major": auroc(scores, major),
    }
