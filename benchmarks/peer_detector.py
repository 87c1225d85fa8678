"""The peer-aware span detector: does knowing what the other systems wrote tell which words a
reviewer marks? Fit on MQM train, thresholds chosen on dev, measured on dev.

A second stage over the target-only detector: per word, its P(any)/P(Major) (cross-fitted on
train, so the stage does not learn to trust probabilities of words the detector was trained
on) plus its support among the other translations of the same sentence
(`mtqa.scoring.peer_support`). Compared on the same dev rows (items with at least three
translations) with what `--peers` shows today: the detector's spans plus the unsupported
content words.
Run: `.venv/bin/python benchmarks/peer_detector.py [--out PATH]`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from common import MQM, write_result
from spans import evaluate
from train_detector import ANY_GRID, MAJOR_GRID

from mtqa.calibration.detector_fit import (
    DetectorSettings,
    boosted_trees,
    cached_cross_fit,
    export_trees,
)
from mtqa.calibration.evidence import Evidence, cached_extract
from mtqa.scoring import Scorer, peer_spans, peer_words
from mtqa.scoring.detector import learned_spans, spans_from_probs
from mtqa.scoring.peer_support import (
    PEER_DETECTOR_PATH,
    PEER_WORD_FEATURES,
    load_peer_detector,
    peer_aware_spans,
    peer_word_features,
)
from mtqa.scoring.peers import MIN_CANDIDATES

Spans = list[tuple[int, int]]


def with_peers(evidence: list[Evidence]) -> list[tuple[Evidence, list[str]]]:
    """Rows whose item has at least MIN_CANDIDATES translations, with their peers' targets."""
    groups: dict[str, list[Evidence]] = defaultdict(list)
    for e in evidence:
        groups[e.item].append(e)
    out = []
    for members in groups.values():
        if len(members) < MIN_CANDIDATES:
            continue
        for e in members:
            if e.detector_words and e.p_any is not None:
                out.append((e, [o.target for o in members if o is not e and o.target.strip()]))
    return out


