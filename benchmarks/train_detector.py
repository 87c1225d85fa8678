"""Train the word-level span detector (`mtqa/scoring/data/detector.npz`) on MQM train spans.

Reads the calibration evidence of train and dev (every row in its document's context, with the
detector's inputs per word; `benchmarks/evidence_jobs.py` fills that cache with several
processes), fits the two heads on *all* train words (`mtqa.calibration.detector_fit`), then
chooses the span thresholds on dev (Major character F1; the same choice made on one half of
the dev documents is reported on the other half as a check on optimism). `--mlp` also fits a
small MLP on the same inputs and prints both on dev (word AUROC, Major F1 at the best
thresholds), the comparison the detector's model family was chosen by.
Run: `.venv/bin/python benchmarks/train_detector.py [--out PATH] [--mlp]`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import MQM, write_result
from spans import char_prf

from mtqa.calibration.detector_fit import DetectorSettings, fit_detector, word_table
from mtqa.calibration.evidence import Evidence, attach_probabilities, cached_extract
from mtqa.scoring import Scorer
from mtqa.scoring.detector import DEFAULT_PATH, spans_from_probs
from mtqa.scoring.word_features import feature_names

ANY_GRID = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
MAJOR_GRID = (0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3)


def spans_at(rows: list[Evidence], t_any: float, t_major: float) -> list[list[tuple[int, int]]]:
    out = []
    for e in rows:
        if not e.detector_words or e.p_any is None or e.p_major is None:
            out.append([])
            continue
        starts = np.array([w.start for w in e.detector_words])
        ends = np.array([w.end for w in e.detector_words])
        found = spans_from_probs(starts, ends, e.p_any, e.p_major, t_any, t_major)
        out.append([(s.start, s.end) for s in found])
    return out


def best_thresholds(rows: list[Evidence]) -> tuple[tuple[float, float], float]:
    """The (any, Major) thresholds with the best Major character F1 on `rows`."""
    scored = {
        (a, m): char_prf(rows, spans_at(rows, a, m), ("Major",))["F1"]
        for a in ANY_GRID
        for m in MAJOR_GRID
    }
    best = max(scored, key=lambda k: scored[k])
    return best, scored[best]


def word_auroc(rows: list[Evidence]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    _, _, y_any, y_major = word_table(rows)
    p_any = np.concatenate([e.p_any for e in rows if e.p_any is not None and e.detector_words])
    p_major = np.concatenate(
        [e.p_major for e in rows if e.p_major is not None and e.detector_words]
    )
    return {
        "any": round(float(roc_auc_score(y_any, p_any)), 4),
        "major": round(float(roc_auc_score(y_major, p_major)), 4),
    }


def dev_figures(dev: list[Evidence]) -> dict[str, Any]:
    (t_any, t_major), f1 = best_thresholds(dev)
    docs = sorted({e.item.split("|")[1] for e in dev})
    first = set(docs[::2])
    half_a = [e for e in dev if e.item.split("|")[1] in first]
    half_b = [e for e in dev if e.item.split("|")[1] not in first]
    (ha, hm), _ = best_thresholds(half_a)
    return {
        "thresholds": {"any": t_any, "major": t_major},
        "major_f1": f1,
        "word_auroc": word_auroc(dev),
        "half_check": {
            "thresholds_on_half_a": {"any": ha, "major": hm},
            "major_f1_on_half_b": char_prf(half_b, spans_at(half_b, ha, hm), ("Major",))["F1"],
            "major_f1_on_half_b_own_best": best_thresholds(half_b)[1],
        },
    }


def mlp_probabilities(train: list[Evidence], dev: list[Evidence], pca: int) -> None:
    """Fit an MLP per head on the trees' inputs (standardised) and attach its dev probabilities."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    feats, hidden, y_any, y_major = word_table(train)
    mean = hidden.mean(0)
    components = np.linalg.svd(hidden[::5] - mean, full_matrices=False)[2][:pca]
    design = np.hstack([feats, (hidden - mean) @ components.T])
    scaler = StandardScaler().fit(design)
    d_feats, d_hidden, _, _ = word_table(dev)
    d_design = scaler.transform(np.hstack([d_feats, (d_hidden - mean) @ components.T]))
    probs = {}
    for head, labels in (("any", y_any), ("major", y_major)):
        clf = MLPClassifier(
            hidden_layer_sizes=(128,),
            alpha=1e-3,
            early_stopping=True,
            max_iter=60,
            random_state=13,
        )
        clf.fit(scaler.transform(design), labels)
        probs[head] = clf.predict_proba(d_design)[:, 1]
    at = 0
    for e in dev:
        if e.word_feats is None or not e.detector_words:
            continue
        n = len(e.detector_words)
        e.p_any, e.p_major = probs["any"][at : at + n], probs["major"][at : at + n]
        at += n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pca", type=int, default=32)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--out", default=str(DEFAULT_PATH), help="artefact path without suffix")
    parser.add_argument("--mlp", action="store_true", help="also fit and measure an MLP")
    parser.add_argument(
        "--synthetic", default=None, help="MQM-style JSONL of synthetic errors to compare"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    scorer = Scorer.load()
    train = cached_extract(scorer, MQM / "train.jsonl")
    dev = cached_extract(scorer, MQM / "dev.jsonl")
    settings = DetectorSettings(pca=args.pca, trees=args.trees)
    detector, arrays = fit_detector(train, settings)
    attach_probabilities(dev, detector)
    figures = {"trees": dev_figures(dev)}
    print(f"trees on dev: {figures['trees']}  ({time.perf_counter() - start:.0f} s)")
    out = Path(args.out)
    np.savez_compressed(out.with_suffix(".npz"), **arrays)
    meta = {
        "features": feature_names(),
        "pca": args.pca,
        "train_rows": len(train),
        "train_words": detector.meta["train_words"],
        "thresholds": figures["trees"]["thresholds"],
        "threshold_choice": "Major character F1 on MQM dev (benchmarks/train_detector.py)",
        "model": "2 x sklearn HistGradientBoosting exported to arrays",
        "iters": args.trees,
        "lm": f"{scorer.lm.name}, document context, window {scorer.config.window}",
        "inputs": "target only",
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out}.npz/.json")
    if args.mlp:
        mlp_probabilities(train, dev, args.pca)
        figures["mlp"] = dev_figures(dev)
        print(f"MLP on dev: {figures['mlp']}")
    if args.synthetic:
        extra = cached_extract(scorer, args.synthetic)
        with_synthetic, _ = fit_detector(train + extra, settings)
        attach_probabilities(dev, with_synthetic)
        figures["trees_with_synthetic"] = dev_figures(dev)
        figures["synthetic_rows"] = len(extra)
        print(f"trees + {len(extra)} synthetic rows on dev: {figures['trees_with_synthetic']}")
    figures["seconds"] = round(time.perf_counter() - start, 1)
    write_result("detector-train", figures)


if __name__ == "__main__":
    main()