def table(rows: list[tuple[Evidence, list[str]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    feats, y_any, y_major = [], [], []
    for e, peers in rows:
        assert e.p_any is not None and e.p_major is not None
        words = [(w.start, w.end) for w in e.detector_words]
        feats.append(peer_word_features(e.target, words, e.p_any, e.p_major, peers))
        labels = e.word_labels()
        y_any.append(labels[0])
        y_major.append(labels[1])
    return np.concatenate(feats), np.concatenate(y_any), np.concatenate(y_major)


#: The second stage reads 15 features, not the detector's hundred: shallower, slower trees.
STAGE = DetectorSettings(learning_rate=0.1, max_depth=6)


def fit(x: np.ndarray, y: np.ndarray, settings: DetectorSettings = STAGE) -> Any:
    return boosted_trees(settings).fit(x, y)


def spans_of(rows: list[tuple[Evidence, list[str]]], probs: list[tuple], t: tuple) -> list[Spans]:
    out = []
    for (e, _), (pa, pm) in zip(rows, probs, strict=True):
        starts = np.array([w.start for w in e.detector_words])
        ends = np.array([w.end for w in e.detector_words])
        out.append([(s.start, s.end) for s in spans_from_probs(starts, ends, pa, pm, *t)])
    return out


def best(rows: list[tuple[Evidence, list[str]]], probs: list[tuple]) -> tuple[tuple, float]:
    evidence = [e for e, _ in rows]
    scored = {
        (a, m): evaluate(evidence, spans_of(rows, probs, (a, m)))["major"]["F1"]
        for a in ANY_GRID
        for m in MAJOR_GRID
    }
    key = max(scored, key=lambda k: scored[k])
    return key, scored[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", default=str(PEER_DETECTOR_PATH), help="artefact path without suffix"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    scorer = Scorer.load()
    train = cached_extract(scorer, MQM / "train.jsonl")
    cached_cross_fit(scorer, MQM / "train.jsonl", train)
    dev = cached_extract(scorer, MQM / "dev.jsonl")
    train_rows, dev_rows = with_peers(train), with_peers(dev)
    x, y_any, y_major = table(train_rows)
    dx, dy_any, dy_major = table(dev_rows)
    print(f"train {len(train_rows)} rows {len(x)} words; dev {len(dev_rows)} rows {len(dx)} words")
    from sklearn.metrics import roc_auc_score

    heads = {"any": fit(x, y_any), "major": fit(x, y_major)}
    p = {h: clf.predict_proba(dx)[:, 1] for h, clf in heads.items()}
    auroc = {
        "stacked": {
            "any": round(float(roc_auc_score(dy_any, p["any"])), 4),
            "major": round(float(roc_auc_score(dy_major, p["major"])), 4),
        },
        "target_only": {
            "any": round(float(roc_auc_score(dy_any, dx[:, 0])), 4),
            "major": round(float(roc_auc_score(dy_major, dx[:, 1])), 4),
        },
    }
    print("word AUROC", auroc)
    probs, at = [], 0
    for e, _ in dev_rows:
        n = len(e.detector_words)
        probs.append((p["any"][at : at + n], p["major"][at : at + n]))
        at += n
    thresholds, f1 = best(dev_rows, probs)
    docs = sorted({e.item.split("|")[1] for e, _ in dev_rows})
    half_a = set(docs[::2])
    a_idx = [i for i, (e, _) in enumerate(dev_rows) if e.item.split("|")[1] in half_a]
    b_idx = [i for i, (e, _) in enumerate(dev_rows) if e.item.split("|")[1] not in half_a]
    (ta, _) = best([dev_rows[i] for i in a_idx], [probs[i] for i in a_idx])
    b_rows, b_probs = [dev_rows[i] for i in b_idx], [probs[i] for i in b_idx]
    half_b = evaluate([e for e, _ in b_rows], spans_of(b_rows, b_probs, ta))["major"]["F1"]
    out = Path(args.out)
    arrays: dict[str, np.ndarray] = {}
    for head, clf in heads.items():
        arrays |= {f"{head}.{k}": v for k, v in export_trees(clf).items()}
    np.savez_compressed(out.with_suffix(".npz"), **arrays)
    meta = {
        "features": list(PEER_WORD_FEATURES),
        "thresholds": {"any": thresholds[0], "major": thresholds[1]},
        "threshold_choice": "Major character F1 on MQM dev (benchmarks/peer_detector.py)",
        "model": "2 x sklearn HistGradientBoosting exported to arrays",
        "train_rows": len(train_rows),
        "train_words": int(len(x)),
        "inputs": "target-only detector probabilities (cross-fitted on train) + peer support",
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out}.npz/.json")
    load_peer_detector.cache_clear()
    model = load_peer_detector(out)
    evidence = [e for e, _ in dev_rows]
    shown_today: list[Spans] = []
    peer_aware: list[Spans] = []
    rejudge_seconds = 0.0  # the peer-aware detector's own cost, rows one at a time
    for e, peers in dev_rows:
        assert e.p_any is not None and e.p_major is not None
        mine = peer_words([e.target, *peers])[0]
        found = learned_spans(e.target, e.detector_words, e.p_any, e.p_major) + peer_spans(mine)
        shown_today.append([(s.start, s.end) for s in found])
        words = [(w.start, w.end) for w in e.detector_words]
        began = time.perf_counter()
        spans = peer_aware_spans(e.target, words, e.p_any, e.p_major, peers, model)[0]
        rejudge_seconds += time.perf_counter() - began
        peer_aware.append([(s.start, s.end) for s in spans])
    methods = {
        "peer_aware_detector": evaluate(evidence, peer_aware),
        "detector_plus_unsupported_words (0.7 --peers)": evaluate(evidence, shown_today),
        "detector_only": evaluate(
            evidence,
            [
                [(s.start, s.end) for s in learned_spans(e.target, e.detector_words, a, m)]
                for e in evidence
                for a, m in [(e.p_any, e.p_major)]
                if a is not None and m is not None
            ],
        ),
        "whole_segment": evaluate(evidence, [[(0, len(e.target))] for e in evidence]),
    }
    result = {
        "dev_rows": len(dev_rows),
        "dev_words": len(dx),
        "train_rows": len(train_rows),
        "train_words": len(x),
        "features": list(PEER_WORD_FEATURES),
        "word_auroc": auroc,
        "thresholds": {"any": thresholds[0], "major": thresholds[1]},
        "major_f1_at_chosen": f1,
        "half_check": {
            "thresholds_on_half_a": ta,
            "major_f1_on_half_b": half_b,
            "major_f1_on_half_b_own_best": best(b_rows, b_probs)[1],
        },
        "methods": methods,
        "rejudge_ms_per_row": round(1000 * rejudge_seconds / len(dev_rows), 2),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"{'method':46}{'Major P':>9}{'R':>7}{'F1':>7}{'all F1':>8}{'MCC':>8}")
    for name, m in methods.items():
        a, b = m["major"], m["major_minor"]
        print(
            f"{name:46}{a['P']:9.3f}{a['R']:7.3f}{a['F1']:7.3f}{b['F1']:8.3f}{m['word_mcc']:8.3f}"
        )
    print(f"thresholds {thresholds}; half check {result['half_check']}")
    print(f"re-judging a row's words with its peers: {result['rejudge_ms_per_row']} ms")
    write_result("peer-detector", result)


if __name__ == "__main__":
    main()
